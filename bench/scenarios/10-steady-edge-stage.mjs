// Steady state: `spillway edge` /rx at full rate while forwarding to the
// counting stage (a stage that acknowledges at once), then the same at about
// half that rate for the p99 target.
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { lossOrDuplicate, steadyRow } from '../lib/steady.mjs';
import { edgeToStage } from '../lib/systems.mjs';

export const title = 'steady: spillway edge → counting stage';

export async function run(ctx) {
  const { steadySeconds, warmSeconds, connections } = ctx.settings;
  const body = compactPosEventJson(0);
  const full = 'steady: spillway edge /rx → counting stage';
  const half = 'steady: spillway edge /rx → counting stage, about half rate';
  const sys = await edgeToStage(ctx);
  try {
    ctx.log(full);
    const row = ctx.row(full, await steadyRow(ctx, full, sys, { seconds: steadySeconds, warmSeconds, connections, body }));
    const why = lossOrDuplicate(full, row, { spillwayAnswers: true });
    if (why) ctx.fail(why);
    // Half rate: each connection pauses between requests (wrk's delay(),
    // whole ms) so the total comes to about half the full rate.
    ctx.log(half);
    const target = row.rps / 2;
    let delayMs = Math.max(1, Math.round((connections / target) * 1000 - row.latencyMs.p50 / 2));
    let h = ctx.row(half, await steadyRow(ctx, half, sys, { seconds: steadySeconds, warmSeconds: 0, connections, body, delayMs }));
    if (Math.abs(h.rps / target - 1) > 0.1) {
      // One correction from the period the first guess gave.
      const latency = (connections / h.rps) * 1000 - delayMs;
      delayMs = Math.max(1, Math.round((connections / target) * 1000 - latency));
      ctx.log(`${half}: again with a ${delayMs} ms pause (${Math.round((h.rps / row.rps) * 100)}% of full)`);
      h = ctx.row(half, await steadyRow(ctx, half, sys, { seconds: steadySeconds, warmSeconds: 0, connections, body, delayMs }));
    }
    h.ofFullRate = h.rps / row.rps;
    const why2 = lossOrDuplicate(half, h, { spillwayAnswers: true });
    if (why2) ctx.fail(why2);
  } finally {
    await sys.stop();
  }
}
