// Delivery rows: a feed posts NDJSON batches to /rxb (every line's uuid known
// to the ledger through its Idempotency-Key) while the daemon delivers into
// Elasticsearch; the clock runs from the first POST until the edge counts the
// last message delivered (its txMessages, counted when Elasticsearch (or the
// beat) acknowledged the bulk), as the loader's clock stops at its last bulk
// answer. The feed's own rate is reported beside the delivery rate: a row
// whose feed finished late measured its feed, not Spillway.
import { request } from 'undici';
import { stats } from '../../test/helpers/daemon.mjs';
import { ES_URL } from '../../test/helpers/es.mjs';
import { describeComparison } from '../../load/lib/ledger.mjs';
import { postBatches } from '../../load/lib/post-loop.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { exactlyOnceInto } from './elasticsearch.mjs';
import { cpuMeter, elasticsearchPid, memory } from './proc.mjs';
import { until } from './steady.mjs';

/**
 * Which side limited a delivery row: the feed, when it was still posting
 * during the last tenth of the window, else the delivery.
 */
export function boundBy(feedSeconds, seconds) {
  return feedSeconds >= 0.9 * seconds ? 'feed' : 'delivery';
}

/** Feed `n` messages into `stack` (edgeUrl, pids) and measure the delivery into `index`. */
export async function deliveryRow(ctx, name, stack, index, { n, feedConcurrency = 16, lines = 500 }) {
  const cpu = cpuMeter({ ...stack.pids, elasticsearch: elasticsearchPid() });
  const t0 = performance.now();
  let ledger;
  let seconds;
  let cpuCores;
  await ctx.sampled(stack.edgeUrl, name, async () => {
    ledger = await postBatches(stack.edgeUrl, n, { lines, concurrency: feedConcurrency, make: compactPosEventJson });
    await until(`${name}: delivery`, async () => (await stats(stack.edgeUrl)).edge.txMessages >= ledger.acked.size, { timeoutMs: 1_800_000, everyMs: 25 });
    seconds = (performance.now() - t0) / 1000;
    cpuCores = cpu();
  });
  const acked = ledger.acked.size;
  const exactly = await exactlyOnceInto(index.all, ledger.acked);
  // Lag: ack → searchable, for single messages on an idle pipeline.
  const lags = [];
  for (let i = 0; i < 5; i++) {
    const p0 = performance.now();
    const r = await request(`${stack.edgeUrl}/rx/bench/lag/probe`, { method: 'POST', body: compactPosEventJson(i) });
    const { uuid } = await r.body.json();
    await until('probe', async () => {
      await request(`${ES_URL}/${index.all}/_refresh`, { method: 'POST' }).then((x) => x.body.dump());
      const s = await request(`${ES_URL}/${index.all}/_count?q=_id:${uuid}`).then((x) => x.body.json());
      return s.count === 1;
    }, { timeoutMs: 60_000, everyMs: 20 });
    lags.push(performance.now() - p0);
  }
  const row = ctx.row(name, {
    kind: 'delivery', acked, docs: exactly.arrived, exactly, exactlyOnce: describeComparison(exactly), delivered: exactly.exact,
    seconds, feedSeconds: ledger.seconds, feedPerSecond: acked / ledger.seconds, boundBy: boundBy(ledger.seconds, seconds),
    feed: `/rxb, ${lines} lines (131 B each) a request, ${feedConcurrency} at once, 64 keys, Idempotency-Key per request`,
    cpuCores, docsPerSecond: acked / seconds, refused: Object.fromEntries(ledger.refused), feedErrors: ledger.errors,
    lagMs: { min: Math.min(...lags), max: Math.max(...lags), mean: lags.reduce((a, b) => a + b) / lags.length },
    ...memory(stack.mainPid),
  });
  if (!exactly.exact) ctx.fail(`${name}: ${describeComparison(exactly)} (of ${acked} acknowledged)`);
  return row;
}
