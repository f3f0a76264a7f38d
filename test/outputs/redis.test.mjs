// The Redis output against a real redis-server: list mode (RPUSH, as libbeat)
// and stream mode (XADD) under load, every acknowledged uuid read back from
// Redis (sets compared), keys from the pattern; Redis killed mid-stream and
// restarted under load loses nothing acknowledged (duplicates only within
// the at-least-once guarantee, counted).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { postMany } from '../helpers/load.mjs';
import { compareSets } from '../helpers/opensearch.mjs';
import {
  assertAnswered, readLists, readStreams, REDIS_URL, requireRedis, requireRedisServerBinary, startRedisServer, testKey,
} from '../helpers/redis.mjs';

const day = () => new Date().toISOString().slice(0, 10).replace(/-/g, '.');
const FIELDS = ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload'];

test('spillway all --output redis (list): every acknowledged message in the lists the pattern names', { timeout: 240_000 }, async (t) => {
  if (!(await requireRedis(t))) return;
  const dir = tempDir();
  const k = testKey();
  const d = await startDaemon('all', [
    '--path', dir, '--output', 'redis', '--redis', REDIS_URL, '--interval', '0.2',
    '--redis-key', `${k.base}:%{[rxtxMsg.producer]}:%{+yyyy.MM.dd}`,
  ]);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await k.cleanup();
  });
  const load = await postMany(d.url, { total: 10_000, connections: 32 });
  assertAnswered(t, load, 10_000, d);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 180_000 });

  const keys = await k.keys();
  // postLoop's producers are p0 … p16.
  assert.deepEqual(keys, Array.from({ length: 17 }, (_, i) => `${k.base}:p${i}:${day()}`).sort());
  const events = await readLists(keys);
  const cmp = compareSets(load.acked, events.map((e) => e.rxtxMsg.uuid));
  assert.deepEqual({ missing: cmp.missing, extra: cmp.extra }, { missing: [], extra: [] });
  const s = (await stats(d.url)).outputs.redis;
  // At least once: a duplicate only comes with a resend, and each is counted.
  assert.ok(cmp.duplicates.length <= s.retried + s.requestFailures * 5000, `${cmp.duplicates.length} duplicates, stats ${JSON.stringify(s)}`);
  t.diagnostic(`duplicates: ${cmp.duplicates.length}, requests ${s.requests}, failed ${s.requestFailures}`);
  for (const e of events.slice(0, 50)) {
    assert.equal(e.type, 'rtbeat');
    assert.equal(e.clientIp, '127.0.0.1');
    assert.deepEqual(Object.keys(e.rxtxMsg), FIELDS);
    assert.equal(e['@timestamp'], e.rxtxMsg.time);
  }
  // Each list holds its producer's messages only, in the order they were stored.
  for (const key of keys) {
    const list = await readLists([key]);
    const producer = key.split(':')[1];
    assert.ok(list.every((e) => e.rxtxMsg.producer === producer), key);
  }
  assert.equal(s.delivered, load.acked.size + cmp.duplicates.length);
});

test('spillway all --output redis --redis-mode stream: XADD with the uuid as a field, every acknowledged message', { timeout: 240_000 }, async (t) => {
  if (!(await requireRedis(t))) return;
  const dir = tempDir();
  const k = testKey();
  const d = await startDaemon('all', [
    '--path', dir, '--output', 'redis', '--redis', REDIS_URL, '--interval', '0.2',
    '--redis-mode', 'stream', '--redis-key', `${k.base}-%{[rxtxMsg.key]}`,
  ]);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await k.cleanup();
  });
  const load = await postMany(d.url, { total: 10_000, connections: 32 });
  assertAnswered(t, load, 10_000, d);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 180_000 });

  const keys = await k.keys();
  assert.deepEqual(keys, ['k0', 'k1', 'k2', 'k3', 'k4'].map((x) => `${k.base}-${x}`));
  const entries = await readStreams(keys);
  for (const e of entries) assert.equal(e.uuid, e.event.rxtxMsg.uuid);
  const cmp = compareSets(load.acked, entries.map((e) => e.uuid));
  assert.deepEqual({ missing: cmp.missing, extra: cmp.extra }, { missing: [], extra: [] });
  const s = (await stats(d.url)).outputs.redis;
  assert.ok(cmp.duplicates.length <= s.retried + s.requestFailures * 5000, `${cmp.duplicates.length} duplicates, stats ${JSON.stringify(s)}`);
  t.diagnostic(`duplicates: ${cmp.duplicates.length}`);
  assert.deepEqual(Object.keys(entries[0].event.rxtxMsg), FIELDS);
});

for (const mode of ['list', 'stream']) {
  test(`Redis killed (SIGKILL) mid-stream and restarted under load (${mode}): nothing acknowledged lost, duplicates within the guarantee`, { timeout: 300_000 }, async (t) => {
    if (!requireRedisServerBinary(t)) return;
    const server = await startRedisServer();
    const dir = tempDir();
    const k = testKey();
    const shards = 4;
    const inflight = 2;
    const batch = 1000;
    const d = await startDaemon('all', [
      '--path', dir, '--output', 'redis', '--redis', `redis://127.0.0.1:${server.port}`, '--redis-mode', mode,
      '--redis-key', k.base, '--interval', '0.1', '--shards', String(shards), '--inflight', String(inflight),
      '--batch', String(batch), '--retry-max', '1',
    ]);
    t.after(async () => {
      await d.kill();
      removeDir(dir);
      await server.stop();
    });
    const opts = { port: server.port };
    const count = async () => {
      const { redisClient } = await import('../helpers/redis.mjs');
      const c = await redisClient(opts);
      try {
        return mode === 'list' ? await c.lLen(k.base) : await c.xLen(k.base);
      } finally {
        c.destroy();
      }
    };
    const load = postMany(d.url, { total: 20_000, connections: 16 });
    await waitFor('some messages in Redis', async () => (await count().catch(() => 0)) >= 2000, { timeoutMs: 120_000 });
    await server.kill(); // a crash: no SHUTDOWN, nothing flushed that was not already synced
    const failedBefore = (await stats(d.url)).outputs.redis.requestFailures;
    await waitFor('deliveries to fail while Redis is away', async () => (await stats(d.url)).outputs.redis.requestFailures > failedBefore, { timeoutMs: 30_000 });
    await waitFor('/readyz to name Redis', async () => {
      const r = await fetch(`${d.url}/readyz`);
      return r.status === 503 || (await stats(d.url)).outputs.redis.ready === false;
    }, { timeoutMs: 30_000 });
    await server.start();
    const done = await load;
    assertAnswered(t, done, 20_000, d);
    await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 180_000 });

    const found = mode === 'list'
      ? (await readLists([k.base], opts)).map((e) => e.rxtxMsg.uuid)
      : (await readStreams([k.base], opts)).map((e) => e.uuid);
    const cmp = compareSets(done.acked, found);
    assert.deepEqual(cmp.missing, [], `${cmp.missing.length} acknowledged messages lost`);
    assert.deepEqual(cmp.extra, []);
    // Only the batches out when Redis went away can be written twice: those
    // Redis applied (and synced) whose answer never came back.
    const bound = shards * inflight * batch;
    t.diagnostic(`${mode}: ${done.acked.size} acknowledged, ${cmp.duplicates.length} written twice (bound ${bound})`);
    assert.ok(cmp.duplicates.length <= bound, `${cmp.duplicates.length} duplicates > ${bound}`);
    const s = (await stats(d.url)).outputs.redis;
    assert.ok(s.requestFailures > 0);
  });
}
