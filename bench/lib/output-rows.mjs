// The two sides of an output row, shared by every output scenario (24 and
// the Kafka and Redis scenarios 15, 16): the direct clients writing the same
// records to the same servers, and `spillway all --output <outputs>` fed
// /rxb batches until it has delivered them. See bench/README.md.
import { randomUUID } from 'node:crypto';
import { removeDir, startDaemon, stats } from '../../test/helpers/daemon.mjs';
import { describeComparison } from '../../load/lib/ledger.mjs';
import { postBatches } from '../../load/lib/post-loop.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { boundBy } from './delivery.mjs';
import { eventRecords } from './outputs.mjs';
import { cpuMeter, memory } from './proc.mjs';
import { until } from './steady.mjs';

export const BATCH = 5000; // spillway all's --batch default: the direct clients write batches of this size too
const FEED = { lines: 500, concurrency: 16, make: compactPosEventJson };

/** The direct clients of `outputs`, at once when several: records ÷ the slowest one's time. */
export async function directRow(ctx, outputs, n, warm) {
  const opts = (o) => ({ batch: BATCH, concurrency: o.concurrency });
  await Promise.all(outputs.map((o) => o.direct(ctx, eventRecords(warm, compactPosEventJson), { ...opts(o), warm: true })));
  const meter = cpuMeter({ client: 'self' });
  const each = await Promise.all(outputs.map((o) => o.direct(ctx, eventRecords(n, compactPosEventJson), opts(o))));
  const cpuCores = meter();
  const seconds = Math.max(...each.map((r) => r.seconds));
  const failed = each.reduce((a, r) => a + r.failed, 0);
  const retried = each.reduce((a, r) => a + r.retried, 0);
  ctx.log(`direct ${outputs.map((o) => o.name).join('+')}: ${n} in ${seconds.toFixed(2)} s${retried ? `, ${retried} items sent again` : ''}${failed ? `, ${failed} failed` : ''}`);
  return {
    records: n, seconds, perSecond: n / seconds, failed, retried, cpuCores,
    each: Object.fromEntries(outputs.map((o, i) => [o.name, { seconds: each[i].seconds, perSecond: n / each[i].seconds, how: each[i].how }])),
    how: `after an unmeasured warm-up of ${warm.toLocaleString('en-US')} records`,
  };
}

/** spillway all --output <outputs>: a warm-up feed delivered first, then the measured feed, clock to the last delivery. */
export async function spillwayRow(ctx, outputs, n, warm) {
  const names = outputs.map((o) => o.name);
  const name = `output: ${names.join('+')}`;
  const targets = await Promise.all(outputs.map((o) => o.target(ctx)));
  const dir = ctx.dir(`outputs-${randomUUID().slice(0, 8)}`);
  let d;
  try {
    d = await startDaemon('all', [
      '--path', dir, '--interval', '0.1', '--log-level', 'warn', '--batch', String(BATCH),
      '--output', names.join(','), ...targets.flatMap((t) => t.args),
    ]);
    await until(`${name}: every output ready`, async () => {
      const o = (await stats(d.url)).outputs ?? {};
      return names.every((k) => o[k]?.ready);
    }, { timeoutMs: 60_000, everyMs: 100 });
    const delivered = async () => (await stats(d.url)).edge.txMessages;
    const warmLedger = await postBatches(d.url, warm, FEED);
    await until(`${name}: warm-up delivered`, async () => (await delivered()) >= warmLedger.acked.size, { timeoutMs: 600_000 });
    const base = await delivered();

    const cpu = cpuMeter({ spillway: d.pid });
    const t0 = performance.now();
    const ledger = await postBatches(d.url, n, FEED);
    await until(`${name}: delivery`, async () => (await delivered()) >= base + ledger.acked.size, { timeoutMs: 1_800_000 });
    const seconds = (performance.now() - t0) / 1000;
    const cpuCores = cpu();
    const mem = memory(d.pid);
    const acked = ledger.acked.size;

    // What arrived in each output, against everything acknowledged (warm-up included).
    const received = {};
    for (const [i, o] of outputs.entries()) {
      const all = new Set([...warmLedger.acked, ...ledger.acked]);
      const c = await targets[i].received(all);
      received[o.name] = { guarantee: o.guarantee, ...c, verdict: describeComparison(c) };
      const lost = c.missingCount > 0 || c.extraCount > 0 || c.torn > 0;
      const doubled = o.guarantee === 'exactly once' && c.duplicatedCount > 0;
      if (lost || doubled) ctx.fail(`${name} into ${o.name}: ${describeComparison(c)}${c.torn ? `, ${c.torn} torn lines` : ''} (of ${c.acknowledged} acknowledged; ${o.guarantee})`);
    }
    ctx.log(`${name}: ${acked} in ${seconds.toFixed(2)} s (feed ${ledger.seconds.toFixed(2)} s)`);
    return {
      acked, seconds, perSecond: acked / seconds, feedSeconds: ledger.seconds, feedPerSecond: acked / ledger.seconds,
      boundBy: boundBy(ledger.seconds, seconds), refused: Object.fromEntries(ledger.refused), feedErrors: ledger.errors,
      cpuCores, rssMiB: mem.peakRssMiB, received,
      how: `--batch ${BATCH}, --interval 0.1, other flags default; fed /rxb (${FEED.lines} lines a request, ${FEED.concurrency} at once) after a delivered warm-up of ${warm.toLocaleString('en-US')}; clock from the first POST to the edge's txMessages reaching the acknowledged count`,
    };
  } finally {
    await d?.kill();
    removeDir(dir);
    for (const t of targets) await t.cleanup();
  }
}

/** One output's row (direct client, then spillway all), or "not run" when its server is down (a failure under CI). */
export async function outputRow(ctx, o, n, warm) {
  const why = await o.down();
  if (why) {
    if (process.env.CI) ctx.fail(`output: ${o.name}: ${why}`);
    return ctx.notRun(`output: ${o.name}`, why);
  }
  const direct = await directRow(ctx, [o], n, warm);
  const spillway = await spillwayRow(ctx, [o], n, warm);
  ctx.row(`output: ${o.name}`, { kind: 'output', outputs: [o.name], guarantee: o.guarantee, spillway, direct });
}
