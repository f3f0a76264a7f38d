// Elasticsearch pushing back for the whole run: a private node (a free port,
// its own run dir, killed and removed whatever happens) with a write thread
// pool of one thread and a queue of one, so concurrent bulks get 429
// (es_rejected_execution_exception) item by item. `spillway all` retries only
// the rejected items; nothing is dead-lettered, nothing is lost, nothing is
// written twice, nothing is written that was not acked. On the way it checks
// that scripts/es.sh refuses to hand out that node to a start asking other
// settings, and accepts the same settings.
import { freePort, stats } from '../../helpers/daemon.mjs';
import { esScript, testIndex } from '../../helpers/es.mjs';
import { ledger, mergeRefused, result, unackedCheck, waitDocs, waitDrained } from '../lib.mjs';

export const name = 'Elasticsearch answering 429 for the whole run';

export async function run({ quick, log = () => {}, signal, scope }) {
  const node = await scope.esNode({ settings: '-Ethread_pool.write.queue_size=1 -Ethread_pool.write.size=1' });
  // es.sh against the running node: other settings (or none) are refused with
  // exit 4, the same ones (in another order) are "already running".
  const again = (settings) => esScript('start', { ...node.env, SPILLWAY_ES_SETTINGS: settings }, { signal });
  const other = await again('-Ethread_pool.write.queue_size=1');
  const none = await again('');
  const same = await again('thread_pool.write.size=1 -Ethread_pool.write.queue_size=1');
  const idx = testIndex('spillway-chaos'); // on the private node, removed with it
  const dir = await scope.tempDir();
  const port = await freePort();
  // Small bulks, many in flight: the shape that makes a tiny queue overflow.
  const d = await scope.daemon('all', ['--path', dir, '--es', node.url, '--index', idx.pattern, '--interval', '0.1',
    '--batch', '200', '--bulk-bytes', '16k', '--bulk-concurrency', '8', '--inflight', '4', '--retry-max', '1',
    '--log-level', 'error'], { port });
  const load = scope.load(() => d.url, { connections: 16, run: 'tq', max: quick ? 15_000 : 60_000, maxMs: 600_000, rxbEvery: 5 });
  await load.done;
  const { acked, ackedTags, refused, errors } = await load.stop();
  log(`  ${acked.size} requests acked; draining against the throttled node`);
  const drained = Date.now();
  await waitDrained(d.url, 600_000, signal);
  const drainSeconds = (Date.now() - drained) / 1000;
  const docs = await waitDocs(idx.all, acked, 60_000, node.url, signal);
  const l = ledger(docs, acked, ackedTags);
  const s = await stats(d.url);
  return result(name, {
    acked: l.messagesAcked, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
    refused: mergeRefused(refused),
    notes: `${acked.size} requests acked (every 5th an /rxb of 5 lines); ${s.stage.retried} bulk items answered 429 and retried; drained ${drainSeconds.toFixed(1)} s after the load stopped; ${s.stage.deadLettered} dead-lettered; ${l.unacked} stored but never acked; es.sh start on the running node: other settings exit ${other.code}, none exit ${none.code}, same exit ${same.code}`,
    checks: [
      unackedCheck(l),
      { what: `Elasticsearch pushed back (${s.stage.retried} items retried)`, ok: s.stage.retried > 0 },
      { what: 'a 429 is never dead-lettered', ok: s.stage.deadLettered === 0 },
      { what: `no connection errors (${errors})`, ok: errors === 0 },
      { what: 'refusals only 503', ok: [...refused.keys()].every((c) => c === 503) },
      { what: `es.sh start refuses the node to other settings (exit ${other.code}) and to none (exit ${none.code}), accepts the same (exit ${same.code})`, ok: other.code === 4 && none.code === 4 && same.code === 0 },
    ],
  });
}
