// Steady state of the Go rxtx into the same counting stage under the same
// load: /rxs (durable: answers after its bbolt transaction) and /rx (answers
// before writing), each with -interval 1 -batch 5000.
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { requirePeers } from '../lib/peers.mjs';
import { steadyRow } from '../lib/steady.mjs';
import { rxtxToStage } from '../lib/systems.mjs';

export const title = 'steady: Go rxtx → counting stage';

export async function run(ctx) {
  const { steadySeconds, warmSeconds, connections } = ctx.settings;
  for (const route of ['rxs', 'rx']) {
    const name = `steady: Go rxtx /${route} → counting stage`;
    const peers = await requirePeers(ctx, name, ['rxtx']);
    if (!peers) continue;
    ctx.log(name);
    const sys = await rxtxToStage(ctx, peers, route);
    try {
      // rxtx /rx answers before writing, then writes each message in its own
      // bbolt transaction, one at a time: a few hundred a second here, so the
      // backlog of a full-rate run takes minutes to deliver. It gets a
      // shorter load (its sustained rate is its write rate either way).
      const short = route === 'rx';
      const seconds = short ? (ctx.quick ? 2 : 5) : steadySeconds;
      const warm = short ? 0 : warmSeconds;
      const row = ctx.row(name, await steadyRow(ctx, name, sys, { seconds, warmSeconds: warm, connections, body: compactPosEventJson(0), drainTimeoutMs: 1_800_000 }));
      row.how = `-interval 1 -batch 5000 -maxq 100000000 (one batch per interval: at most 5,000 msg/s); ${seconds} s of load${warm ? ` after a ${warm} s warm-up` : ', no warm-up'}`;
    } finally {
      await sys.stop();
    }
  }
}
