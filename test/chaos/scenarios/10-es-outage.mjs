// Elasticsearch failing under `spillway all` while load keeps coming: first
// a clean stop for a while (30 s in long mode), then a kill -9 (no flush, the
// translog is replayed at the next start). The edge keeps acknowledging into
// its store the whole time; once Elasticsearch is back every acked message is
// there exactly once. Runs on a private node (port 9252) so the shared one
// on 9200 is never stopped under the other tests.
import { freePort, removeDir, startDaemon, stats, tempDir } from '../../helpers/daemon.mjs';
import { esNode, testIndex } from '../../helpers/es.mjs';
import { ledger, mergeRefused, rand, result, sleep, startLoad, waitDocs, waitDrained } from '../lib.mjs';

export const name = 'Elasticsearch stopped, then killed -9, under load';

export async function run({ quick, log = () => {} }) {
  const outageMs = quick ? 8_000 : 30_000;
  const node = esNode(9252);
  await node.start({ fresh: true });
  const idx = testIndex('spillway-chaos');
  const dir = tempDir('spillway-chaos-');
  const port = await freePort();
  const d = await startDaemon('all', ['--path', dir, '--es', node.url, '--index', idx.pattern,
    '--interval', '0.2', '--retry-max', '1', '--log-level', 'error'], { port });
  const load = startLoad(() => d.url, { connections: 16, run: 'eo', maxMs: 600_000, rxbEvery: 5 });
  const held = [];
  // Acks and held messages across one outage: the edge must keep taking load.
  const outage = async (what, stopNode, ms) => {
    const acked0 = load.acked.size;
    await stopNode();
    await sleep(ms);
    const s = (await stats(d.url)).edge;
    held.push({ what, inQueue: s.inQueue, ackedDuring: load.acked.size - acked0 });
    log(`  ${what}: ${load.acked.size - acked0} requests acked during it, ${s.inQueue} held`);
    await node.start();
  };
  try {
    await sleep(rand(1500, 3000));
    await outage('stopped', node.stop, outageMs);
    await sleep(rand(1500, 3000));
    await outage('killed -9', node.kill, outageMs / 2);
    await sleep(2000);
    const { acked, ackedTags, refused, errors, errorCodes } = await load.stop();
    await waitDrained(d.url, 300_000);
    const docs = await waitDocs(idx.all, acked, 60_000, node.url);
    const l = ledger(docs, acked, ackedTags);
    const s = await stats(d.url);
    return result(name, {
      acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
      refused: mergeRefused(refused),
      notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); outages: ${held.map((h) => `${h.what} ${h.ackedDuring} acked, ${h.inQueue} held`).join('; ')}; ${s.stage.retried} bulk items retried, ${s.edge.txFails} batch attempts failed; ${errors} connection errors (${JSON.stringify(errorCodes)})`,
      checks: [
        ...held.map((h) => ({ what: `the edge kept acknowledging and holding while Elasticsearch was ${h.what}`, ok: h.ackedDuring > 100 && h.inQueue > 0 })),
        { what: `no connection errors (${errors})`, ok: errors === 0 },
        { what: 'refusals only 503', ok: [...refused.keys()].every((c) => c === 503) },
        { what: 'writes were retried', ok: s.stage.retried + s.edge.txFails > 0 },
        { what: `every /rxb request stored all its lines or none (${l.partialBatches} partial)`, ok: l.partialBatches === 0 },
      ],
    });
  } finally {
    await load.stop();
    await d.kill();
    removeDir(dir);
    await node.stop().catch(() => {});
  }
}
