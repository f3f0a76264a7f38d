// ShardDrainer against an in-memory shard and sink (pure logic: what it
// reads, sends, deletes and re-sends). Delivery into real receivers and
// Elasticsearch is proven by the integration and chaos suites.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShardDrainer } from '../../dist/forward/drainer.js';

/** The part of a decoded lmdb-js shard the drainer uses, over a sorted Map. */
class MemoryShard {
  constructor() {
    this.rows = new Map();
    this.failNextCommits = 0;
    this.reads = 0;
  }
  add(n, from = 0) {
    for (let i = from; i < from + n; i++) {
      const seq = String(i).padStart(19, '0');
      this.rows.set(seq, ['2026-11-30T00:00:00.000Z', `uuid-${i}`, 'p', 'k', '/l', `{"i":${i}}`]);
    }
  }
  *getRange({ start, exclusiveStart, limit }) {
    const keys = [...this.rows.keys()].sort().filter((k) => start === undefined || (exclusiveStart ? k > start : k >= start)).slice(0, limit);
    for (const key of keys) {
      this.reads++;
      yield { key, value: this.rows.get(key) };
    }
  }
  doesExist(key) {
    return this.rows.has(key);
  }
  remove(key) {
    this.pendingRemoves.push(key);
  }
  async transaction(fn) {
    this.pendingRemoves = [];
    fn();
    if (this.failNextCommits > 0) {
      this.failNextCommits--;
      throw new Error('MDB_MAP_FULL: simulated commit failure');
    }
    for (const k of this.pendingRemoves) this.rows.delete(k);
  }
}

class RecordingSink {
  constructor() {
    this.batches = [];
  }
  async deliver(messages) {
    this.batches.push(messages.map((m) => m.uuid));
  }
  async close() {}
}

/** A running drainer; stopped after the test whatever happens (`t.after`). */
function drainer(t, db, sink, extra = {}) {
  const events = { delivered: 0, failed: [] };
  const d = new ShardDrainer({
    shard: 0, db, sink, batch: 100, batchBytes: 1 << 20, intervalMs: 20, inflight: 2,
    deliverTimeoutMs: 1000, retryCapMs: 50, pollMs: 2,
    onDelivered: (count) => (events.delivered += count),
    onFailed: (count, reason) => events.failed.push(reason),
    ...extra,
  });
  const running = d.run();
  t.after(async () => {
    d.stopAt(Date.now());
    await running;
  });
  return { d, events, running };
}

