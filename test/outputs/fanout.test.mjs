// Several outputs at once (Elasticsearch, OpenSearch, files), one of them
// away: the others keep delivering within --output-window, the store holds
// the rest (pushing back instead of running ahead without bound), the away
// one catches up when it returns, and nothing is lost or sent twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCutProxy } from '../helpers/cut-proxy.mjs';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { ES_URL, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { postMany } from '../helpers/load.mjs';
import { readEvents } from '../helpers/ndjson-files.mjs';
import { allIds, compareSets, OS_URL, osTestIndex, requireOpenSearch } from '../helpers/opensearch.mjs';

// Was a todo (passed 2 of 4 runs): OpenSearch never caught up after it returned, because a
// younger batch held OpenSearch's slot in the fan-out while its retry waited for an older batch
// of its shard, which needed that slot. The slot is now given up while waiting (fanout.ts).
test('elasticsearch + opensearch + file, OpenSearch away: the others deliver within the window, it catches up, nothing lost', {
  timeout: 400_000,
}, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  if (!(await requireOpenSearch(t))) return;
  const esIdx = testIndex();
  const osIdx = osTestIndex();
  const dir = tempDir();
  const out = tempDir('spillway-files-');
  const proxy = await startCutProxy(OS_URL);
  const SHARDS = 2;
  const INFLIGHT = 1;
  const WINDOW = 3;
  const BATCH = 400;
  const d = await startDaemon('all', [
    '--path', dir, '--shards', String(SHARDS), '--forwarders', '1', '--inflight', String(INFLIGHT), '--batch', String(BATCH),
    '--interval', '0.1', '--ack-timeout', '2', '--retry-max', '0.5', '--output-window', String(WINDOW),
    '--output', 'elasticsearch,opensearch', '--output', 'file',
    '--es', ES_URL, '--index', esIdx.pattern,
    '--opensearch', proxy.url, '--opensearch-index', osIdx.pattern,
    '--file-path', `${out}/events.ndjson`,
  ]);
  t.after(async () => {
    await d.kill();
    await proxy.close();
    removeDir(dir);
    removeDir(out);
    await esIdx.cleanup();
    await osIdx.cleanup();
  });
  await waitFor('every output ready', async () => {
    const o = (await stats(d.url)).outputs;
    return o.elasticsearch.ready && o.opensearch.ready && o.file.ready;
  });

  proxy.cut();
  const TOTAL = 12_000;
  const load = await postMany(d.url, { total: TOTAL, connections: 16 });
  assert.equal(load.acked.size, TOTAL);

  // While OpenSearch is away, Elasticsearch and the files move on, but only
  // within the window: each shard hands out at most inflight + window
  // batches (of at most --batch messages) until the oldest is delivered
  // everywhere. Wait until their counts stop moving, then look.
  const bound = SHARDS * (INFLIGHT + WINDOW) * BATCH;
  let last = '';
  let stableSince = Date.now();
  const s = await waitFor('the others to deliver, then stop at the window', async () => {
    const st = await stats(d.url);
    const o = st.outputs;
    const now = `${o.elasticsearch.delivered}/${o.file.delivered}`;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
    return o.elasticsearch.delivered > 0 && o.file.delivered > 0 && Date.now() - stableSince > 4000 ? st : undefined;
  }, { timeoutMs: 90_000, everyMs: 200 });
  t.diagnostic(`while OpenSearch was away: elasticsearch ${s.outputs.elasticsearch.delivered}, file ${s.outputs.file.delivered} of ${TOTAL} (bound ${bound})`);
  assert.equal(s.outputs.opensearch.delivered, 0);
  assert.ok(s.outputs.elasticsearch.delivered <= bound, `elasticsearch ${s.outputs.elasticsearch.delivered} ≤ ${bound}`);
  assert.ok(s.outputs.file.delivered <= bound, `file ${s.outputs.file.delivered} ≤ ${bound}`);
  assert.equal(s.edge.inQueue, TOTAL, 'nothing is deleted before every output has it');
  // Both the others got the same batches: the window is per shard, not per output.
  assert.equal(s.outputs.elasticsearch.delivered, s.outputs.file.delivered);

  proxy.restore();
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 300_000, everyMs: 250 });

  const none = { missing: [], extra: [], duplicates: [] };
  assert.deepEqual(compareSets(load.acked, await allIds(esIdx.all, ES_URL)), none, 'elasticsearch');
  assert.deepEqual(compareSets(load.acked, await allIds(osIdx.all, OS_URL)), none, 'opensearch');
  // The files got each batch once: the retries went only to OpenSearch.
  assert.deepEqual(compareSets(load.acked, readEvents(out).uuids), none, 'file');
  const o = (await stats(d.url)).outputs;
  assert.equal(o.elasticsearch.delivered, TOTAL);
  assert.equal(o.file.delivered, TOTAL);
  assert.equal(o.opensearch.delivered, TOTAL);
});

test('beat --output elasticsearch,file: /in answers 200 once both have the batch; not ready while one is away', { timeout: 120_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const esIdx = testIndex();
  const out = tempDir('spillway-files-');
  const proxy = await startCutProxy(ES_URL);
  const d = await startDaemon('beat', [
    '--output', 'elasticsearch,file', '--es', proxy.url, '--index', esIdx.pattern, '--file-path', `${out}/in.ndjson`,
  ]);
  t.after(async () => {
    await d.kill();
    await proxy.close();
    removeDir(out);
    await esIdx.cleanup();
  });
  await waitFor('ready', async () => (await fetch(`${d.url}/readyz`)).ok);
  const messages = Array.from({ length: 100 }, (_, i) => ({
    seq: String(2_000_000_000_000_000_000n + BigInt(i)), time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, i)).toISOString(),
    uuid: crypto.randomUUID(), producer: 'p', key: 'k', label: 'l', payload: { i },
  }));
  const body = JSON.stringify({ uuid: crypto.randomUUID(), size: messages.length, messages });
  const r = await fetch(`${d.url}/in`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200, await r.text());
  const uuids = new Set(messages.map((m) => m.uuid));
  const none = { missing: [], extra: [], duplicates: [] };
  assert.deepEqual(compareSets(uuids, await allIds(esIdx.all, ES_URL)), none, 'elasticsearch');
  assert.deepEqual(compareSets(uuids, readEvents(out).uuids), none, 'file');

  proxy.cut();
  const why = await waitFor('not ready while Elasticsearch is away', async () => {
    const res = await fetch(`${d.url}/readyz`);
    return res.status === 503 ? res.text() : undefined;
  }, { timeoutMs: 20_000 });
  assert.match(why, /output elasticsearch: Elasticsearch unreachable/);
  const refused = await fetch(`${d.url}/in`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal(refused.status, 503);
  assert.deepEqual(compareSets(uuids, readEvents(out).uuids), none, 'a refused batch reaches no output');
});
