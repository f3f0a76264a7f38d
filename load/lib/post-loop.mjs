// Closed-loop POSTs into a ledger: `connections` workers, each sending its
// next message as soon as the previous one is answered, until `total` are
// sent. What the integration tests (test/helpers/edge-client.mjs postMany)
// and the bench's delivery feeds do; the open-model load runner
// (arrivals.mjs) is the other way to send, for latency under a fixed rate.
import { Agent, request } from 'undici';
import { batchUuids, createLedger } from './ledger.mjs';
import { ndjsonOf, numberedEventJson, posEventJson } from './payload.mjs';

/**
 * POST message i = 0 .. total-1 to base + path(i) with body(i) and
 * headers(i). A 200 whose JSON has a uuid goes into the ledger (with
 * { i, path, body, seq } when `details`); another status is a refusal; a
 * network error or timeout is an error. `stopWhen()` ends the loop early;
 * `onAck(ackedSoFar)` is called after each acknowledgement. With
 * `retryUnavailable` > 0, a 503 (not stored; the daemon asks to come back)
 * is sent again after a short wait, as a well-behaved client does, that many
 * times at most; the ledger's `unavailable` counts those 503s.
 * Returns the ledger (acked: Set of uuids, refused: Map status → n, errors, sent).
 */
export async function postLoop(base, {
  total,
  connections = 64,
  path = (i) => `/rx/p${i % 17}/k${i % 5}/load/l${i % 3}`,
  body = numberedEventJson,
  headers = () => ({}),
  stopWhen,
  onAck,
  details = false,
  timeoutMs = 30_000,
  retryUnavailable = 0,
} = {}) {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000, connect: { timeout: 5_000 } });
  const ledger = createLedger({ details });
  async function worker() {
    while (ledger.sent < total && !stopWhen?.()) {
      const i = ledger.sent++;
      const p = path(i);
      const b = body(i);
      try {
        let r;
        let text;
        for (let attempt = 0; ; attempt++) {
          r = await request(base + p, {
            method: 'POST', body: b, dispatcher: agent,
            headers: { 'content-type': 'application/json', ...headers(i) },
            headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
          });
          text = await r.body.text();
          if (r.statusCode !== 503 || attempt >= retryUnavailable || stopWhen?.()) break;
          ledger.unavailable = (ledger.unavailable ?? 0) + 1;
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
        }
        if (r.statusCode === 200) {
          const j = JSON.parse(text);
          ledger.ack(j.uuid, details ? { i, path: p, body: b, seq: j.seq } : undefined);
          onAck?.(ledger.acked.size);
        } else ledger.refuse(r.statusCode);
      } catch {
        ledger.error();
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    await agent.close().catch(() => {});
  }
  return ledger;
}

/**
 * Post `total` messages as NDJSON batches of `lines` to /rxb, from `keys`
 * producer/key pairs (even over the shards, as a fleet is), each batch under
 * its own Idempotency-Key so that every line's uuid is known to the ledger
 * (ledger.mjs batchUuids). Returns the ledger, with `seconds` (the feed's
 * own time) added.
 */
export async function postBatches(base, total, { lines = 500, concurrency = 8, keys = 64, make = posEventJson, producer = 'bench', label = 'delivery', runTag = Math.random().toString(36).slice(2, 8) } = {}) {
  const body = ndjsonOf(lines, make);
  const agent = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const ledger = createLedger();
  let next = 0;
  const t0 = performance.now();
  async function worker() {
    while (next * lines < total) {
      const n = next++;
      const key = `k${n % keys}`;
      const idem = `${runTag}-${n}`;
      ledger.sent += lines;
      try {
        const r = await request(`${base}/rxb/${producer}/${key}/${label}`, {
          method: 'POST', body, dispatcher: agent, headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': idem },
        });
        const j = await r.body.json();
        if (r.statusCode !== 200) {
          ledger.refuse(r.statusCode);
          continue;
        }
        const uuids = batchUuids(producer, key, idem, j.count);
        if (uuids[0] !== j.uuid) throw new Error(`/rxb answered uuid ${j.uuid} for line 0 of ${idem}; the ledger computed ${uuids[0]} (did the Idempotency-Key uuid scheme change?)`);
        for (const u of uuids) ledger.ack(u);
      } catch (e) {
        if (e.message.startsWith('/rxb answered')) throw e;
        ledger.error();
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await agent.close().catch(() => {});
  }
  ledger.seconds = (performance.now() - t0) / 1000;
  return ledger;
}
