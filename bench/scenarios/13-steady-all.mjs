// Steady state: `spillway all` /rx at full rate into Elasticsearch, and right
// after it Fluent Bit under the same load into the same Elasticsearch.
import { testIndex } from '../../test/helpers/es.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { requirePeers } from '../lib/peers.mjs';
import { lossOrDuplicate, steadyRow } from '../lib/steady.mjs';
import { allMode, fluentBit } from '../lib/systems.mjs';

export const title = 'steady: spillway all and Fluent Bit → Elasticsearch';

export async function run(ctx) {
  const { steadySeconds, warmSeconds, connections } = ctx.settings;
  const body = compactPosEventJson(0);
  const name = 'steady: spillway all /rx → Elasticsearch';
  const index = testIndex('bench');
  try {
    const sys = await allMode(ctx, index);
    try {
      ctx.log(name);
      const row = ctx.row(name, await steadyRow(ctx, name, sys, { seconds: steadySeconds, warmSeconds, connections, body }));
      const why = lossOrDuplicate(name, row, { spillwayAnswers: true });
      if (why) ctx.fail(why);
    } finally {
      await sys.stop();
    }
  } finally {
    await index.cleanup();
  }

  const fbName = 'steady: Fluent Bit http → Elasticsearch';
  const peers = await requirePeers(ctx, fbName, ['fluent-bit']);
  if (!peers) return;
  const fbIndex = `bench-fluent-bit-${Math.random().toString(36).slice(2, 10)}`;
  ctx.log(fbName);
  const sys = await fluentBit(ctx, peers, fbIndex);
  try {
    const row = ctx.row(fbName, await steadyRow(ctx, fbName, sys, { seconds: steadySeconds, warmSeconds, connections, body }));
    row.how = 'the configuration in ../shared/peers/fluent-bit/ (http input, filesystem buffer with storage.sync full, es output with 2 workers); delivered = documents searchable (refresh + _count every 100 ms)';
  } finally {
    await sys.stop();
  }
}
