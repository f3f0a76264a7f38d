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
import { removeDir, startDaemon, stats } from '../../test/helpers/daemon.mjs';
import { REDIS_URL, redisClient, redisUp } from '../../test/helpers/redis.mjs';
import { consumeAgainst, describeComparison } from '../../load/lib/ledger.mjs';
import { postBatches } from '../../load/lib/post-loop.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { boundBy } from '../lib/delivery.mjs';
import { eventRecords } from '../lib/outputs.mjs';
import { cpuMeter, memory } from '../lib/proc.mjs';
import { until } from '../lib/steady.mjs';

export const title = 'steady all → Redis: spillway all --output redis beside a direct pipelined client';

const BATCH = 5000;
const FEED = { lines: 500, concurrency: 16, make: compactPosEventJson };

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
  const why = await redisOutput.down();
  if (why) {
    if (process.env.CI) ctx.fail(`output: redis: ${why}`);
    return ctx.notRun('steady all → redis', why);
  }
  const n = ctx.quick ? 20_000 : 500_000;
  const warm = ctx.quick ? 5_000 : 50_000;

  await redisOutput.direct(ctx, eventRecords(warm, compactPosEventJson), { batch: BATCH, concurrency: redisOutput.concurrency });
  const meter = cpuMeter({ client: 'self' });
  const d = await redisOutput.direct(ctx, eventRecords(n, compactPosEventJson), { batch: BATCH, concurrency: redisOutput.concurrency });
  const direct = {
    records: n, seconds: d.seconds, perSecond: n / d.seconds, failed: d.failed, retried: 0, cpuCores: meter(),
    each: { redis: { seconds: d.seconds, perSecond: n / d.seconds, how: d.how } },
    how: `after an unmeasured warm-up of ${warm.toLocaleString('en-US')} records`,
  };
  ctx.log(`direct redis: ${n} in ${d.seconds.toFixed(2)} s`);

  const target = redisOutput.target(ctx);
  const dir = ctx.dir(`redis-${randomUUID().slice(0, 8)}`);
  let daemon;
  try {
    daemon = await startDaemon('all', [
      '--path', dir, '--interval', '0.1', '--log-level', 'warn', '--batch', String(BATCH), '--output', 'redis', ...target.args,
    ]);
    const name = 'steady all → redis';
    await until(`${name}: ready`, async () => (await stats(daemon.url)).outputs?.redis?.ready, { timeoutMs: 60_000, everyMs: 100 });
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
      cpuCores, rssMiB: mem.peakRssMiB, received: { redis: { guarantee: redisOutput.guarantee, ...c, verdict: describeComparison(c) } },
      how: `--batch ${BATCH}, --interval 0.1, other flags default; fed /rxb (${FEED.lines} lines a request, ${FEED.concurrency} at once) after a delivered warm-up of ${warm.toLocaleString('en-US')}; clock from the first POST to the edge's txMessages reaching the acknowledged count`,
    };
    ctx.row('output: redis', { kind: 'output', outputs: ['redis'], guarantee: redisOutput.guarantee, spillway, direct });
  } finally {
    await daemon?.kill();
    removeDir(dir);
    await target.cleanup();
  }
}
