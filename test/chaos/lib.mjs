// Shared pieces of the chaos suite: a load generator that survives the
// daemon dying under it, a full scan of a test's Elasticsearch indices, and
// the lost / duplicated ledger every scenario reports.
import { Agent, request } from 'undici';
import { ES_URL, es } from '../helpers/es.mjs';
import { stats } from '../helpers/daemon.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const rand = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));

/**
 * Post continuously at whatever `target()` returns (a base URL, or null when
 * the daemon is down) until stop() or `max` requests. Every body carries a
 * unique tag `${run}-${i}` so duplicates can be found even if a uuid changed.
 * Connection errors (the daemon was killed mid-request) are counted, never
 * retried: such a message may or may not be stored, and is never "acked".
 */
export function startLoad(target, { connections = 16, max = 1_000_000, run = 'r', path = (i) => `/rx/chaos${i % 7}/k${i % 3}/load/test`, maxMs = 600_000, rxbEvery = 0, rxbLines = 5 } = {}) {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000, connect: { timeout: 2000 }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const acked = new Set();
  const ackedTags = new Set();
  const refused = new Map();
  const errorCodes = {};
  let errors = 0;
  let next = 0;
  let stopped = false;
  const deadline = Date.now() + maxMs;
  async function worker() {
    while (!stopped && next < max && Date.now() < deadline) {
      const base = target();
      if (!base) {
        await sleep(20);
        continue;
      }
      const i = next++;
      // Every rxbEvery-th request is an /rxb of rxbLines NDJSON lines, all
      // committed together: an ack covers every one of their tags.
      const batch = rxbEvery > 0 && i % rxbEvery === 0;
      const tags = batch ? Array.from({ length: rxbLines }, (_, j) => `${run}-${i}-${j}`) : [`${run}-${i}`];
      try {
        const r = await request(base + (batch ? path(i).replace(/^\/rx\//, '/rxb/') : path(i)), {
          method: 'POST', dispatcher: agent,
          headers: { 'content-type': batch ? 'application/x-ndjson' : 'application/json' },
          body: tags.map((tag) => JSON.stringify({ tag, i, amount: i % 1000 })).join('\n'),
        });
        const text = await r.body.text();
        if (r.statusCode === 200) {
          acked.add(JSON.parse(text).uuid);
          for (const t of tags) ackedTags.add(t);
        } else {
          refused.set(r.statusCode, (refused.get(r.statusCode) ?? 0) + 1);
          if (r.statusCode === 503) await sleep(50);
        }
      } catch (e) {
        errors++;
        const code = e?.code ?? e?.cause?.code ?? e?.name ?? 'error';
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        await sleep(20);
      }
    }
  }
  const done = Promise.all(Array.from({ length: connections }, worker)).then(async () => {
    await agent.destroy().catch(() => {});
    return { acked, ackedTags, refused, errors, errorCodes, sent: next };
  });
  return {
    acked, ackedTags, refused,
    get sent() { return next; },
    get errors() { return errors; },
    stop() { stopped = true; return done; },
    done,
  };
}

/** Every document in `indices`: [{ id, index, uuid, tag, idem }]. Uses a PIT + search_after. */
export async function scanDocs(indices, url = ES_URL) {
  await es(`/${indices}/_refresh`, { method: 'POST', url });
  const pit = await es(`/${indices}/_pit?keep_alive=1m&allow_no_indices=true&ignore_unavailable=true`, { method: 'POST', url });
  if (pit.status !== 200) return [];
  const out = [];
  let after;
  for (;;) {
    const body = {
      size: 5000, pit: { id: pit.body.id, keep_alive: '1m' }, sort: [{ _shard_doc: 'asc' }],
      _source: ['rxtxMsg.uuid', 'rxtxMsg.seq', 'rxtxMsg.payload.tag', 'rxtxMsg.payload.idem'], track_total_hits: false,
    };
    if (after) body.search_after = after;
    const r = await es('/_search', { method: 'POST', url, body });
    if (r.status !== 200) throw new Error(`scan failed: ${JSON.stringify(r.body).slice(0, 500)}`);
    const hits = r.body.hits.hits;
    for (const h of hits) {
      const m = h._source?.rxtxMsg ?? {};
      out.push({ id: h._id, index: h._index, uuid: m.uuid, seq: m.seq, tag: m.payload?.tag, idem: m.payload?.idem });
    }
    if (hits.length < 5000) break;
    after = hits[hits.length - 1].sort;
  }
  await es('/_pit', { method: 'DELETE', url, body: { id: pit.body.id } }).catch(() => {});
  return out;
}

/**
 * The ledger: lost = acked uuids with no document; duplicated = documents
 * beyond the first for one uuid (across daily indices) or for one body tag.
 */
export function ledger(docs, acked, ackedTags) {
  const byId = new Map();
  const byTag = new Map();
  for (const d of docs) {
    byId.set(d.id, (byId.get(d.id) ?? 0) + 1);
    if (d.tag !== undefined) byTag.set(d.tag, (byTag.get(d.tag) ?? 0) + 1);
  }
  let dupIds = 0;
  for (const n of byId.values()) dupIds += n - 1;
  let dupTags = 0;
  for (const n of byTag.values()) dupTags += n - 1;
  // Lost: an acked uuid (the first line's, for /rxb) or an acked tag (every line) with no document.
  const lostIds = [...acked].filter((u) => !byId.has(u));
  const lostTags = ackedTags ? [...ackedTags].filter((t) => !byTag.has(t)) : [];
  const lost = lostTags.length > lostIds.length ? lostTags : lostIds;
  const unacked = ackedTags
    ? [...byTag.keys()].filter((t) => !ackedTags.has(t)).length
    : [...byId.keys()].filter((u) => !acked.has(u)).length;
  // /rxb atomicity: the lines of one request (tags run-i-j) are all there or none.
  const perRequest = new Map();
  for (const t of byTag.keys()) {
    const m = /^(.+-\d+)-\d+$/.exec(t);
    if (m) perRequest.set(m[1], (perRequest.get(m[1]) ?? 0) + 1);
  }
  const lines = Math.max(0, ...perRequest.values());
  const partialBatches = [...perRequest.values()].filter((n) => n !== lines).length;
  // seq is unique within one edge (across its restarts on the same --path).
  const seqs = new Set();
  let seqReused = 0;
  for (const d of docs) {
    if (d.seq === undefined) continue;
    if (seqs.has(d.seq)) seqReused++;
    seqs.add(d.seq);
  }
  return {
    partialBatches, seqReused,
    documents: docs.length, lost: lost.length, lostSample: lost.slice(0, 3),
    duplicated: Math.max(dupIds, dupTags), unacked, messagesAcked: ackedTags?.size ?? acked.size,
  };
}

export function mergeRefused(...maps) {
  const out = {};
  for (const m of maps) for (const [k, v] of m instanceof Map ? m : Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Wait until the daemon's store is empty and stays so for a moment. */
export async function waitDrained(url, timeoutMs = 180_000) {
  const until = Date.now() + timeoutMs;
  let zeros = 0;
  let last;
  while (Date.now() < until) {
    try {
      last = (await stats(url)).edge;
      zeros = last.inQueue === 0 ? zeros + 1 : 0;
      if (zeros >= 3) return last;
    } catch {}
    await sleep(300);
  }
  throw new Error(`store did not drain in ${timeoutMs} ms (inQueue ${last?.inQueue})`);
}

/** Poll scanDocs until every acked uuid is present (or timeout); returns the last docs. */
export async function waitDocs(indices, acked, timeoutMs = 60_000, url = ES_URL) {
  const until = Date.now() + timeoutMs;
  let docs;
  for (;;) {
    docs = await scanDocs(indices, url);
    const ids = new Set(docs.map((d) => d.id));
    let missing = 0;
    for (const u of acked) if (!ids.has(u)) missing++;
    if (missing === 0 || Date.now() > until) return docs;
    await sleep(1000);
  }
}

export function result(name, fields) {
  const r = { name, acked: 0, documents: 0, lost: 0, duplicated: 0, refused: {}, notes: '', ...fields };
  r.pass = r.lost === 0 && r.duplicated === 0 && (fields.checks ?? []).every((c) => c.ok);
  if (fields.checks) {
    const failed = fields.checks.filter((c) => !c.ok).map((c) => c.what);
    if (failed.length) r.notes = `${r.notes}${r.notes ? '; ' : ''}FAILED: ${failed.join('; ')}`;
    delete r.checks;
  }
  return r;
}

/**
 * Delete a testIndex()'s indices and templates (the helper resolves the
 * names first: Elasticsearch 8 refuses wildcard deletes).
 */
export async function cleanupIndex(idx, url = ES_URL) {
  await idx.cleanup(url);
}
