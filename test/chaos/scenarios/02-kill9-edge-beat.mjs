// edge → beat → Elasticsearch under load: kill -9 of the beat, then of the
// edge, restarting each on the same port (and the edge on the same --path):
// every acked uuid exactly once.
import { freePort, removeDir, startDaemon, tempDir } from '../../helpers/daemon.mjs';
import { testIndex } from '../../helpers/es.mjs';
import { cleanupIndex, ledger, rand, result, sleep, startLoad, waitDocs, waitDrained, mergeRefused } from '../lib.mjs';

export const name = 'kill -9 of beat and edge (edge → beat)';

export async function run({ quick, log = () => {} }) {
  const rounds = quick ? 2 : 5;
  const idx = testIndex('spillway-chaos');
  const dir = tempDir('spillway-chaos-');
  const edgePort = await freePort();
  const beatPort = await freePort();
  const beatArgs = ['--index', idx.pattern, '--log-level', 'warn'];
  const edgeArgs = ['--path', dir, '--ingest', `http://127.0.0.1:${beatPort}/in`, '--interval', '0.2', '--retry-max', '1', '--batch', '300', '--log-level', 'warn'];
  let beat = await startDaemon('beat', beatArgs, { port: beatPort });
  let edge = await startDaemon('edge', edgeArgs, { port: edgePort });
  let up = edge.url;
  const load = startLoad(() => up, { connections: 16, run: 'eb', maxMs: 300_000, rxbEvery: 5 });
  const exits = [];
  try {
    for (let k = 0; k < rounds; k++) {
      await sleep(rand(500, 2000));
      beat.child.kill('SIGKILL');
      exits.push((await beat.exited).signal);
      await sleep(rand(200, 1000)); // the edge keeps accepting while the beat is away
      beat = await startDaemon('beat', beatArgs, { port: beatPort });
      log(`  beat kill ${k + 1}/${rounds}: acked so far ${load.acked.size}`);
      await sleep(rand(500, 2000));
      up = null;
      edge.child.kill('SIGKILL');
      exits.push((await edge.exited).signal);
      edge = await startDaemon('edge', edgeArgs, { port: edgePort });
      up = edge.url;
      log(`  edge kill ${k + 1}/${rounds}: acked so far ${load.acked.size}`);
    }
    await sleep(1000);
    const { acked, ackedTags, refused, errors, errorCodes } = await load.stop();
    await waitDrained(edge.url);
    const docs = await waitDocs(idx.all, acked, 30_000);
    const l = ledger(docs, acked, ackedTags);
    return result(name, {
      acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
      refused: mergeRefused(refused),
      notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${rounds} beat kills + ${rounds} edge kills; ${errors} requests cut (${JSON.stringify(errorCodes)}); ${l.unacked} stored but never acked${l.lost ? `; lost e.g. ${l.lostSample.join(',')}` : ''}`,
      checks: [
        { what: `no seq handed out twice across restarts (${l.seqReused} reused)`, ok: l.seqReused === 0 },
        { what: `every /rxb request stored all its lines or none (${l.partialBatches} partial)`, ok: l.partialBatches === 0 },
        { what: 'every kill was a SIGKILL', ok: exits.every((s) => s === 'SIGKILL') },
        { what: 'load was acknowledged', ok: acked.size > rounds * 50 },
      ],
    });
  } finally {
    up = null;
    await load.stop();
    await edge?.kill();
    await beat?.kill();
    removeDir(dir);
    await cleanupIndex(idx);
  }
}
