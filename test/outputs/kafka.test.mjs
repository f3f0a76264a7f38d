// The Kafka output against a real Kafka 4.1 broker (scripts/kafka.sh): every
// acknowledged message is a record whose value is rtbeat's event and whose
// `uuid` header is the message uuid (sets of uuids compared, duplicates
// counted); the topic pattern's fields and date; a record too large for the
// broker is dead-lettered; the broker stopped and restarted under load loses
// nothing; bad options exit 2; a fan-out to Elasticsearch and Kafka fills both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, runCli, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { checkExactlyOnce, ES_URL, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { compareSets, KAFKA_BROKER, kafkaScript, kafkaUp, readTopic, requireKafka, testTopic } from '../helpers/kafka.mjs';
import { postMany } from '../helpers/load.mjs';

const kafkaArgs = (topic, extra = []) => ['--output', 'kafka', '--kafka-brokers', KAFKA_BROKER, '--kafka-topic', topic, ...extra];

/** The uuids found in `records` (from the header; the value must say the same). */
function uuidsOf(records) {
  for (const r of records) assert.equal(r.uuid, r.value.rxtxMsg.uuid, 'the uuid header is the message uuid');
  return records.map((r) => r.uuid);
}

test('20 000 messages through spillway all --output kafka: every acknowledged uuid, rtbeat\'s event, no duplicate without a failed request', { timeout: 300_000 }, async (t) => {
  if (!(await requireKafka(t))) return;
  const topic = testTopic();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, ...kafkaArgs(topic.name), '--interval', '0.2']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await topic.cleanup();
  });
  await waitFor('kafka ready', async () => (await stats(d.url)).outputs.kafka.ready, { timeoutMs: 30_000 });

  const load = await postMany(d.url, { total: 20_000, connections: 32 });
  assert.equal(load.errors, 0);
  assert.equal(load.acked.size, 20_000);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 240_000, everyMs: 250 });

  const records = await readTopic(topic.name);
  const diff = compareSets(load.acked, uuidsOf(records));
  assert.deepEqual(diff.missing, []);
  assert.deepEqual(diff.extra, []);
  const s = (await stats(d.url)).outputs.kafka;
  // Duplicates are allowed only after a failed request (docs/outputs.md); counted either way.
  t.diagnostic(`records ${records.length}, duplicates ${diff.duplicates.length}, failed requests ${s.requestFailures}`);
  if (s.requestFailures === 0) assert.deepEqual(diff.duplicates, []);
  assert.ok(s.delivered >= 20_000, `delivered ${s.delivered}`);

  // rtbeat's event, the key producer/key.
  const r = records[0];
  assert.equal(r.value.type, 'rtbeat');
  assert.deepEqual(Object.keys(r.value.rxtxMsg), ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload']);
  assert.equal(r.value['@timestamp'], r.value.rxtxMsg.time);
  assert.equal(r.value.clientIp, '127.0.0.1');
  assert.equal(r.key, `${r.value.rxtxMsg.producer}/${r.value.rxtxMsg.key}`);
  // One producer/key is one partition: its records keep their store order.
  const byKey = new Map();
  for (const x of records) {
    const p = byKey.get(x.key);
    if (p === undefined) byKey.set(x.key, x.partition);
    else assert.equal(p, x.partition, `key ${x.key} on one partition`);
  }
});

test('topic pattern with message fields and the date; a record over --kafka-max-message-bytes is dead-lettered', { timeout: 120_000 }, async (t) => {
  if (!(await requireKafka(t))) return;
  const topic = testTopic();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, ...kafkaArgs(`${topic.name}-%{[rxtxMsg.producer]}-%{+yyyy.MM.dd}`, [
    '--kafka-max-message-bytes', '2048', '--kafka-dlq-topic', `${topic.name}-dlq`, '--kafka-key', 'uuid', '--kafka-compression', 'gzip',
  ]), '--interval', '0.1']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await topic.cleanup();
  });
  const sent = { till: new Set(), 'web.shop': new Set() };
  let big;
  for (let i = 0; i < 40; i++) {
    const producer = i % 2 ? 'till' : 'web.shop';
    const body = i === 7 ? JSON.stringify({ blob: 'x'.repeat(4000) }) : JSON.stringify({ i });
    const r = await (await fetch(`${d.url}/rx/${producer}/k${i}/sale`, { method: 'POST', body })).json();
    assert.equal(r.status, 'OK');
    if (i === 7) big = r.uuid;
    else sent[producer].add(r.uuid);
  }
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 60_000 });
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '.');
  for (const producer of Object.keys(sent)) {
    const records = await readTopic(`${topic.name}-${producer}-${day}`);
    assert.deepEqual(compareSets(sent[producer], uuidsOf(records)), { missing: [], extra: [], duplicates: [] }, producer);
    for (const r of records) assert.equal(r.key, r.value.rxtxMsg.uuid, '--kafka-key uuid');
  }
  const dead = await readTopic(`${topic.name}-dlq`);
  assert.deepEqual(dead.map((r) => r.uuid), [big]);
  assert.equal(dead[0].value.type, 'rtbeat-dlq');
  assert.equal(dead[0].value.error.type, 'record_too_large');
  assert.equal(dead[0].value.uuid, big);
  assert.equal((await stats(d.url)).outputs.kafka.deadLettered, 1);
});

