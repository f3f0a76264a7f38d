// The Redis output's row: `spillway all --output redis` fed /rxb batches
// until it has delivered them into a list of the local Redis
// (scripts/redis.sh: appendfsync always), beside a direct client writing the
// same records (rtbeat's event, same payload, the same batch size, as many
// MULTI/EXEC in flight as spillway all has: one per shard and --inflight)
// into another list of the same server, in the same run.
//   npm run bench -- --quick --only redis
//
// `redisOutput` has the shape of an entry of bench/lib/outputs.mjs OUTPUTS,
// so the per-output rows and the all-at-once row can take it as it is.
import { randomUUID } from 'node:crypto';
import { REDIS_URL, redisClient, redisUp } from '../../test/helpers/redis.mjs';
import { consumeAgainst } from '../../load/lib/ledger.mjs';
import { outputRow } from '../lib/output-rows.mjs';

export const title = 'steady all → Redis: spillway all --output redis beside a direct pipelined client';


/** The /rxb ledger's uuids are version 5: one arriving twice is a duplicate, not an extra. */
const compare = (acked) => consumeAgainst(acked, { isAcknowledged: (u) => u[14] === '5' });

async function forEachInList(key, each) {
  const c = await redisClient();
  try {
    const len = await c.lLen(key);
    for (let i = 0; i < len; i += 10_000) {
      for (const v of await c.lRange(key, i, i + 9_999)) each(JSON.parse(v).rxtxMsg.uuid);
    }
  } finally {
    c.destroy();
  }
}

async function deleteKey(key) {
  const c = await redisClient().catch(() => undefined);
  if (!c) return;
  try {
    await c.unlink(key);
  } finally {
    c.destroy();
  }
}

export const redisOutput = {
  name: 'redis',
  guarantee: 'at least once',
  concurrency: 8, // spillway all's defaults: 4 shards × --inflight 2 MULTI/EXEC in flight
  async down() {
    return (await redisUp()) ? undefined : `Redis is not reachable at ${REDIS_URL} (npm run redis:start)`;
  },
  target() {
    const key = `bench-out-${randomUUID()}`;
    return {
      args: ['--redis', REDIS_URL, '--redis-key', key],
      async received(acked) {
        const c = compare(acked);
        await forEachInList(key, (u) => c.arrived(u));
        return c.result();
      },
      cleanup: () => deleteKey(key),
    };
  },
  async direct(ctx, records, { batch, concurrency }) {
    const key = `bench-direct-${randomUUID()}`;
    const c = await redisClient();
    try {
      // Commands built before the clock: RPUSH of 1,000 events, as the sink does.
      const batches = [];
      for (let i = 0; i < records.length; i += batch) {
        const cmds = [];
        const docs = records.slice(i, i + batch).map((r) => r.doc);
        for (let j = 0; j < docs.length; j += 1000) cmds.push(['RPUSH', key, ...docs.slice(j, j + 1000)]);
        batches.push(cmds);
      }
      let next = 0;
      let failed = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < batches.length) {
          const multi = c.multi();
          for (const cmd of batches[next++]) multi.addCommand(cmd);
          try {
            await multi.exec();
          } catch {
            failed += batch;
          }
        }
      }));
      const seconds = (performance.now() - t0) / 1000;
      return { seconds, failed, retried: 0, how: `@redis/client, one MULTI/EXEC of ${batch} events (RPUSH of 1,000 a command) each, ${concurrency} in flight on one connection` };
    } finally {
      await c.unlink(key).catch(() => {});
      c.destroy();
    }
  },
};

export async function run(ctx) {
  await outputRow(ctx, redisOutput, ctx.quick ? 20_000 : 500_000, ctx.quick ? 5_000 : 50_000);
}
