// The Kafka output's SASL and TLS options against the real broker's other
// listeners (scripts/kafka.sh): SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
// with the credentials from KAFKA_USERNAME and KAFKA_PASSWORD; a wrong
// password (not ready, the messages kept in the store); TLS verified with
// --kafka-tls-ca, with a client certificate, and refused without the CA.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import {
  compareSets, KAFKA_RUN_DIR, KAFKA_SASL_BROKER, KAFKA_SSL_BROKER, KAFKA_TEST_USER, readTopic, requireKafka, testTopic,
} from '../helpers/kafka.mjs';
import { postMany } from '../helpers/load.mjs';

const CA = join(KAFKA_RUN_DIR, 'tls', 'ca.pem');

async function deliverAndCompare(t, broker, extraArgs, env) {
  const topic = testTopic();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--output', 'kafka', '--kafka-brokers', broker, '--kafka-topic', topic.name,
    '--interval', '0.1', ...extraArgs], { env });
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await topic.cleanup();
  });
  await waitFor('kafka ready', async () => (await stats(d.url)).outputs.kafka.ready, { timeoutMs: 30_000 });
  const load = await postMany(d.url, { total: 500, connections: 8 });
  assert.equal(load.acked.size, 500);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 60_000 });
  const records = await readTopic(topic.name);
  assert.deepEqual(compareSets(load.acked, records.map((r) => r.uuid)), { missing: [], extra: [], duplicates: [] });
}

for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
  test(`SASL ${mechanism}: every message delivered with the credentials from the environment`, { timeout: 120_000 }, async (t) => {
    if (!(await requireKafka(t))) return;
    await deliverAndCompare(t, KAFKA_SASL_BROKER, ['--kafka-sasl', mechanism],
      { KAFKA_USERNAME: KAFKA_TEST_USER.username, KAFKA_PASSWORD: KAFKA_TEST_USER.password });
  });
}

test('SASL with a wrong password: not ready with the reason, the messages kept in the store', { timeout: 120_000 }, async (t) => {
  if (!(await requireKafka(t))) return;
  const topic = testTopic();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--output', 'kafka', '--kafka-brokers', KAFKA_SASL_BROKER, '--kafka-topic', topic.name,
    '--kafka-sasl', 'scram-sha-256', '--interval', '0.1'], { env: { KAFKA_USERNAME: KAFKA_TEST_USER.username, KAFKA_PASSWORD: 'not-the-password-7f3a' } });
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await topic.cleanup();
  });
  const r = await (await fetch(`${d.url}/rx/p/k/l`, { method: 'POST', body: '{"a":1}' })).json();
  assert.equal(r.status, 'OK');
  const s = await waitFor('a reason', async () => {
    const o = (await stats(d.url)).outputs.kafka;
    return o.reason && /Kafka unreachable/.test(o.reason) ? o : undefined;
  }, { timeoutMs: 30_000 });
  assert.equal(s.ready, false);
  assert.equal((await stats(d.url)).edge.inQueue, 1, 'the message waits in the store');
  assert.ok(!d.logs().includes('not-the-password-7f3a'), 'the password is not logged');
  assert.deepEqual(await readTopic(topic.name), []);
});

test('TLS verified with --kafka-tls-ca: every message delivered', { timeout: 120_000 }, async (t) => {
  if (!(await requireKafka(t))) return;
  await deliverAndCompare(t, KAFKA_SSL_BROKER, ['--kafka-tls-ca', CA]);
});

test('TLS with a client certificate (--kafka-tls-cert, --kafka-tls-key): every message delivered', { timeout: 120_000 }, async (t) => {
  if (!(await requireKafka(t))) return;
  const certs = tempDir('spillway-kafka-client-');
  t.after(() => removeDir(certs));
  const run = (...args) => execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=spillway-client', '-keyout', 'client.key', '-out', 'client.csr');
  run('x509', '-req', '-in', 'client.csr', '-CA', CA, '-CAkey', join(KAFKA_RUN_DIR, 'tls', 'ca.key'), '-CAcreateserial',
    '-CAserial', join(certs, 'ca.srl'), '-days', '1', '-out', 'client.crt');
  await deliverAndCompare(t, KAFKA_SSL_BROKER, ['--kafka-tls-ca', CA, '--kafka-tls-cert', join(certs, 'client.crt'), '--kafka-tls-key', join(certs, 'client.key')]);
});

test('TLS without the CA: the broker\'s certificate is refused, not ready', { timeout: 120_000 }, async (t) => {
  if (!(await requireKafka(t))) return;
  const topic = testTopic();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--output', 'kafka', '--kafka-brokers', KAFKA_SSL_BROKER, '--kafka-topic', topic.name, '--kafka-tls']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await topic.cleanup();
  });
  const o = await waitFor('a reason', async () => {
    const x = (await stats(d.url)).outputs.kafka;
    return x.reason && /Kafka unreachable/.test(x.reason) ? x : undefined;
  }, { timeoutMs: 30_000 });
  assert.equal(o.ready, false);
});
