// kill -9 of spillway all while it fans out to Elasticsearch, OpenSearch and
// files, several times, under load: every acknowledged message ends up in
// every output; the index outputs hold each exactly once (_id = uuid), the
// files at least once (duplicates allowed by their guarantee, and counted).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { ES_URL, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { postMany } from '../helpers/load.mjs';
import { readEvents } from '../helpers/ndjson-files.mjs';
import { allIds, compareSets, OS_URL, osTestIndex, requireOpenSearch } from '../helpers/opensearch.mjs';

test('kill -9 during a fan-out to elasticsearch, opensearch and file, 3 times: nothing acknowledged lost', { timeout: 600_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  if (!(await requireOpenSearch(t))) return;
  const esIdx = testIndex();
  const osIdx = osTestIndex();
  const dir = tempDir();
  const out = tempDir('spillway-files-');
  const args = [
    '--path', dir, '--interval', '0.1', '--batch', '500',
    '--output', 'elasticsearch,opensearch,file',
    '--es', ES_URL, '--index', esIdx.pattern, '--opensearch', OS_URL, '--opensearch-index', osIdx.pattern,
    '--file-path', `${out}/events.ndjson`, '--file-rotate-bytes', '1MiB',
  ];
  let d;
  t.after(async () => {
    await d?.kill();
    removeDir(dir);
    removeDir(out);
    await esIdx.cleanup();
    await osIdx.cleanup();
  });

  const acked = new Set();
  for (let round = 0; round < 3; round++) {
    d = await startDaemon('all', args);
    const base = (await stats(d.url)).outputs;
    const load = postMany(d.url, { total: 8000, connections: 16 });
    // Kill once each output has delivered something in this round: mid-stream.
    await waitFor('delivery under way', async () => {
      const o = (await stats(d.url).catch(() => undefined))?.outputs;
      return o && ['elasticsearch', 'opensearch', 'file'].every((n) => o[n].delivered > (base[n]?.delivered ?? 0) + 2000);
    }, { timeoutMs: 120_000, everyMs: 50 });
    await d.kill();
    const r = await load;
    for (const u of r.acked) acked.add(u);
    t.diagnostic(`round ${round}: ${r.acked.size} acknowledged before the kill, ${r.errors} failed`);
  }
  d = await startDaemon('all', args);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 300_000, everyMs: 250 });

  // What the indices hold: every acknowledged message, and possibly messages
  // stored just before a kill whose 200 never reached the client (stored, so
  // delivered: not a loss, not a duplicate). Both indices hold the same set.
  const esIds = await allIds(esIdx.all, ES_URL);
  const osIds = await allIds(osIdx.all, OS_URL);
  const es = compareSets(acked, esIds);
  const os = compareSets(acked, osIds);
  const files = readEvents(out);
  const file = compareSets(acked, files.uuids);
  t.diagnostic(`${acked.size} acknowledged; stored but unacknowledged at a kill: ${es.extra.length}; ` +
    `file duplicates ${file.duplicates.length} (at least once), torn lines ${files.torn}`);
  assert.deepEqual(es.missing, [], 'elasticsearch: nothing acknowledged missing');
  assert.deepEqual(es.duplicates, [], 'elasticsearch: no duplicate');
  assert.deepEqual(os.missing, [], 'opensearch: nothing acknowledged missing');
  assert.deepEqual(os.duplicates, [], 'opensearch: no duplicate');
  assert.deepEqual(compareSets(new Set(esIds), osIds), { missing: [], extra: [], duplicates: [] }, 'opensearch holds what elasticsearch holds');
  assert.deepEqual(file.missing, [], 'file: nothing acknowledged missing');
  const esSet = new Set(esIds);
  assert.deepEqual(files.uuids.filter((u) => !esSet.has(u)), [], 'every line in the files is a stored message');
  assert.deepEqual([...esSet].filter((u) => !new Set(files.uuids).has(u)), [], 'the files hold every stored message');
});
