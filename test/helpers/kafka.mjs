// The real local Kafka, as started by scripts/kafka.sh (127.0.0.1:9092).
// Tests that need it call requireKafka(t): when it is not reachable the
// script is asked to start it; under CI a failure to start fails the test
// (never a skip), elsewhere the test is skipped with the reason.
// readTopic() reads a topic from its start to its end offsets (as they are
// when it is called) with a real consumer, so duplicates stay visible.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Admin, Base, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { ROOT } from './daemon.mjs';
import { requireLocalServer } from './es.mjs';

export const KAFKA_BROKER = process.env.KAFKA_TEST_BROKER ?? `127.0.0.1:${process.env.SPILLWAY_KAFKA_PORT ?? 9092}`;
const SCRIPT = join(ROOT, 'scripts', 'kafka.sh');
const [HOST, PORT] = [KAFKA_BROKER.slice(0, KAFKA_BROKER.lastIndexOf(':')), Number(KAFKA_BROKER.slice(KAFKA_BROKER.lastIndexOf(':') + 1))];
/** scripts/kafka.sh's other listeners: SASL_PLAINTEXT (PLAIN and SCRAM) on port+2, SSL on port+3. */
export const KAFKA_SASL_BROKER = `${HOST}:${PORT + 2}`;
export const KAFKA_SSL_BROKER = `${HOST}:${PORT + 3}`;
/** The test-only user of the SASL listener (scripts/kafka.sh). */
export const KAFKA_TEST_USER = { username: 'spillway', password: 'spillway-secret' };
/** Where scripts/kafka.sh keeps its test CA (tls/ca.pem, tls/ca.key): its run dir. */
export const KAFKA_RUN_DIR = process.env.SPILLWAY_KAFKA_RUN_DIR ??
  (process.getuid?.() === 0 ? `/var/lib/spillway/kafka-run/${PORT}` : join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'spillway', `kafka-run/${PORT}`));

export async function kafkaUp(broker = KAFKA_BROKER) {
  const c = new Base({ clientId: 'spillway-test-probe', bootstrapBrokers: [broker], retries: 0, timeout: 3000, connectTimeout: 3000 });
  try {
    const meta = await c.metadata({ topics: [], forceUpdate: true });
    return meta.brokers.size > 0;
  } catch {
    return false;
  } finally {
    await c.close().catch(() => {});
  }
}

export function kafkaScript(command, env = {}) {
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, command], { env: { ...process.env, ...env }, timeout: 400_000 }, (err, stdout, stderr) =>
      resolve({ ok: !err, code: err ? err.code : 0, output: stdout + stderr }),
    );
  });
}

export function requireKafka(t, broker = KAFKA_BROKER) {
  return requireLocalServer(t, { name: 'Kafka', url: broker, script: 'scripts/kafka.sh', up: kafkaUp, start: () => kafkaScript('start') });
}

/** A fresh topic name for one test (created by the producer on first write), and a cleanup that deletes every topic starting with it. */
export function testTopic(prefix = 'spillway-test') {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  return {
    name,
    dlq: `${name}-dlq`,
    async cleanup(broker = KAFKA_BROKER) {
      const admin = new Admin({ clientId: 'spillway-test-admin', bootstrapBrokers: [broker], retries: 1, timeout: 10_000 });
      try {
        // Every topic the test's pattern made: name, name-dlq, name-<producer>-<date> …
        const names = (await admin.listTopics()).filter((n) => n === name || n.startsWith(`${name}-`));
        if (names.length > 0) await admin.deleteTopics({ topics: names });
      } catch {
        // the broker may be down at the end of a failed test; the topic then stays
      } finally {
        await admin.close().catch(() => {});
      }
    },
  };
}

/**
 * Every record of `topic`, from the first offset to the end offsets as they
 * are now: [{ uuid (header), value (parsed), key, partition, offset }].
 */
export async function readTopic(topic, { broker = KAFKA_BROKER, timeoutMs = 60_000 } = {}) {
  const consumer = new Consumer({
    clientId: 'spillway-test-reader', groupId: `spillway-test-${randomBytes(4).toString('hex')}`,
    bootstrapBrokers: [broker], deserializers: stringDeserializers, retries: 3, timeout: 10_000,
  });
  const records = [];
  try {
    const meta = await consumer.metadata({ topics: [topic] }).catch(() => undefined);
    if (!meta || !meta.topics.has(topic)) return records;
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic);
    const left = new Map();
    ends.forEach((end, p) => { if (end > 0n) left.set(p, end); });
    if (left.size === 0) return records;
    const stream = await consumer.consume({
      topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false, maxWaitTime: 500, sessionTimeout: 10_000, heartbeatInterval: 1000,
    });
    const timer = setTimeout(() => stream.destroy(new Error(`readTopic ${topic}: not every record read within ${timeoutMs} ms`)), timeoutMs);
    try {
      for await (const m of stream) {
        const headers = m.headers instanceof Map ? Object.fromEntries(m.headers) : m.headers;
        records.push({ uuid: headers?.uuid, value: JSON.parse(m.value), key: m.key, partition: m.partition, offset: m.offset, topic: m.topic });
        const end = left.get(m.partition);
        if (end !== undefined && m.offset + 1n >= end) left.delete(m.partition);
        if (left.size === 0) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => {});
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
  return records;
}

export { compareSets } from './opensearch.mjs';
