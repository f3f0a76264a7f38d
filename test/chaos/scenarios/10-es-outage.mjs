// Elasticsearch failing under `spillway all` while load keeps coming: first
// a clean stop for a while (30 s in long mode), then a kill -9 (no flush, the
// translog is replayed at the next start). The edge keeps acknowledging into
// its store the whole time; once Elasticsearch is back every acked message is
// there exactly once, and nothing that was not acked. Runs on a private node
// (a free port, its own run dir, killed and removed whatever happens) so the
// shared one on 9200 is never stopped under the other tests.
import { freePort, stats } from '../../helpers/daemon.mjs';
import { testIndex } from '../../helpers/es.mjs';
import { ledger, mergeRefused, rand, result, unackedCheck, waitDocs, waitDrained } from '../lib.mjs';

export const name = 'Elasticsearch stopped, then killed -9, under load';
// Three node starts and the drain of the backlog they leave take ~3 min on
// the shared 2-core box: more than the default budget.
export const timeoutMs = { quick: 420_000, long: 1_200_000 };

export async function run({ quick, log = () => {}, signal, scope }) {
  const outageMs = quick ? 8_000 : 30_000;
  const node = await scope.esNode();
  const idx = testIndex('spillway-chaos'); // on the private node, removed with it
  const dir = await scope.tempDir();
  const port = await freePort();
  const d = await scope.daemon('all', ['--path', dir, '--es', node.url, '--index', idx.pattern,
    '--interval', '0.2', '--retry-max', '1', '--log-level', 'error'], { port });
  const load = scope.load(() => d.url, { connections: 16, run: 'eo', maxMs: 600_000, rxbEvery: 5 });
  const held = [];
  // Acks and held messages across one outage: the edge must keep taking load.
  const outage = async (what, stopNode, ms) => {
    const acked0 = load.acked.size;
    await stopNode();
    await scope.sleep(ms);
    const s = (await stats(d.url)).edge;
    held.push({ what, inQueue: s.inQueue, ackedDuring: load.acked.size - acked0 });
    log(`  ${what}: ${load.acked.size - acked0} requests acked during it, ${s.inQueue} held`);
    const t0 = Date.now();
    await node.start({ signal });
    log(`  node back in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  await scope.sleep(rand(1500, 3000));
  await outage('stopped', node.stop, outageMs);
  await scope.sleep(rand(1500, 3000));
  await outage('killed -9', node.kill, outageMs / 2);
  await scope.sleep(2000);
  const { acked, ackedTags, cutTags, refused, errors, errorCodes } = await load.stop();
  const t0 = Date.now();
  log(`  load stopped, ${(await stats(d.url)).edge.inQueue} held: draining`);
  await waitDrained(d.url, 300_000, signal);
  log(`  drained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const docs = await waitDocs(idx.all, acked, 60_000, node.url, signal);
  const l = ledger(docs, acked, ackedTags);
  const s = await stats(d.url);
  return result(name, {
    acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
    refused: mergeRefused(refused),
    notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); outages: ${held.map((h) => `${h.what} ${h.ackedDuring} acked, ${h.inQueue} held`).join('; ')}; ${s.stage.retried} bulk items retried, ${s.edge.txFails} batch attempts failed; ${errors} connection errors (${JSON.stringify(errorCodes)}), ${cutTags.size} messages cut; ${l.unacked} stored but never acked`,
    checks: [
      unackedCheck(l),
      ...held.map((h) => ({ what: `the edge kept acknowledging and holding while Elasticsearch was ${h.what}`, ok: h.ackedDuring > 100 && h.inQueue > 0 })),
      { what: `no connection errors (${errors})`, ok: errors === 0 },
      { what: 'refusals only 503', ok: [...refused.keys()].every((c) => c === 503) },
      { what: 'writes were retried', ok: s.stage.retried + s.edge.txFails > 0 },
      { what: `every /rxb request stored all its lines or none (${l.partialBatches} partial)`, ok: l.partialBatches === 0 },
    ],
  });
}
