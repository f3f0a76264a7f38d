// edge → beat → Elasticsearch under load: stop the beat, then the edge, with
// `signal`, restarting each on the same port (the edge on the same --path),
// `rounds` times. SIGKILL: every acked uuid exactly once. SIGTERM: also
// every exit 0 and only 503s as refusals. Scenarios 02 and 08 are this with
// one signal each.
import { freePort, removeDir, startDaemon, tempDir } from '../helpers/daemon.mjs';
import { testIndex } from '../helpers/es.mjs';
import { cleanupIndex, ledger, rand, result, sleep, startLoad, waitDocs, waitDrained, mergeRefused } from './lib.mjs';

export async function edgeBeatRestarts({ name, signal, quick, log = () => {} }) {
  const graceful = signal === 'SIGTERM';
  const what = graceful ? 'SIGTERM' : 'kill';
  const rounds = quick ? 2 : 5;
  const idx = testIndex('spillway-chaos');
  const dir = tempDir('spillway-chaos-');
  const edgePort = await freePort();
  const beatPort = await freePort();
  const extra = graceful ? ['--shutdown-timeout', '10'] : [];
  const beatArgs = ['--index', idx.pattern, '--log-level', 'warn', ...extra];
  const edgeArgs = ['--path', dir, '--ingest', `http://127.0.0.1:${beatPort}/in`, '--interval', '0.2', '--retry-max', '1', '--batch', '300', '--log-level', 'warn', ...extra];
  let beat = await startDaemon('beat', beatArgs, { port: beatPort });
  let edge = await startDaemon('edge', edgeArgs, { port: edgePort });
  let up = edge.url;
  const load = startLoad(() => up, { connections: 16, run: graceful ? 'tb' : 'eb', maxMs: 300_000, rxbEvery: 5 });
  const exits = [];
  try {
    for (let k = 0; k < rounds; k++) {
      await sleep(rand(500, 2000));
      beat.child.kill(signal);
      exits.push(await beat.exited);
      await sleep(rand(200, 1000)); // the edge keeps accepting while the beat is away
      beat = await startDaemon('beat', beatArgs, { port: beatPort });
      log(`  beat ${what} ${k + 1}/${rounds}: acked so far ${load.acked.size}`);
      await sleep(rand(500, 2000));
      // A graceful edge answers 503 while it stops; a killed one cannot answer at all.
      if (!graceful) up = null;
      edge.child.kill(signal);
      exits.push(await edge.exited);
      up = null;
      edge = await startDaemon('edge', edgeArgs, { port: edgePort });
      up = edge.url;
      log(`  edge ${what} ${k + 1}/${rounds}: acked so far ${load.acked.size}`);
    }
    await sleep(1000);
    const { acked, ackedTags, refused, errors, errorCodes } = await load.stop();
    await waitDrained(edge.url);
    const docs = await waitDocs(idx.all, acked, 30_000);
    const l = ledger(docs, acked, ackedTags);
    const checks = [
      { what: `no seq handed out twice across restarts (${l.seqReused} reused)`, ok: l.seqReused === 0 },
      { what: `every /rxb request stored all its lines or none (${l.partialBatches} partial)`, ok: l.partialBatches === 0 },
      { what: 'load was acknowledged', ok: acked.size > rounds * 50 },
    ];
    if (graceful) {
      checks.push(
        { what: `every SIGTERM exited 0 (${exits.map((e) => e.code ?? e.signal).join(',')})`, ok: exits.every((e) => e.code === 0) },
        { what: 'refusals only 503', ok: [...refused.keys()].every((s) => s === 503) },
      );
    } else {
      checks.push({ what: 'every kill was a SIGKILL', ok: exits.every((e) => e.signal === 'SIGKILL') });
    }
    return result(name, {
      acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
      refused: mergeRefused(refused),
      notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${rounds} beat ${what}s + ${rounds} edge ${what}s; ${errors} requests cut (${JSON.stringify(errorCodes)}); ${l.unacked} stored but never acked${l.lost ? `; lost e.g. ${l.lostSample.join(',')}` : ''}`,
      checks,
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
