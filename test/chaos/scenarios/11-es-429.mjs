// Elasticsearch pushing back for the whole run: a private node (port 9251)
// with a write thread pool of one thread and a queue of one, so concurrent
// bulks get 429 (es_rejected_execution_exception) item by item. `spillway
// all` retries only the rejected items; nothing is dead-lettered, nothing is
// lost, nothing is written twice.
import { freePort, removeDir, startDaemon, stats, tempDir } from '../../helpers/daemon.mjs';
import { esNode, testIndex } from '../../helpers/es.mjs';
import { ledger, mergeRefused, result, sleep, startLoad, waitDocs, waitDrained } from '../lib.mjs';

export const name = 'Elasticsearch answering 429 for the whole run';

export async function run({ quick, log = () => {} }) {
  const node = esNode(9251, { settings: '-Ethread_pool.write.queue_size=1 -Ethread_pool.write.size=1' });
  await node.start({ fresh: true });
  const idx = testIndex('spillway-chaos');
  const dir = tempDir('spillway-chaos-');
  const port = await freePort();
  // Small bulks, many in flight: the shape that makes a tiny queue overflow.
  const d = await startDaemon('all', ['--path', dir, '--es', node.url, '--index', idx.pattern, '--interval', '0.1',
    '--batch', '200', '--bulk-bytes', '16k', '--bulk-concurrency', '8', '--inflight', '4', '--retry-max', '1',
    '--log-level', 'error'], { port });
  const load = startLoad(() => d.url, { connections: 16, run: 'tq', max: quick ? 15_000 : 60_000, maxMs: 600_000, rxbEvery: 5 });
  try {
    await load.done;
    const { acked, ackedTags, refused, errors } = await load.stop();
    log(`  ${acked.size} requests acked; draining against the throttled node`);
    const drained = Date.now();
    await waitDrained(d.url, 600_000);
    const drainSeconds = (Date.now() - drained) / 1000;
    await sleep(500);
    const docs = await waitDocs(idx.all, acked, 60_000, node.url);
    const l = ledger(docs, acked, ackedTags);
    const s = await stats(d.url);
    return result(name, {
      acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
      refused: mergeRefused(refused),
      notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${s.stage.retried} bulk items answered 429 and retried; drained ${drainSeconds.toFixed(1)} s after the load stopped; ${s.stage.deadLettered} dead-lettered`,
      checks: [
        { what: `Elasticsearch pushed back (${s.stage.retried} items retried)`, ok: s.stage.retried > 0 },
        { what: 'a 429 is never dead-lettered', ok: s.stage.deadLettered === 0 },
        { what: `no connection errors (${errors})`, ok: errors === 0 },
        { what: 'refusals only 503', ok: [...refused.keys()].every((c) => c === 503) },
      ],
    });
  } finally {
    await load.stop();
    await d.kill();
    removeDir(dir);
    await node.stop().catch(() => {});
  }
}
