// Several --ingest URLs (issue 11): an edge with two stages fails over in
// order and comes back to the first once it takes batches again. Two real
// stages (test/helpers/receiver.mjs, which records every uuid it receives):
// the first down at start, then up, then answering 500, then gone. Every
// acknowledged message reaches exactly one of the two, once (the sets of
// uuids are compared, not counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort, removeDir, startDaemon, tempDir, waitFor } from '../helpers/daemon.mjs';
import { waitQuiet } from '../helpers/edge-client.mjs';
import { startReceiver } from '../helpers/receiver.mjs';

async function post(edgeUrl, n, tag) {
  const uuids = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${edgeUrl}/rx/${tag}-${i}/k/l`, { method: 'POST', body: JSON.stringify({ tag, i }) });
    assert.equal(r.status, 200);
    uuids.push((await r.json()).uuid);
  }
  return uuids;
}

const holds = (rcv, uuids) => uuids.every((u) => rcv.state.counts.has(u));

test('two --ingest stages: fail over in order, back to the first when it recovers, every message exactly once across both', async (t) => {
  const dir = tempDir('spillway-failover-');
  t.after(() => removeDir(dir));
  const portA = await freePort();
  let a; // the first stage: down at start
  const b = await startReceiver();
  t.after(() => b.close());
  t.after(() => a?.close());
  const edge = await startDaemon('edge', [
    '--path', join(dir, 'edge'), '--interval', '0.05', '--retry-max', '0.5', '--shards', '2',
    '--ingest', `http://127.0.0.1:${portA}/in`, '--ingest', b.url,
  ]);
  t.after(() => edge.stop());
  const all = [];

  // 1. The first stage is down (nothing listens): batches go to the second.
  const first = await post(edge.url, 40, 'down');
  all.push(...first);
  await waitFor('the second stage to hold phase 1', () => holds(b, first), { timeoutMs: 20_000 });

  // 2. The first comes up: within the failback wait (5 s after it failed, doubling while it keeps
  // failing) each forwarder thread sends a batch to it again, and stays there once it takes it.
  // Rounds of messages from many producers (so every shard and thread has batches) until a
  // whole round lands on the first stage.
  a = await startReceiver({ port: portA });
  await waitFor('every forwarder back on the recovered first stage', async () => {
    const round = await post(edge.url, 10, 'up');
    all.push(...round);
    await waitQuiet(edge.url, [a, b], { stableMs: 300 });
    return holds(a, round);
  }, { timeoutMs: 60_000, everyMs: 200 });
  const onA = await post(edge.url, 40, 'onA');
  all.push(...onA);
  await waitQuiet(edge.url, [a, b]);
  assert.ok(holds(a, onA), 'once back on the first stage, batches stay on it');
  assert.ok(onA.every((u) => !b.state.counts.has(u)), 'nothing of phase 3 went to the second stage');

  // 3. The first answers 500: the same batch goes on to the second at once.
  a.setMode('fail');
  const failing = await post(edge.url, 30, 'fail');
  all.push(...failing);
  await waitFor('the second stage to hold phase 4', () => holds(b, failing), { timeoutMs: 20_000 });

  // 4. The first goes away for good: everything keeps flowing to the second.
  a.setMode('ok');
  await waitQuiet(edge.url, [a, b]);
  await a.close();
  const gone = await post(edge.url, 30, 'gone');
  all.push(...gone);
  await waitQuiet(edge.url, [a, b]);

  // Exactly once across both stages: the union is the acknowledged set, and no uuid twice.
  const want = new Set(all);
  assert.equal(want.size, all.length);
  const seen = new Map();
  for (const rcv of [a, b]) for (const [u, n] of rcv.state.counts) seen.set(u, (seen.get(u) ?? 0) + n);
  const missing = [...want].filter((u) => !seen.has(u));
  const extra = [...seen.keys()].filter((u) => !want.has(u));
  const twice = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual({ missing, extra, twice }, { missing: [], extra: [], twice: [] });
  assert.ok(a.state.batches > 0 && b.state.batches > 0, 'both stages took batches');
  t.diagnostic(`stage A ${a.state.messages.length} messages in ${a.state.batches} batches, stage B ${b.state.messages.length} in ${b.state.batches}`);
});
