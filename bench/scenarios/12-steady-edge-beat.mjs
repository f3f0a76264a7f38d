// Steady state: `spillway edge` /rx at full rate forwarding into
// `spillway beat` → Elasticsearch.
import { testIndex } from '../../test/helpers/es.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { lossOrDuplicate, steadyRow } from '../lib/steady.mjs';
import { edgeToBeat } from '../lib/systems.mjs';

export const title = 'steady: spillway edge → spillway beat → Elasticsearch';

export async function run(ctx) {
  const { steadySeconds, warmSeconds, connections } = ctx.settings;
  const name = 'steady: spillway edge /rx → spillway beat → Elasticsearch';
  const index = testIndex('bench');
  try {
    const sys = await edgeToBeat(ctx, index);
    try {
      ctx.log(name);
      const row = ctx.row(name, await steadyRow(ctx, name, sys, { seconds: steadySeconds, warmSeconds, connections, body: compactPosEventJson(0) }));
      const why = lossOrDuplicate(name, row, { spillwayAnswers: true });
      if (why) ctx.fail(why);
    } finally {
      await sys.stop();
    }
  } finally {
    await index.cleanup();
  }
}
