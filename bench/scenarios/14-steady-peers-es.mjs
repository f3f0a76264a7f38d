// Steady state across the peers: the Go rxtx → `spillway beat` →
// Elasticsearch, and `spillway edge` → the Go rtbeat → Elasticsearch.
import { testIndex } from '../../test/helpers/es.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { requirePeers } from '../lib/peers.mjs';
import { steadyRow } from '../lib/steady.mjs';
import { edgeToRtbeat, rxtxToBeat } from '../lib/systems.mjs';

export const title = 'steady: Go rxtx → spillway beat, spillway edge → Go rtbeat';

async function row(ctx, name, peersNeeded, start, check) {
  const { steadySeconds, warmSeconds, connections } = ctx.settings;
  const peers = await requirePeers(ctx, name, peersNeeded);
  if (!peers) return;
  const index = testIndex('bench');
  try {
    ctx.log(name);
    const sys = await start(peers, index);
    try {
      const r = ctx.row(name, await steadyRow(ctx, name, sys, { seconds: steadySeconds, warmSeconds, connections, body: compactPosEventJson(0) }));
      check?.(r);
    } finally {
      await sys.stop();
    }
  } finally {
    await index.cleanup();
  }
}

export async function run(ctx) {
  await row(ctx, 'steady: Go rxtx /rxs → spillway beat → Elasticsearch', ['rxtx'], (peers, index) => rxtxToBeat(ctx, peers, index, 'rxs'));
  await row(ctx, 'steady: spillway edge /rx → Go rtbeat → Elasticsearch', ['rtbeat'], (peers, index) => edgeToRtbeat(ctx, peers, index), (r) => {
    // Spillway's part: every message the edge acknowledged reached
    // Elasticsearch. rtbeat gives each event an id of its own, so a batch
    // it receives twice is indexed twice: repeats are reported, not failed.
    if (r.exactly?.missingCount) ctx.fail(`steady: spillway edge → Go rtbeat: ${r.exactly.missingCount} acknowledged messages never reached Elasticsearch`);
  });
}
