// The Kafka output's row: `spillway all --output kafka` fed /rxb batches
// until it has delivered them into a topic of the local Kafka 4.1 broker
// (scripts/kafka.sh: one node, KRaft, 4 partitions, acks=all), beside a
// direct client writing the same records (rtbeat's event, same payload, key
// producer/key, uuid header, the same batch size, acks=all, idempotent
// producer, one request at a time per producer as the sink sends) into
// another topic of the same broker, in the same run.
//   npm run bench -- --quick --only kafka
//
// `kafkaOutput` has the shape of an entry of bench/lib/outputs.mjs OUTPUTS,
// so the per-output rows and the all-at-once row can take it as it is.
import { randomUUID } from 'node:crypto';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { removeDir, startDaemon, stats } from '../../test/helpers/daemon.mjs';
import { KAFKA_BROKER, kafkaUp, readTopic, testTopic } from '../../test/helpers/kafka.mjs';
import { consumeAgainst, describeComparison } from '../../load/lib/ledger.mjs';
import { postBatches } from '../../load/lib/post-loop.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { boundBy } from '../lib/delivery.mjs';
import { eventRecords, FORWARDERS } from '../lib/outputs.mjs';
import { cpuMeter, memory } from '../lib/proc.mjs';
import { until } from '../lib/steady.mjs';

export const title = 'steady all → Kafka: spillway all --output kafka beside a direct idempotent producer';

const BATCH = 5000;
const FEED = { lines: 500, concurrency: 16, make: compactPosEventJson };

/** The /rxb ledger's uuids are version 5: one arriving twice is a duplicate, not an extra. */
const compare = (acked) => consumeAgainst(acked, { isAcknowledged: (u) => u[14] === '5' });

export const kafkaOutput = {
  name: 'kafka',
  guarantee: 'at least once',
  concurrency: FORWARDERS, // spillway all's defaults: 2 forwarders, each one producer with one request at a time
  async down() {
    return (await kafkaUp()) ? undefined : `Kafka is not reachable at ${KAFKA_BROKER} (npm run kafka:start)`;
  },
  target() {
    const topic = testTopic('bench-out');
    return {
      args: ['--kafka-brokers', KAFKA_BROKER, '--kafka-topic', topic.name],
      async received(acked) {
        const c = compare(acked);
        for (const r of await readTopic(topic.name, { timeoutMs: 600_000 })) c.arrived(r.uuid);
        return c.result();
      },
      cleanup: () => topic.cleanup(),
    };
  },
  async direct(ctx, records, { batch, concurrency }) {
    const topic = testTopic('bench-direct');
    const producers = Array.from({ length: concurrency }, () => new Producer({
      clientId: 'bench-direct', bootstrapBrokers: [KAFKA_BROKER], serializers: stringSerializers,
      acks: -1, idempotent: true, autocreateTopics: true,
    }));
    try {
      // Requests built before the clock; the topic made (and each producer's id taken) by a first record.
      const batches = [];
      for (let i = 0; i < records.length; i += batch) {
        batches.push(records.slice(i, i + batch).map((r, j) => ({ topic: topic.name, key: `bench/k${(i + j) % 64}`, value: r.doc, headers: { uuid: r.uuid } })));
      }
      for (const p of producers) await p.send({ messages: [{ topic: topic.name, key: 'warm', value: '{}', headers: { uuid: 'warm' } }] });
      let next = 0;
      let failed = 0;
      const t0 = performance.now();
      await Promise.all(producers.map(async (p) => {
        while (next < batches.length) {
          const messages = batches[next++];
          try {
            await p.send({ messages });
          } catch {
            failed += messages.length;
          }
        }
      }));
      const seconds = (performance.now() - t0) / 1000;
      return { seconds, failed, retried: 0, how: `@platformatic/kafka, ${concurrency} idempotent producers (acks=all), each sending one request of ${batch} records at a time (key producer/key, uuid header), no compression` };
    } finally {
      await Promise.all(producers.map((p) => p.close().catch(() => {})));
      await topic.cleanup();
    }
  },
};

