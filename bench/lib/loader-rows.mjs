// The Elasticsearch ceiling rows: the direct bulk loader (loader.mjs) at the
// concurrency Spillway may have in flight in the row it is the ceiling of
// (all mode: 2 forwarders × --bulk-concurrency 4 = 8; edge → beat: the beat's
// one sink, --bulk-concurrency 4), each after an unmeasured warm-up run, as
// the Spillway rows are warmed up.
import { ES_URL, testIndex } from '../../test/helpers/es.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { directLoad } from './loader.mjs';
import { loaderName } from './ceilings.mjs';
import { cpuMeter, elasticsearchPid } from './proc.mjs';

export { LOADER_CONCURRENCY } from './ceilings.mjs';

export async function loaderRow(ctx, when, concurrency) {
  const name = loaderName(concurrency, when);
  ctx.log(name);
  const idx = testIndex('bench');
  try {
    const index = idx.pattern.replace(/%\{.*\}/, 'direct');
    await directLoad({ node: ES_URL, index: `${index}-warm`, total: ctx.settings.loaderWarmN, concurrency, makePayload: compactPosEventJson });
    const esPid = elasticsearchPid();
    const r = await directLoad({
      node: ES_URL, index, total: ctx.settings.deliveryN, concurrency, makePayload: compactPosEventJson,
      startMeter: () => cpuMeter({ loader: 'self', elasticsearch: esPid }),
    });
    return ctx.row(name, {
      kind: 'loader', concurrency, when, ...r,
      how: `${concurrency} bulk requests in flight (5 MiB bodies, create with _id), the 131 B event as the payload, after an unmeasured warm-up of ${ctx.settings.loaderWarmN.toLocaleString('en-US')} documents; bodies built before the clock`,
    });
  } finally {
    await idx.cleanup();
  }
}