async function until(check, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('every record is read once while its batch fills, and sent once', async (t) => {
  const db = new MemoryShard();
  const sink = new RecordingSink();
  const { d, running } = drainer(t, db, sink, { batch: 1000, intervalMs: 300 });
  // Records arrive a few at a time while the batch waits for its interval.
  for (let i = 0; i < 10; i++) {
    db.add(5, i * 5);
    await new Promise((r) => setTimeout(r, 10));
  }
  await until(() => db.rows.size === 0);
  d.stopAt(Date.now());
  await running;
  const sent = sink.batches.flat();
  assert.deepEqual(new Set(sent), new Set(Array.from({ length: 50 }, (_, i) => `uuid-${i}`)));
  assert.equal(sent.length, 50, 'no message sent twice');
  // One read per record, plus at most one look-ahead row per look.
  assert.ok(db.reads <= 50 + 50, `records read ${db.reads} times for 50 records`);
});

test('full batches go at once, in key order, without waiting for the interval', async (t) => {
  const db = new MemoryShard();
  db.add(350);
  const sink = new RecordingSink();
  const { d, running } = drainer(t, db, sink, { batch: 100, intervalMs: 60_000 });
  await until(() => sink.batches.length >= 3);
  d.stopAt(Date.now());
  await running;
  assert.deepEqual(sink.batches.slice(0, 3).map((b) => b.length), [100, 100, 100]);
  assert.equal(sink.batches[0][0], 'uuid-0');
  assert.equal(sink.batches[2][99], 'uuid-299');
  assert.equal(db.rows.size, 50, 'the partial batch waits for its interval');
});

test('a delivered batch whose delete fails is sent again, then deleted; nothing lost', async (t) => {
  const db = new MemoryShard();
  db.add(30);
  db.failNextCommits = 1;
  const sink = new RecordingSink();
  const { d, events, running } = drainer(t, db, sink, { inflight: 1 });
  await until(() => db.rows.size === 0);
  d.stopAt(Date.now());
  await running;
  assert.match(events.failed[0], /delivered batch not deleted: .*MDB_MAP_FULL/);
  const all = Array.from({ length: 30 }, (_, i) => `uuid-${i}`);
  // First send, then the resend of the same messages after the failed delete.
  assert.deepEqual(sink.batches[0], all);
  assert.deepEqual(sink.batches[1], all);
  assert.equal(sink.batches.length, 2);
  assert.equal(events.delivered, 30, 'counted delivered once, when the delete held');
});

test('after an outage a shard retries oldest first: younger batches wait for older ones', async (t) => {
  const db = new MemoryShard();
  db.add(40);
  let down = true;
  const attempts = [];
  const sink = {
    async deliver(messages) {
      const failing = down;
      attempts.push({ first: messages[0].uuid, down: failing });
      // The older batch is slower to answer, so a free-for-all would deliver the younger first.
      await new Promise((r) => setTimeout(r, messages[0].uuid === 'uuid-0' ? 30 : 1));
      if (failing) throw Object.assign(new Error('sink away'), { retryAfterMs: 5 });
    },
    async close() {},
  };
  const { d, running } = drainer(t, db, sink, { batch: 20, inflight: 2, intervalMs: 1 });
  await until(() => attempts.filter((a) => a.down).length >= 6);
  down = false;
  await until(() => db.rows.size === 0);
  d.stopAt(Date.now());
  await running;
  const afterOutage = attempts.filter((a) => !a.down).map((a) => a.first);
  // The first attempt once the sink is back is the oldest batch, and the younger one goes only after it.
  assert.deepEqual(afterOutage, ['uuid-0', 'uuid-20']);
  // While down, only the oldest batch kept retrying (the younger failed once, then waited).
  assert.equal(attempts.filter((a) => a.down && a.first === 'uuid-20').length, 1);
});

test('a batch sharing an Idempotency-Key uuid (v5) with an older one is sent only after it; v4 batches go at once', async (t) => {
  const db = new MemoryShard();
  const keyed = '6f1c2d3e-4b5a-5c6d-8e7f-a1b2c3d4e5f6'; // version digit 5
  db.add(4);
  // Records 0 and 2 carry the same keyed uuid (a client's retry); 1 and 3 are random (v4-like).
  for (const [i, uuid] of [[0, keyed], [1, 'a93cfe42-79c5-4a32-9dc0-6b77b68d0926'], [2, keyed], [3, 'b93cfe42-79c5-4a32-9dc0-6b77b68d0926']]) {
    db.rows.get(String(i).padStart(19, '0'))[1] = uuid;
  }
  const events = [];
  const sink = {
    async deliver(messages) {
      const id = messages.map((m) => m.payloadJson).join('');
      events.push(`start ${id}`);
      // The first batch is slow: a free-for-all would start the third before it ends.
      await new Promise((r) => setTimeout(r, id.includes('"i":0') ? 60 : 1));
      events.push(`end ${id}`);
    },
    async close() {},
  };
  const { d, running } = drainer(t, db, sink, { batch: 1, inflight: 3, intervalMs: 1 });
  await until(() => db.rows.size === 0);
  d.stopAt(Date.now());
  await running;
  const at = (e) => events.indexOf(e);
  assert.ok(at('end {"i":0}') < at('start {"i":2}'), `the retry's copy went before the first ended: ${events}`);
  assert.ok(at('start {"i":1}') < at('end {"i":0}'), `a random-uuid batch waited needlessly: ${events}`);
});

test("a stage's Retry-After is waited at least, plus up to half again at random (edges do not return in lockstep)", async (t) => {
  const db = new MemoryShard();
  db.add(1);
  const at = [];
  const sink = {
    async deliver() {
      at.push(performance.now());
      if (at.length < 8) throw Object.assign(new Error('busy'), { retryAfterMs: 40 });
    },
    async close() {},
  };
  const { d, running } = drainer(t, db, sink, { inflight: 1, intervalMs: 1 });
  await until(() => db.rows.size === 0);
  d.stopAt(Date.now());
  await running;
  const waits = at.slice(1).map((x, i) => x - at[i]);
  for (const w of waits) assert.ok(w >= 39 && w <= 75, `waited ${w.toFixed(1)} ms after Retry-After 40 ms: ${waits}`);
  assert.ok(Math.max(...waits) - Math.min(...waits) > 2, `waits not spread: ${waits}`);
});
