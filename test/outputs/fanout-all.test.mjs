// Every output at once (issue 14, "Bad input and failure"): spillway all
// --output elasticsearch,kafka,redis,logstash under load, the Logstash side
// (a lumberjack server of this test's own, on a free port) away for about
// 20 s. The others keep delivering, but only within --output-window; the
// store holds the rest; when the server returns Logstash catches up; every
// acknowledged uuid is in every output (sets compared) and the duplicates
// of each output are within its guarantee, counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { ES_URL, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { KAFKA_BROKER, readTopic, requireKafka, testTopic } from '../helpers/kafka.mjs';
import { postMany } from '../helpers/load.mjs';
import { receivedUuids, requireLumberjack, startLumberjack } from '../helpers/lumberjack.mjs';
import { allIds, compareSets } from '../helpers/opensearch.mjs';
import { readLists, REDIS_URL, requireRedis, testKey } from '../helpers/redis.mjs';

const AWAY_MS = 20_000;
const OTHERS = ['elasticsearch', 'kafka', 'redis'];

test('elasticsearch + kafka + redis + logstash, Logstash away 20 s under load: the others deliver within the window, it catches up, nothing lost', {
  timeout: 420_000,
}, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  if (!(await requireKafka(t))) return;
  if (!(await requireRedis(t))) return;
  const bin = requireLumberjack(t);
  if (!bin) return;

  const esIdx = testIndex();
  const topic = testTopic();
  const key = testKey();
  const dir = tempDir();
  const ls = await startLumberjack(bin);
  const SHARDS = 2;
  const INFLIGHT = 1;
  const WINDOW = 3;
  const BATCH = 400;
  let d;
  t.after(async () => {
    try {
      await d?.kill();
    } finally {
      await ls.kill();
      removeDir(ls.out.replace(/\/events\.ndjson$/, ''));
      removeDir(dir);
      await esIdx.cleanup();
      await topic.cleanup();
      await key.cleanup();
    }
  });
  d = await startDaemon('all', [
    '--path', dir, '--shards', String(SHARDS), '--forwarders', '1', '--inflight', String(INFLIGHT), '--batch', String(BATCH),
    '--interval', '0.1', '--retry-max', '0.5', '--output-window', String(WINDOW),
    '--output', 'elasticsearch,kafka,redis,logstash',
    '--es', ES_URL, '--index', esIdx.pattern,
    '--kafka-brokers', KAFKA_BROKER, '--kafka-topic', topic.name,
    '--redis', REDIS_URL, '--redis-key', key.base,
    '--logstash-hosts', ls.address, '--logstash-timeout', '5',
  ]);
  await waitFor('every output ready', async () => {
    const o = (await stats(d.url)).outputs;
    return [...OTHERS, 'logstash'].every((n) => o[n]?.ready);
  }, { timeoutMs: 90_000 });

  // Load from before the cut until 2,000 acknowledgements after the return,
  // however fast the machine is (stopWhen ends it; total is only a ceiling).
  let returned = false;
  let ackedAtReturn = Infinity;
  const load = { ackedNow: 0 };
  const loading = postMany(d.url, {
    total: 2_000_000, connections: 8,
    stopWhen: () => returned && load.ackedNow >= ackedAtReturn + 2_000,
    onAck: (n) => (load.ackedNow = n),
  });
  await waitFor('every output to deliver before the cut', async () => {
    const o = (await stats(d.url)).outputs;
    return [...OTHERS, 'logstash'].every((n) => o[n].delivered >= 2_000);
  }, { timeoutMs: 120_000, everyMs: 200 });

  await ls.stop();
  const cutAt = Date.now();
  const atCut = (await stats(d.url)).outputs;
  // While Logstash is away: the others move on past where they were at the cut, but never more than
  // the window ahead of Logstash (each shard hands out at most inflight + window batches of at most
  // --batch messages until its oldest is delivered everywhere).
  const bound = SHARDS * (INFLIGHT + WINDOW) * BATCH;
  let worst = 0;
  let samples = 0;
  while (Date.now() - cutAt < AWAY_MS) {
    const o = (await stats(d.url)).outputs;
    for (const n of OTHERS) {
      const ahead = o[n].delivered - o.logstash.delivered;
      worst = Math.max(worst, ahead);
      assert.ok(ahead <= bound, `${n} ${o[n].delivered} is ${ahead} ahead of logstash ${o.logstash.delivered} (window bound ${bound})`);
    }
    samples++;
    await new Promise((r) => setTimeout(r, 250));
  }
  const beforeReturn = await stats(d.url);
  t.diagnostic(`away ${Date.now() - cutAt} ms: at the cut ${OTHERS.map((n) => `${n} ${atCut[n].delivered}`).join(', ')}, logstash ${atCut.logstash.delivered}; ` +
    `before the return ${OTHERS.map((n) => `${n} ${beforeReturn.outputs[n].delivered}`).join(', ')}, logstash ${beforeReturn.outputs.logstash.delivered}; ` +
    `most ahead ${worst} of ${bound} (${samples} samples); in the store ${beforeReturn.edge.inQueue}`);
  for (const n of OTHERS) {
    assert.ok(beforeReturn.outputs[n].delivered > atCut[n].delivered || beforeReturn.outputs[n].delivered - beforeReturn.outputs.logstash.delivered >= bound - BATCH * SHARDS,
      `${n} kept delivering while Logstash was away (${atCut[n].delivered} → ${beforeReturn.outputs[n].delivered})`);
  }
  assert.ok(beforeReturn.outputs.logstash.requestFailures > atCut.logstash.requestFailures || beforeReturn.outputs.logstash.retried > atCut.logstash.retried,
    'the Logstash output saw the server away');

  await ls.restart();
  ackedAtReturn = load.ackedNow;
  returned = true;
  const done = await loading;
  assert.equal(done.errors, 0, 'no POST failed');
  // The store holds what Logstash has not taken: nothing is refused for it. A rare 503 (the store
  // could not take a write on a loaded machine: not acknowledged, so not owed, and the set
  // comparison below finds it in no output) is counted, not a failure; more than 1% fails.
  const refused = [...done.refused];
  assert.ok(refused.every(([status]) => status === 503), `refused ${JSON.stringify(refused)}`);
  const n503 = refused.reduce((a, [, c]) => a + c, 0);
  assert.ok(n503 <= done.sent / 100, `${n503} of ${done.sent} POSTs refused`);
  if (n503 > 0) t.diagnostic(`${n503} of ${done.sent} POSTs refused with 503 (not acknowledged)`);
  assert.ok(done.acked.size > ackedAtReturn, 'load went on after the return');
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 240_000, everyMs: 250 });

  const acked = done.acked;
  const o = (await stats(d.url)).outputs;
  const found = {
    elasticsearch: await allIds(esIdx.all, ES_URL),
    kafka: (await readTopic(topic.name, { timeoutMs: 120_000 })).map((r) => r.uuid),
    redis: (await readLists([key.base])).map((e) => e.rxtxMsg.uuid),
    logstash: receivedUuids(ls.received().events),
  };
  const counted = {};
  for (const [n, ids] of Object.entries(found)) {
    const c = compareSets(acked, ids);
    assert.deepEqual({ missing: c.missing.length, extra: c.extra }, { missing: 0, extra: [] }, `${n}: ${c.missing.slice(0, 3)}`);
    counted[n] = c.duplicates.length;
  }
  t.diagnostic(`${acked.size} acknowledged; duplicates ${JSON.stringify(counted)}; stats ${JSON.stringify(Object.fromEntries(Object.entries(o).map(([n, s]) => [n, { delivered: s.delivered, retried: s.retried, failures: s.requestFailures }])))}`);
  // Elasticsearch: _id is the uuid, a resend overwrites.
  assert.equal(counted.elasticsearch, 0);
  // Kafka, Redis: a batch is resent to an output only when that output failed it; these never did.
  for (const n of ['kafka', 'redis']) {
    assert.ok(counted[n] <= (o[n].requestFailures + o[n].retried) * BATCH, `${n}: ${counted[n]} duplicates without a failed request`);
  }
  // Logstash, at least once: only what was on the wire when the server went away can be written twice.
  assert.ok(counted.logstash <= SHARDS * INFLIGHT * BATCH, `logstash: ${counted.logstash} duplicates > ${SHARDS * INFLIGHT * BATCH}`);
  // Every output counted every message it wrote, resends included.
  for (const n of [...OTHERS, 'logstash']) assert.ok(o[n].delivered >= acked.size, `${n} delivered ${o[n].delivered} < ${acked.size}`);
});
