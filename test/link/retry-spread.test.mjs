// Retry spread (issue 11): 200 simulated edge forwarders against a stage that
// answers 503 with Retry-After: 1 for 10 s, then 200. Each forwarder is the
// edge's own code: a ShardDrainer (dist/forward/drainer.js: retries, backoff,
// the Retry-After spread) posting through an HttpSink (dist/sinks/http.js,
// the edge's link, one keep-alive connection each) to a real HTTP stage on
// loopback. Only the shard is stood in for: an in-memory ordered map with the
// four calls the drainer makes of an LMDB shard, so that 200 of them fit in
// one process. Checks: after the stage recovers, the batches do not come back
// in lockstep (the most in any 100 ms window is reported and bounded), and
// every message arrives, exactly once (sets of uuids).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { ShardDrainer } from '../../dist/forward/drainer.js';
import { HttpSink } from '../../dist/sinks/http.js';
import { waitFor } from '../helpers/daemon.mjs';

const FORWARDERS = 200;
const PER_FORWARDER = 5;
const DOWN_MS = 10_000;
const WINDOW_MS = 100;

/** The part of an LMDB shard (lmdb-js RootDatabase) the drainer uses, in memory. */
function memoryShard(records) {
  const map = new Map(records); // keys are inserted in order (seq strings sort as inserted)
  return {
    size: () => map.size,
    getRange({ start, exclusiveStart, limit }) {
      const out = [];
      for (const [key, value] of map) {
        if (start !== undefined && (key < start || (exclusiveStart && key === start))) continue;
        if (out.length >= limit) break;
        out.push({ key, value });
      }
      return out;
    },
    doesExist: (key) => map.has(key),
    remove: (key) => map.delete(key),
    transaction: async (fn) => fn(),
  };
}

/** Most events in any `width` ms window (sliding, anchored at each event). */
function peak(times, width) {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= width) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

test('200 forwarders against a stage answering 503 for 10 s: retries spread over time, nothing lost', { timeout: 120_000 }, async (t) => {
  let downUntil = 0;
  const refusedAt = [];
  const firstAt = [];
  const seenBatch = new Set();
  const acceptedAt = [];
  const received = new Map();
  const stage = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      const batch = JSON.parse(Buffer.concat(chunks).toString());
      const retry = seenBatch.has(batch.uuid);
      seenBatch.add(batch.uuid);
      if (!retry) firstAt.push(now);
      if (now < downUntil) {
        if (retry) refusedAt.push(now);
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"status":"FAIL","message":"output away"}');
        return;
      }
      acceptedAt.push(now);
      for (const m of batch.messages) received.set(m.uuid, (received.get(m.uuid) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    });
  });
  stage.keepAliveTimeout = 60_000;
  stage.maxConnections = FORWARDERS * 2;
  await new Promise((r) => stage.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { stage.closeAllConnections(); stage.close(r); }));
  const url = `http://127.0.0.1:${stage.address().port}/in`;

  const sent = new Set();
  const time = new Date().toISOString();
  const forwarders = [];
  for (let f = 0; f < FORWARDERS; f++) {
    const records = [];
    for (let i = 0; i < PER_FORWARDER; i++) {
      const uuid = randomUUID();
      sent.add(uuid);
      records.push([`20260101${String(f * 1000 + i).padStart(11, '0')}`, [time, uuid, `p${f}`, 'k', '/spread', `{"i":${i}}`]]);
    }
    const db = memoryShard(records);
    const sink = new HttpSink({ url, connections: 1, timeoutMs: 30_000 });
    const drainer = new ShardDrainer({
      shard: f, db, sink, batch: 5000, batchBytes: 16 << 20, intervalMs: 0, inflight: 1,
      deliverTimeoutMs: 30_000, retryCapMs: 10_000, pollMs: 20,
      onDelivered() {}, onFailed() {},
    });
    forwarders.push({ db, sink, drainer, run: undefined });
  }
  t.after(async () => {
    for (const f of forwarders) f.drainer.stopAt(Date.now());
    await Promise.allSettled(forwarders.map((f) => f.run));
    await Promise.allSettled(forwarders.map((f) => f.sink.close()));
  });

  const t0 = Date.now();
  downUntil = t0 + DOWN_MS;
  for (const f of forwarders) f.run = f.drainer.run();
  await waitFor('every forwarder to empty its shard', () => forwarders.every((f) => f.db.size() === 0), { timeoutMs: 60_000, everyMs: 50 });

  // Nothing lost, nothing twice.
  const missing = [...sent].filter((u) => !received.has(u));
  const twice = [...received].filter(([, n]) => n > 1);
  const extra = [...received.keys()].filter((u) => !sent.has(u));
  assert.deepEqual({ missing: missing.length, twice: twice.length, extra: extra.length }, { missing: 0, twice: 0, extra: 0 });
  assert.equal(acceptedAt.length, FORWARDERS);

  // The first attempts all come at once; what matters is the retries: those refused during the
  // outage, and the deliveries after it.
  const retries = refusedAt;
  const peakRetries = peak(retries, WINDOW_MS);
  const firstSpan = Math.max(...firstAt) - Math.min(...firstAt);
  const peakAfter = peak(acceptedAt, WINDOW_MS);
  const spanAfter = Math.max(...acceptedAt) - Math.min(...acceptedAt);
  t.diagnostic(`first attempts: ${firstAt.length} over ${firstSpan} ms, at most ${peak(firstAt, WINDOW_MS)} in any ${WINDOW_MS} ms; refused retries during the outage: ${retries.length}, at most ${peakRetries} in any ${WINDOW_MS} ms`);
  t.diagnostic(`after the outage: ${acceptedAt.length} batches over ${spanAfter} ms, at most ${peakAfter} in any ${WINDOW_MS} ms (lockstep would be ${FORWARDERS})`);
  // In lockstep all 200 would land in one window. With Retry-After plus up to half again at
  // random, after ~8 retries they are spread over seconds: 26 to 52 a window measured on a busy
  // machine; fail when half of them land in one.
  assert.ok(peakAfter < FORWARDERS / 2, `after the outage ${peakAfter} batches arrived within ${WINDOW_MS} ms`);
  assert.ok(spanAfter >= 500, `the batches after the outage came within ${spanAfter} ms`);
});