export async function run(ctx) {
  const why = await kafkaOutput.down();
  if (why) {
    if (process.env.CI) ctx.fail(`output: kafka: ${why}`);
    return ctx.notRun('steady all → kafka', why);
  }
  const n = ctx.quick ? 20_000 : 500_000;
  const warm = ctx.quick ? 5_000 : 50_000;

  await kafkaOutput.direct(ctx, eventRecords(warm, compactPosEventJson), { batch: BATCH, concurrency: kafkaOutput.concurrency });
  const meter = cpuMeter({ client: 'self' });
  const d = await kafkaOutput.direct(ctx, eventRecords(n, compactPosEventJson), { batch: BATCH, concurrency: kafkaOutput.concurrency });
  const direct = {
    records: n, seconds: d.seconds, perSecond: n / d.seconds, failed: d.failed, retried: 0, cpuCores: meter(),
    each: { kafka: { seconds: d.seconds, perSecond: n / d.seconds, how: d.how } },
    how: `after an unmeasured warm-up of ${warm.toLocaleString('en-US')} records`,
  };
  ctx.log(`direct kafka: ${n} in ${d.seconds.toFixed(2)} s`);

  const target = kafkaOutput.target(ctx);
  const dir = ctx.dir(`kafka-${randomUUID().slice(0, 8)}`);
  let daemon;
  try {
    daemon = await startDaemon('all', [
      '--path', dir, '--interval', '0.1', '--log-level', 'warn', '--batch', String(BATCH), '--output', 'kafka', ...target.args,
    ]);
    const name = 'steady all → kafka';
    await until(`${name}: ready`, async () => (await stats(daemon.url)).outputs?.kafka?.ready, { timeoutMs: 60_000, everyMs: 100 });
    const delivered = async () => (await stats(daemon.url)).edge.txMessages;
    const warmLedger = await postBatches(daemon.url, warm, FEED);
    await until(`${name}: warm-up delivered`, async () => (await delivered()) >= warmLedger.acked.size, { timeoutMs: 600_000 });
    const base = await delivered();
    const cpu = cpuMeter({ spillway: daemon.pid });
    const t0 = performance.now();
    const ledger = await postBatches(daemon.url, n, FEED);
    await until(`${name}: delivery`, async () => (await delivered()) >= base + ledger.acked.size, { timeoutMs: 1_800_000 });
    const seconds = (performance.now() - t0) / 1000;
    const cpuCores = cpu();
    const mem = memory(daemon.pid);
    const acked = ledger.acked.size;
    const c = await target.received(new Set([...warmLedger.acked, ...ledger.acked]));
    if (c.missingCount > 0 || c.extraCount > 0) ctx.fail(`${name}: ${describeComparison(c)} (of ${c.acknowledged} acknowledged; at least once)`);
    ctx.log(`${name}: ${acked} in ${seconds.toFixed(2)} s (feed ${ledger.seconds.toFixed(2)} s); direct ${n} in ${d.seconds.toFixed(2)} s`);
    const spillway = {
      acked, seconds, perSecond: acked / seconds, feedSeconds: ledger.seconds, feedPerSecond: acked / ledger.seconds,
      boundBy: boundBy(ledger.seconds, seconds), refused: Object.fromEntries(ledger.refused), feedErrors: ledger.errors,
      cpuCores, rssMiB: mem.peakRssMiB, received: { kafka: { guarantee: kafkaOutput.guarantee, ...c, verdict: describeComparison(c) } },
      how: `--batch ${BATCH}, --interval 0.1, other flags default; fed /rxb (${FEED.lines} lines a request, ${FEED.concurrency} at once) after a delivered warm-up of ${warm.toLocaleString('en-US')}; clock from the first POST to the edge's txMessages reaching the acknowledged count`,
    };
    ctx.row('output: kafka', { kind: 'output', outputs: ['kafka'], guarantee: kafkaOutput.guarantee, spillway, direct });
  } finally {
    await daemon?.kill();
    removeDir(dir);
    await target.cleanup();
  }
}