test('Kafka stopped mid-stream and restarted under load: not ready while away, nothing acknowledged lost, duplicates counted', { timeout: 400_000 }, async (t) => {
  if (!(await requireKafka(t))) return;
  const topic = testTopic();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, ...kafkaArgs(topic.name), '--interval', '0.2', '--ack-timeout', '5', '--retry-max', '1']);
  let stopped = false;
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    if (stopped || !(await kafkaUp())) await kafkaScript('start');
    await topic.cleanup();
  });
  await waitFor('kafka ready', async () => (await stats(d.url)).outputs.kafka.ready, { timeoutMs: 30_000 });

  const during = postMany(d.url, { total: 30_000, connections: 16 });
  await waitFor('some delivery', async () => (await stats(d.url)).outputs.kafka.delivered > 3000, { timeoutMs: 120_000 });
  stopped = true;
  const stop = await kafkaScript('stop');
  assert.ok(stop.ok, stop.output);
  await waitFor('kafka not ready', async () => (await stats(d.url)).outputs.kafka.ready === false, { timeoutMs: 30_000 });
  const load = await during;
  assert.equal(load.errors, 0);
  assert.equal(load.acked.size, 30_000, 'all mode keeps storing while Kafka is away');
  assert.ok((await stats(d.url)).edge.inQueue > 0, 'messages wait in the store');
  const start = await kafkaScript('start');
  assert.ok(start.ok, start.output);
  stopped = false;
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 240_000, everyMs: 250 });

  const diff = compareSets(load.acked, uuidsOf(await readTopic(topic.name)));
  assert.deepEqual(diff.missing, [], 'nothing acknowledged lost');
  assert.deepEqual(diff.extra, []);
  const s = (await stats(d.url)).outputs.kafka;
  t.diagnostic(`duplicates after the restart: ${diff.duplicates.length} of ${load.acked.size}; failed requests ${s.requestFailures}, retried ${s.retried}`);
  // At least once across producers: only records of failed requests may come twice.
  assert.ok(diff.duplicates.length <= s.retried, `${diff.duplicates.length} duplicates, ${s.retried} records retried`);
});

const bad = [
  [['all', '--output', 'kafka'], /^spillway: output kafka: --kafka-brokers: no brokers given/],
  [['all', '--output', 'kafka', '--kafka-brokers', 'localhost'], /^spillway: output kafka: --kafka-brokers: "localhost" is not host:port$/],
  [['all', '--output', 'kafka', '--kafka-brokers', '127.0.0.1:9092', '--kafka-topic', 'rtbeat-%{[rxtxMsg.nope]}'], /^spillway: output kafka: --kafka-topic: .*unknown field/],
  [['all', '--output', 'kafka', '--kafka-brokers', '127.0.0.1:9092', '--kafka-topic', 'rtbeat-%{+yyyy'], /^spillway: output kafka: --kafka-topic: .*malformed token/],
  [['all', '--output', 'kafka', '--kafka-brokers', '127.0.0.1:9092', '--kafka-topic', 'a/b'], /^spillway: output kafka: --kafka-topic: .*may only hold/],
  [['all', '--output', 'kafka', '--kafka-brokers', '127.0.0.1:9092', '--kafka-tls-ca', '/nonexistent/ca.pem'], /^spillway: output kafka: --kafka-tls-ca: cannot read \/nonexistent\/ca.pem: ENOENT$/],
  [['all', '--output', 'kafka', '--kafka-brokers', '127.0.0.1:9092', '--kafka-tls-ca', '/etc/hostname'], /^spillway: output kafka: --kafka-tls-ca: \/etc\/hostname holds no PEM block$/],
  [['all', '--output', 'kafka', '--kafka-brokers', '127.0.0.1:9092', '--kafka-sasl', 'plain'], /^spillway: output kafka: --kafka-sasl: plain needs KAFKA_USERNAME/],
  [['all', '--output', 'kafka', '--kafka-brokers', '127.0.0.1:9092', '--kafka-compression', 'zip'], /^spillway: .*--kafka-compression/],
];
test('bad Kafka options → exit 2, one line naming the output and what is wrong', { timeout: 120_000 }, async () => {
  // All at once: each is a process start, and none of them reaches a broker.
  const results = await Promise.all(bad.map(([args]) => runCli(args, { env: { KAFKA_USERNAME: '' }, timeoutMs: 60_000 })));
  results.forEach((r, i) => {
    const [args, pattern] = bad[i];
    const what = `spillway ${args.join(' ')}`;
    assert.equal(r.code, 2, `${what}: ${r.stderr}${r.stdout}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.match(lines[0], pattern, what);
  });
});

test('--help shows the Kafka output and its options', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^  kafka .*\n +delivery: /m);
  for (const flag of ['kafka-brokers', 'kafka-topic', 'kafka-key', 'kafka-compression', 'kafka-sasl', 'kafka-tls-ca']) assert.match(r.stdout, new RegExp(`--${flag}\\b`));
});

test('--output elasticsearch,kafka: both have every acknowledged message', { timeout: 300_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  if (!(await requireKafka(t))) return;
  const topic = testTopic();
  const idx = testIndex();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--output', 'elasticsearch,kafka', '--es', ES_URL, '--index', idx.pattern,
    '--kafka-brokers', KAFKA_BROKER, '--kafka-topic', topic.name, '--interval', '0.2']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await topic.cleanup();
    await idx.cleanup();
  });
  const load = await postMany(d.url, { total: 8000, connections: 16 });
  assert.equal(load.acked.size, 8000);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 200_000, everyMs: 250 });
  assert.deepEqual(await checkExactlyOnce(idx.all, load.acked), { total: 8000, expected: 8000, missing: [] });
  const diff = compareSets(load.acked, uuidsOf(await readTopic(topic.name)));
  assert.deepEqual(diff.missing, []);
  assert.deepEqual(diff.extra, []);
  const s = (await stats(d.url)).outputs;
  if (s.kafka.requestFailures === 0) assert.deepEqual(diff.duplicates, []);
  assert.equal(s.elasticsearch.delivered, 8000);
});
