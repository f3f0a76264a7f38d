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
import { Producer, stringSerializers } from '@platformatic/kafka';
import { KAFKA_BROKER, kafkaUp, readTopic, testTopic } from '../../test/helpers/kafka.mjs';
import { consumeAgainst } from '../../load/lib/ledger.mjs';
import { FORWARDERS } from '../lib/outputs.mjs';
import { outputRow } from '../lib/output-rows.mjs';

export const title = 'steady all → Kafka: spillway all --output kafka beside a direct idempotent producer';


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
  await outputRow(ctx, kafkaOutput, ctx.quick ? 20_000 : 500_000, ctx.quick ? 5_000 : 50_000);
}
