// npm run bench -- --sweep : a grid over the knobs that shape throughput,
// for docs/performance.md's tuning guide. Ingest: shards × writers with a
// fleet of 1000 terminals on /rx. Delivery (all mode into Elasticsearch):
// forwarders × batch × bulk concurrency. Same machine, same run, same tools.
import { join } from 'node:path';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../test/helpers/daemon.mjs';
import { testIndex } from '../test/helpers/es.mjs';
import { describeComparison } from '../load/lib/ledger.mjs';
import { postBatches } from '../load/lib/post-loop.mjs';
import { compactPosEventJson, posEventJson as posEvent } from '../load/lib/payload.mjs';
import { exactlyOnceInto } from './lib/elasticsearch.mjs';
import { runWrk } from './lib/wrk.mjs';

export async function sweep({ seconds = 6, deliveryN = 100_000, log = console.error } = {}) {
  const work = tempDir('spillway-sweep-');
  const ingest = [];
  for (const shards of [1, 2, 4, 8]) {
    for (const writers of [1, 2]) {
      const dir = join(work, `i-${shards}-${writers}`);
      const d = await startDaemon('edge', ['--path', dir, '--ingest', 'http://127.0.0.1:9/in', '--maxq', '100000000',
        '--shards', String(shards), '--writers', String(writers), '--log-level', 'error']);
      const r = await runWrk({ url: `${d.url}/rx/pos/till-{n}/sale`, fleet: 1000, body: posEvent(), seconds, connections: 64, dir: work });
      ingest.push({ shards, writers, rps: r.rps, p50: r.latencyMs.p50, p99: r.latencyMs.p99, non2xx: r.non2xx });
      log(`[sweep] ingest shards=${shards} writers=${writers}: ${Math.round(r.rps)} req/s p99 ${r.latencyMs.p99} ms`);
      await d.kill();
      removeDir(dir);
    }
  }
  const delivery = [];
  for (const forwarders of [1, 2]) {
    for (const batch of [1000, 5000]) {
      for (const bulkConcurrency of [2, 4]) {
        const idx = testIndex('sweep');
        const dir = join(work, `d-${forwarders}-${batch}-${bulkConcurrency}`);
        // Fill the store with Elasticsearch unreachable (64 keys: even over the
        // shards), then measure the drain alone.
        const fill = await startDaemon('all', ['--path', dir, '--es', 'http://127.0.0.1:9', '--index', idx.pattern, '--log-level', 'error']);
        const ledger = await postBatches(fill.url, deliveryN, { lines: 500, concurrency: 4, make: compactPosEventJson, producer: 'sweep', label: 'd' });
        await fill.stop();
        const t0 = performance.now();
        const d = await startDaemon('all', ['--path', dir, '--index', idx.pattern, '--forwarders', String(forwarders),
          '--batch', String(batch), '--bulk-concurrency', String(bulkConcurrency), '--interval', '0.1', '--log-level', 'error']);
        await waitFor('drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 600_000, everyMs: 200 });
        const secs = (performance.now() - t0) / 1000;
        const acked = ledger.acked.size;
        // Exactly once: the set of acknowledged uuids against the documents' uuids.
        const exactly = await exactlyOnceInto(idx.all, ledger.acked);
        delivery.push({ forwarders, batch, bulkConcurrency, docs: exactly.arrived, acked, exact: exactly.exact, docsPerSecond: acked / secs });
        log(`[sweep] delivery forwarders=${forwarders} batch=${batch} bulk=${bulkConcurrency}: ${Math.round(acked / secs)} docs/s`);
        await d.kill();
        removeDir(dir);
        await idx.cleanup();
        if (!exactly.exact) throw new Error(`sweep: ${describeComparison(exactly)} (of ${acked} acknowledged)`);
      }
    }
  }
  removeDir(work);
  return { ingest, delivery };
}

export function sweepMarkdown({ ingest, delivery }) {
  const l = ['## Sweep', '', 'Ingest, `/rx` 300 B, fleet of 1000 terminals, 64 connections, Elasticsearch idle:', '',
    '| shards | writers | req/s | p50 ms | p99 ms |', '| ---: | ---: | ---: | ---: | ---: |'];
  for (const x of ingest) l.push(`| ${x.shards} | ${x.writers} | ${Math.round(x.rps).toLocaleString('en-US')} | ${x.p50} | ${x.p99} |`);
  l.push('', 'Delivery, all mode, a backlog of 131 B events drained into Elasticsearch (4 shards):', '',
    '| forwarders | batch | bulk concurrency | docs/s | exactly once |', '| ---: | ---: | ---: | ---: | :---: |');
  for (const x of delivery) l.push(`| ${x.forwarders} | ${x.batch} | ${x.bulkConcurrency} | ${Math.round(x.docsPerSecond).toLocaleString('en-US')} | ${x.exact ? 'yes' : 'NO'} |`);
  return l.join('\n') + '\n';
}
