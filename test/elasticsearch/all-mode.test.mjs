// spillway all against the real Elasticsearch: every acknowledged message
// becomes exactly one document whose _id is the acknowledged uuid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { checkExactlyOnce, count, es, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { postMany } from '../helpers/load.mjs';

test('100 000 messages through spillway all land exactly once', { timeout: 600_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--index', idx.pattern, '--interval', '0.2']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await idx.cleanup();
  });

  const load = await postMany(d.url, { total: 100_000, connections: 64 });
  assert.equal(load.errors, 0);
  assert.deepEqual([...load.refused], []);
  assert.equal(load.acked.size, 100_000);

  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 300_000, everyMs: 500 });
  const check = await checkExactlyOnce(idx.all, load.acked);
  assert.equal(check.missing.length, 0, `missing ${check.missing.length} acknowledged uuids`);
  assert.equal(check.total, 100_000, 'one document per acknowledged message, no more');

  // The document has rtbeat's shape.
  const hit = (await es(`/${idx.all}/_search?size=1`)).body.hits.hits[0];
  assert.equal(hit._source.type, 'rtbeat');
  assert.equal(hit._id, hit._source.rxtxMsg.uuid);
  assert.deepEqual(Object.keys(hit._source.rxtxMsg), ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload']);
  assert.equal(hit._source['@timestamp'], hit._source.rxtxMsg.time);
  assert.equal(typeof hit._source.clientIp, 'string');
  assert.ok(/^\d{19}$/.test(hit._source.rxtxMsg.seq));
  const s = await stats(d.url);
  assert.equal(s.stage.indexed, 100_000);
  assert.equal(s.edge.received, 100_000);
});

test('a mapping conflict dead-letters one message; the rest of its batch lands', { timeout: 120_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--index', idx.pattern, '--interval', '0.5']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await idx.cleanup();
  });
  // First fix the mapping of payload.amount as a number.
  const first = await (await fetch(`${d.url}/rx/pos/till/sale`, { method: 'POST', body: '{"amount":12}' })).json();
  await waitFor('first document', async () => (await count(idx.all)) === 1);
  // Then a batch where one message conflicts (object where a number is mapped).
  const uuids = [];
  for (const body of ['{"amount":1}', '{"amount":{"not":"a number"}}', '{"amount":3}']) {
    const r = await (await fetch(`${d.url}/rx/pos/till/sale`, { method: 'POST', body })).json();
    assert.equal(r.status, 'OK');
    uuids.push(r.uuid);
  }
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0);
  const events = await checkExactlyOnce(`${idx.all},-${idx.dlq}`, [first.uuid, uuids[0], uuids[2]]);
  assert.deepEqual(events.missing, []);
  assert.equal(events.total, 3);
  await es(`/${idx.dlq}/_refresh`, { method: "POST" });
  const dlq = await es(`/${idx.dlq}/_search`, { method: 'POST', body: { query: { ids: { values: [uuids[1]] } } } });
  assert.equal(dlq.body.hits.total.value, 1, 'the conflicting message is in the dead-letter index');
  const letter = dlq.body.hits.hits[0]._source;
  assert.equal(letter.error.status, 400);
  assert.match(letter.error.type, /parsing|mapper|illegal/);
  assert.equal(JSON.parse(letter.original).payload.amount.not, 'a number');
  assert.equal((await stats(d.url)).stage.deadLettered, 1);
  const metrics = await (await fetch(`${d.url}/metrics`)).text();
  assert.match(metrics, /rtbeat_dead_lettered_items 1/);
});
