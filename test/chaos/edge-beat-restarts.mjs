// edge → beat → Elasticsearch under load: stop the beat, then the edge, with
// `stopSignal`, restarting each on the same port (the edge on the same --path),
// `rounds` times. SIGKILL: every acked uuid exactly once, and nothing stored
// without a 200 but what an edge kill cut in flight. SIGTERM: also every exit
// 0, only 503s as refusals, and nothing at all stored without a 200.
// Scenarios 02 and 08 are this with one signal each.
import { freePort } from '../helpers/daemon.mjs';
import { ledger, rand, result, unackedCheck, waitDocs, waitDrained, mergeRefused } from './lib.mjs';

export async function edgeBeatRestarts({ name, stopSignal, quick, log = () => {}, signal, scope }) {
  const graceful = stopSignal === 'SIGTERM';
  const what = graceful ? 'SIGTERM' : 'kill';
  const rounds = quick ? 2 : 5;
  const idx = await scope.index();
  const dir = await scope.tempDir();
  const edgePort = await freePort();
  const beatPort = await freePort();
  const extra = graceful ? ['--shutdown-timeout', '10'] : [];
  const beatArgs = ['--index', idx.pattern, '--log-level', 'warn', ...extra];
  const edgeArgs = ['--path', dir, '--ingest', `http://127.0.0.1:${beatPort}/in`, '--interval', '0.2', '--retry-max', '1', '--batch', '300', '--log-level', 'warn', ...extra];
  let beat = await scope.daemon('beat', beatArgs, { port: beatPort });
  let edge = await scope.daemon('edge', edgeArgs, { port: edgePort });
  let up = edge.url;
  const load = scope.load(() => up, { connections: 16, run: graceful ? 'tb' : 'eb', maxMs: 300_000, rxbEvery: 5 });
  const exits = [];
  for (let k = 0; k < rounds; k++) {
    await scope.sleep(rand(500, 2000));
    beat.child.kill(stopSignal);
    exits.push(await beat.exited);
    await scope.sleep(rand(200, 1000)); // the edge keeps accepting while the beat is away
    beat = await scope.daemon('beat', beatArgs, { port: beatPort });
    log(`  beat ${what} ${k + 1}/${rounds}: acked so far ${load.acked.size}`);
    await scope.sleep(rand(500, 2000));
    // A graceful edge answers 503 while it stops; a killed one cannot answer at all.
    if (!graceful) up = null;
    edge.child.kill(stopSignal);
    exits.push(await edge.exited);
    up = null;
    edge = await scope.daemon('edge', edgeArgs, { port: edgePort });
    up = edge.url;
    log(`  edge ${what} ${k + 1}/${rounds}: acked so far ${load.acked.size}`);
  }
  await scope.sleep(1000);
  const { acked, ackedTags, cutTags, refused, errors, errorCodes } = await load.stop();
  await waitDrained(edge.url, 180_000, signal);
  const docs = await waitDocs(idx.all, acked, 30_000, undefined, signal);
  const l = ledger(docs, acked, ackedTags);
  const checks = [
    unackedCheck(l, graceful ? undefined : cutTags),
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
    notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${rounds} beat ${what}s + ${rounds} edge ${what}s; ${errors} requests failed (${JSON.stringify(errorCodes)}), ${cutTags.size} messages cut in flight; ${l.unacked} stored but never acked${l.lost ? `; lost e.g. ${l.lostSample.join(',')}` : ''}`,
    checks,
  });
}
