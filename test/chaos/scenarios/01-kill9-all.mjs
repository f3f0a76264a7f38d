// kill -9 of `spillway all` at random moments under load, N times in a row,
// restarting on the same --path each time: every acked uuid exactly once, and
// nothing stored without a 200 but what a kill cut in flight.
import { freePort } from '../../helpers/daemon.mjs';
import { ledger, rand, result, unackedCheck, waitDocs, waitDrained, mergeRefused } from '../lib.mjs';

export const name = 'kill -9 of all under load';

export async function run({ quick, log = () => {}, signal, scope }) {
  const kills = quick ? 3 : 10;
  const idx = await scope.index();
  const dir = await scope.tempDir();
  const port = await freePort();
  const args = ['--path', dir, '--index', idx.pattern, '--interval', '0.2', '--retry-max', '1', '--batch', '500', '--log-level', 'warn'];
  let d;
  let up = null;
  const load = scope.load(() => up, { connections: 16, run: 'k9', maxMs: 300_000, rxbEvery: 5 });
  const exits = [];
  for (let k = 0; k < kills; k++) {
    d = await scope.daemon('all', args, { port });
    up = d.url;
    const before = load.acked.size;
    // Random moment: after at least a few acks of this life, 0.3–2.5 s in.
    await scope.sleep(rand(300, 2500));
    const t0 = Date.now();
    while (load.acked.size === before && Date.now() - t0 < 10_000) await scope.sleep(20);
    up = null;
    d.child.kill('SIGKILL');
    exits.push((await d.exited).signal);
    log(`  kill ${k + 1}/${kills}: acked so far ${load.acked.size}`);
  }
  d = await scope.daemon('all', args, { port });
  up = d.url;
  await scope.sleep(1000);
  const { acked, ackedTags, cutTags, refused, errors, errorCodes } = await load.stop();
  await waitDrained(d.url, 180_000, signal);
  const docs = await waitDocs(idx.all, acked, 30_000, undefined, signal);
  const l = ledger(docs, acked, ackedTags);
  return result(name, {
    acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
    refused: mergeRefused(refused),
    notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${kills} kills; ${errors} requests failed (${JSON.stringify(errorCodes)}), ${cutTags.size} messages cut in flight; ${l.unacked} stored but never acked${l.lost ? `; lost e.g. ${l.lostSample.join(',')}` : ''}`,
    checks: [
      unackedCheck(l, cutTags),
      { what: `no seq handed out twice across restarts (${l.seqReused} reused)`, ok: l.seqReused === 0 },
      { what: `every /rxb request stored all its lines or none (${l.partialBatches} partial)`, ok: l.partialBatches === 0 },
      { what: 'every kill was a SIGKILL', ok: exits.every((s) => s === 'SIGKILL') },
      { what: 'load was acknowledged', ok: acked.size > kills * 50 },
    ],
  });
}
