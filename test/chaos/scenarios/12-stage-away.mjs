// The stage away under an edge taking load: first its port is closed
// (connection refused), then a "black hole" listens there — it accepts
// connections and reads every batch but never answers — and finally the real
// beat starts on that port. The edge keeps acknowledging throughout, gives up
// on each unanswered batch after --tx-timeout, retries the identical batch,
// and once the beat is up every acked message lands exactly once.
import net from 'node:net';
import { freePort, stats } from '../../helpers/daemon.mjs';
import { ledger, mergeRefused, result, unackedCheck, waitDocs, waitDrained } from '../lib.mjs';

export const name = 'stage unreachable, then accepting but never answering';

/** Accepts, swallows every byte, never writes. close() drops every socket. */
function blackHole(port) {
  const sockets = new Set();
  let bytes = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (b) => (bytes += b.length));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({
      get bytes() { return bytes; },
      close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
    }));
  });
}

export async function run({ quick, log = () => {}, signal, scope }) {
  const phaseMs = quick ? 5_000 : 30_000;
  const txTimeout = 2;
  const idx = await scope.index();
  const dir = await scope.tempDir();
  const stagePort = await freePort();
  const edge = await scope.daemon('edge', ['--path', dir, '--ingest', `http://127.0.0.1:${stagePort}/in`,
    '--interval', '0.2', '--retry-max', '0.5', '--tx-timeout', String(txTimeout), '--batch', '500', '--log-level', 'error']);
  const load = scope.load(() => edge.url, { connections: 16, run: 'sa', maxMs: 600_000, rxbEvery: 5 });
  const phases = [];
  const phase = async (what) => {
    const acked0 = load.acked.size;
    const fails0 = (await stats(edge.url)).edge.txFails;
    await scope.sleep(phaseMs);
    const s = (await stats(edge.url)).edge;
    const p = { what, ackedDuring: load.acked.size - acked0, failedAttempts: s.txFails - fails0, delivered: s.txMessages, inQueue: s.inQueue };
    phases.push(p);
    log(`  ${what}: ${p.ackedDuring} acked, ${p.failedAttempts} batch attempts failed, ${p.inQueue} held`);
    return p;
  };
  await phase('port closed');
  const hole = await blackHole(stagePort);
  await scope.defer('black hole', () => hole.close());
  await phase('black hole');
  const swallowed = hole.bytes;
  await hole.close();
  await scope.daemon('beat', ['--index', idx.pattern, '--log-level', 'error'], { port: stagePort });
  await scope.sleep(2000);
  const { acked, ackedTags, refused, errors } = await load.stop();
  await waitDrained(edge.url, 300_000, signal);
  const docs = await waitDocs(idx.all, acked, 60_000, undefined, signal);
  const l = ledger(docs, acked, ackedTags);
  const [closed, hung] = phases;
  return result(name, {
    acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
    refused: mergeRefused(refused),
    notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${phases.map((p) => `${p.what} ${phaseMs / 1000} s: ${p.ackedDuring} acked, ${p.failedAttempts} failed attempts, ${p.inQueue} held`).join('; ')}; the black hole swallowed ${swallowed} bytes; ${l.unacked} stored but never acked`,
    checks: [
      unackedCheck(l),
      ...phases.map((p) => ({ what: `the edge kept acknowledging with the stage ${p.what}`, ok: p.ackedDuring > 100 })),
      { what: 'nothing was delivered before the beat came up', ok: hung.delivered === 0 },
      { what: 'refused connections were retried', ok: closed.failedAttempts > 0 },
      { what: `unanswered batches timed out after --tx-timeout and were retried (${hung.failedAttempts})`, ok: hung.failedAttempts > 0 && swallowed > 0 },
      { what: `no connection errors (${errors})`, ok: errors === 0 },
      { what: 'refusals only 503', ok: [...refused.keys()].every((c) => c === 503) },
    ],
  });
}
