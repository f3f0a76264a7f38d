// SIGTERM of `spillway all` under load, then a restart on the same --path:
// everything acknowledged is delivered, exactly once; nothing is stored
// without a 200; the stop exits 0.
import { freePort } from '../../helpers/daemon.mjs';
import { ledger, rand, result, unackedCheck, waitDocs, waitDrained, mergeRefused } from '../lib.mjs';

export const name = 'SIGTERM of all under load';

export async function run({ quick, log = () => {}, signal, scope }) {
  const rounds = quick ? 2 : 5;
  const idx = await scope.index();
  const dir = await scope.tempDir();
  const port = await freePort();
  const args = ['--path', dir, '--index', idx.pattern, '--interval', '0.5', '--retry-max', '1', '--log-level', 'warn', '--shutdown-timeout', '10'];
  let d;
  let up = null;
  const load = scope.load(() => up, { connections: 16, run: 'st', maxMs: 300_000, rxbEvery: 5 });
  const exits = [];
  for (let k = 0; k < rounds; k++) {
    d = await scope.daemon('all', args, { port });
    up = d.url;
    await scope.sleep(rand(800, 2500));
    const t0 = Date.now();
    d.child.kill('SIGTERM');
    const ex = await d.exited;
    up = null;
    exits.push(ex);
    log(`  SIGTERM ${k + 1}/${rounds}: exit ${ex.code}/${ex.signal} in ${Date.now() - t0} ms, acked so far ${load.acked.size}`);
  }
  d = await scope.daemon('all', args, { port });
  up = d.url;
  await scope.sleep(800);
  const { acked, ackedTags, cutTags, refused, errors, errorCodes } = await load.stop();
  await waitDrained(d.url, 180_000, signal);
  const docs = await waitDocs(idx.all, acked, 30_000, undefined, signal);
  const l = ledger(docs, acked, ackedTags);
  return result(name, {
    acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
    refused: mergeRefused(refused),
    notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${rounds} SIGTERMs, exits ${exits.map((e) => e.code ?? e.signal).join(',')}; ${errors} connection errors (${JSON.stringify(errorCodes)}), ${cutTags.size} messages cut in flight; ${l.unacked} stored but never acked`,
    checks: [
      unackedCheck(l),
      { what: `no seq handed out twice across restarts (${l.seqReused} reused)`, ok: l.seqReused === 0 },
      { what: `every /rxb request stored all its lines or none (${l.partialBatches} partial)`, ok: l.partialBatches === 0 },
      { what: 'every SIGTERM exited 0', ok: exits.every((e) => e.code === 0) },
      { what: 'load was acknowledged', ok: acked.size > rounds * 50 },
      { what: 'refusals only 503', ok: [...refused.keys()].every((s) => s === 503) },
    ],
  });
}
