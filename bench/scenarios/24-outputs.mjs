// One row per output (bench/lib/outputs.mjs OUTPUTS): `spillway all --output X`
// fed /rxb batches until it has delivered them into X's server, beside a
// direct client writing the same records (rtbeat's event, same payload, same
// batch size, as many requests in flight) to the same server in the same run;
// then one row with every output at once (the fan-out's cost), beside all the
// direct clients at once. An output whose server is down is "not run" with
// the reason; the other rows go on.
//   npm run bench -- --quick --only outputs [--outputs elasticsearch,file]
import { OUTPUTS } from '../lib/outputs.mjs';
import { directRow, spillwayRow } from '../lib/output-rows.mjs';
import { kafkaOutput } from './15-steady-all-kafka.mjs';
import { redisOutput } from './16-steady-all-redis.mjs';

export const title = 'outputs: spillway all into each output beside a direct client, and all outputs at once';

/**
 * Kafka and Redis have rows of their own (scenarios 15, 16, which export
 * their entries): here they join only the all-at-once row, unless named
 * with --outputs.
 */
const EXTRA = [kafkaOutput, redisOutput];

/** Rows to run: `--outputs a,b` on the bench's command line, else every entry. */
function chosen() {
  const at = process.argv.indexOf('--outputs');
  if (at < 0) return { rows: OUTPUTS, fanout: [...OUTPUTS, ...EXTRA] };
  const names = process.argv[at + 1].split(',');
  const picked = [...OUTPUTS, ...EXTRA].filter((o) => names.includes(o.name));
  return { rows: picked, fanout: picked };
}

export async function run(ctx) {
  // Quick (CI): short rows, about a minute in all on an idle machine; full: rates that settle.
  const n = ctx.quick ? 20_000 : 500_000;
  const warm = ctx.quick ? 5_000 : 50_000;
  const { rows, fanout } = chosen();
  const up = [];
  for (const o of fanout) {
    const why = await o.down();
    if (why) {
      if (rows.includes(o)) ctx.notRun(`output: ${o.name}`, why);
      else ctx.log(`output ${o.name} left out of the all-at-once row: ${why}`);
    } else up.push(o);
  }
  for (const o of up.filter((x) => rows.includes(x))) {
    const direct = await directRow(ctx, [o], n, warm);
    const spillway = await spillwayRow(ctx, [o], n, warm);
    ctx.row(`output: ${o.name}`, { kind: 'output', outputs: [o.name], guarantee: o.guarantee, spillway, direct });
  }
  if (up.length > 1) {
    const names = up.map((o) => o.name);
    const direct = await directRow(ctx, up, n, warm);
    const spillway = await spillwayRow(ctx, up, n, warm);
    ctx.row(`output: all at once (${names.join(', ')})`, { kind: 'output', outputs: names, fanout: true, spillway, direct });
  }
}
