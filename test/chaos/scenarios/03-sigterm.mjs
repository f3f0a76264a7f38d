// SIGTERM of `spillway all` under load, then a restart on the same --path:
// everything acknowledged is delivered, exactly once; the stop exits 0.
import { freePort, removeDir, startDaemon, tempDir } from '../../helpers/daemon.mjs';
import { testIndex } from '../../helpers/es.mjs';
import { cleanupIndex, ledger, rand, result, sleep, startLoad, waitDocs, waitDrained, mergeRefused } from '../lib.mjs';

export const name = 'SIGTERM of all under load';

export async function run({ quick, log = () => {} }) {
  const rounds = quick ? 2 : 5;
  const idx = testIndex('spillway-chaos');
  const dir = tempDir('spillway-chaos-');
  const port = await freePort();
  const args = ['--path', dir, '--index', idx.pattern, '--interval', '0.5', '--retry-max', '1', '--log-level', 'warn', '--shutdown-timeout', '10'];
  let d;
  let up = null;
  const load = startLoad(() => up, { connections: 16, run: 'st', maxMs: 300_000, rxbEvery: 5 });
  const exits = [];
  try {
    for (let k = 0; k < rounds; k++) {
      d = await startDaemon('all', args, { port });
      up = d.url;
      await sleep(rand(800, 2500));
      const t0 = Date.now();
      d.child.kill('SIGTERM');
      const ex = await d.exited;
      up = null;
      exits.push(ex);
      log(`  SIGTERM ${k + 1}/${rounds}: exit ${ex.code}/${ex.signal} in ${Date.now() - t0} ms, acked so far ${load.acked.size}`);
    }
    d = await startDaemon('all', args, { port });
    up = d.url;
    await sleep(800);
    const { acked, ackedTags, refused, errors, errorCodes } = await load.stop();
    await waitDrained(d.url);
    const docs = await waitDocs(idx.all, acked, 30_000);
    const l = ledger(docs, acked, ackedTags);
    return result(name, {
      acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
      refused: mergeRefused(refused),
      notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${rounds} SIGTERMs, exits ${exits.map((e) => e.code ?? e.signal).join(',')}; ${errors} connection errors (${JSON.stringify(errorCodes)}); ${l.unacked} stored but never acked`,
      checks: [
        { what: `no seq handed out twice across restarts (${l.seqReused} reused)`, ok: l.seqReused === 0 },
        { what: `every /rxb request stored all its lines or none (${l.partialBatches} partial)`, ok: l.partialBatches === 0 },
        { what: 'every SIGTERM exited 0', ok: exits.every((e) => e.code === 0) },
        { what: 'load was acknowledged', ok: acked.size > rounds * 50 },
        { what: 'refusals only 503', ok: [...refused.keys()].every((s) => s === 503) },
      ],
    });
  } finally {
    up = null;
    await load.stop();
    await d?.kill();
    removeDir(dir);
    await cleanupIndex(idx);
  }
}
