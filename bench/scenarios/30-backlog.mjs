// Backlog: Elasticsearch away while N messages arrive, then back: how fast
// the held messages drain, and how much memory holding and draining take.
import { removeDir, startDaemon, stats } from '../../test/helpers/daemon.mjs';
import { testIndex } from '../../test/helpers/es.mjs';
import { describeComparison } from '../../load/lib/ledger.mjs';
import { postBatches } from '../../load/lib/post-loop.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { exactlyOnceInto } from '../lib/elasticsearch.mjs';
import { cpuMeter, elasticsearchPid, memory } from '../lib/proc.mjs';
import { until } from '../lib/steady.mjs';

export const title = 'backlog drain';

export async function run(ctx) {
  const n = ctx.settings.backlogN;
  const idx = testIndex('bench');
  const dir = ctx.dir('backlog');
  let daemon;
  try {
    daemon = await startDaemon('all', ['--path', dir, '--index', idx.pattern, '--es', 'http://127.0.0.1:9', '--log-level', 'error', '--maxq', String(n * 2)]);
    const down = daemon;
    const ledger = await ctx.sampled(down.url, 'backlog: taken in, Elasticsearch away', () => postBatches(down.url, n, { concurrency: 8, make: compactPosEventJson }));
    const held = memory(down.child.pid);
    await down.stop();
    const t0 = performance.now();
    daemon = await startDaemon('all', ['--path', dir, '--index', idx.pattern, '--log-level', 'warn']);
    const up = daemon;
    const cpu = cpuMeter({ spillway: up.child.pid, elasticsearch: elasticsearchPid() });
    // Peak total RSS is mostly LMDB's map (reclaimable page cache); peak
    // anonymous RSS is what the daemon itself holds while it drains.
    let peak = 0;
    let peakAnon = 0;
    let seconds;
    let cpuCores;
    await ctx.sampled(up.url, 'backlog drain', () => until('the backlog to drain', async () => {
      const m = memory(up.child.pid);
      peak = Math.max(peak, m.rssMiB);
      peakAnon = Math.max(peakAnon, m.anonRssMiB);
      const done = (await stats(up.url)).edge.inQueue === 0;
      if (done) {
        seconds = (performance.now() - t0) / 1000;
        cpuCores = cpu();
      }
      return done;
    }, { timeoutMs: 3_600_000, everyMs: 50 }));
    const acked = ledger.acked.size;
    const exactly = await exactlyOnceInto(idx.all, ledger.acked);
    ctx.row('backlog drain', {
      kind: 'delivery', backlog: true, acked, docs: exactly.arrived, exactly, exactlyOnce: describeComparison(exactly), delivered: exactly.exact,
      seconds, docsPerSecond: acked / seconds, cpuCores, feedSeconds: ledger.seconds, feedPerSecond: acked / ledger.seconds, boundBy: 'delivery',
      feed: 'held on disk before the clock starts (the daemon restarted with Elasticsearch back)',
      rssWhileHeldMiB: held.rssMiB, anonRssWhileHeldMiB: held.anonRssMiB, peakRssWhileDrainingMiB: peak, peakAnonRssWhileDrainingMiB: peakAnon,
    });
    if (!exactly.exact) ctx.fail(`backlog: ${describeComparison(exactly)} (of ${acked} acknowledged)`);
  } finally {
    await daemon?.kill();
    removeDir(dir);
    await idx.cleanup();
  }
}
