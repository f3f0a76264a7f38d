// The OpenSearch output against a real OpenSearch (scripts/opensearch.sh):
// every acknowledged message is exactly one document whose _id is its uuid;
// a refused document goes to the dead-letter index; OpenSearch away at start
// and cut mid-stream loses nothing and adds nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCutProxy } from '../helpers/cut-proxy.mjs';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { postMany } from '../helpers/load.mjs';
import { allIds, compareSets, os, OS_URL, osTestIndex, requireOpenSearch } from '../helpers/opensearch.mjs';

const osArgs = (idx, url = OS_URL) => ['--output', 'opensearch', '--opensearch', url, '--opensearch-index', idx.pattern];

test('20 000 messages through spillway all --output opensearch land exactly once', { timeout: 300_000 }, async (t) => {
  if (!(await requireOpenSearch(t))) return;
  const idx = osTestIndex();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, ...osArgs(idx), '--interval', '0.2']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await idx.cleanup();
  });

  const load = await postMany(d.url, { total: 20_000, connections: 32 });
  assert.equal(load.errors, 0);
  assert.equal(load.acked.size, 20_000);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 240_000, everyMs: 250 });

  const diff = compareSets(load.acked, await allIds(idx.all, OS_URL));
  assert.deepEqual(diff, { missing: [], extra: [], duplicates: [] });

  // rtbeat's document shape, _id = uuid, and the index template applied.
  const hit = (await os(`/${idx.all}/_search?size=1`)).body.hits.hits[0];
  assert.equal(hit._id, hit._source.rxtxMsg.uuid);
  assert.equal(hit._source.type, 'rtbeat');
  assert.deepEqual(Object.keys(hit._source.rxtxMsg), ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload']);
  assert.equal(hit._source['@timestamp'], hit._source.rxtxMsg.time);
  const mapping = (await os(`/${hit._index}/_mapping`)).body[hit._index].mappings;
  assert.equal(mapping.properties.rxtxMsg.properties.uuid.type, 'keyword', 'the template set the mapping');

  const s = await stats(d.url);
  assert.equal(s.outputs.opensearch.delivered, 20_000);
  assert.equal(s.outputs.opensearch.ready, true);
  assert.equal(s.stage.indexed, 20_000);
});

test('a mapping conflict dead-letters one message into the OpenSearch dead-letter index', { timeout: 120_000 }, async (t) => {
  if (!(await requireOpenSearch(t))) return;
  const idx = osTestIndex();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, ...osArgs(idx), '--interval', '0.2']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await idx.cleanup();
  });
  const first = await (await fetch(`${d.url}/rx/pos/till/sale`, { method: 'POST', body: '{"amount":12}' })).json();
  await waitFor('first document', async () => (await allIds(idx.all, OS_URL)).length === 1);
  const uuids = [];
  for (const body of ['{"amount":1}', '{"amount":{"not":"a number"}}', '{"amount":3}']) {
    const r = await (await fetch(`${d.url}/rx/pos/till/sale`, { method: 'POST', body })).json();
    assert.equal(r.status, 'OK');
    uuids.push(r.uuid);
  }
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0);
  const events = compareSets(new Set([first.uuid, uuids[0], uuids[2]]), await allIds(`${idx.all},-${idx.dlq}`, OS_URL));
  assert.deepEqual(events, { missing: [], extra: [], duplicates: [] });
  assert.deepEqual(await allIds(idx.dlq, OS_URL), [uuids[1]], 'the conflicting message, and only it, is dead-lettered');
  const letter = (await os(`/${idx.dlq}/_search`, { method: 'POST', body: { query: { ids: { values: [uuids[1]] } } } })).body.hits.hits[0]._source;
  assert.equal(letter.error.status, 400);
  assert.equal(JSON.parse(letter.original).payload.amount.not, 'a number');
  assert.equal((await stats(d.url)).outputs.opensearch.deadLettered, 1);
});

test('OpenSearch away at start, then cut mid-stream: not ready while away, nothing lost, no duplicate', { timeout: 300_000 }, async (t) => {
  if (!(await requireOpenSearch(t))) return;
  const idx = osTestIndex();
  const dir = tempDir();
  const proxy = await startCutProxy(OS_URL);
  proxy.cut();
  const d = await startDaemon('all', ['--path', dir, ...osArgs(idx, proxy.url), '--interval', '0.2', '--ack-timeout', '3', '--retry-max', '0.5']);
  t.after(async () => {
    await d.kill();
    await proxy.close();
    removeDir(dir);
    await idx.cleanup();
  });
  // Away at start: the store takes messages (all mode), the output says why it is not ready.
  const before = await postMany(d.url, { total: 2000, connections: 16 });
  assert.equal(before.acked.size, 2000);
  const s0 = await stats(d.url);
  assert.equal(s0.outputs.opensearch.ready, false);
  assert.match(s0.outputs.opensearch.reason, /OpenSearch unreachable/);
  proxy.restore();

  // Cut again while a second load is being delivered, then restore.
  const during = postMany(d.url, { total: 10_000, connections: 16 });
  await waitFor('some delivery', async () => (await stats(d.url)).outputs.opensearch.delivered > 3000, { timeoutMs: 120_000 });
  proxy.cut();
  const second = await during;
  await new Promise((r) => setTimeout(r, 2000)); // the outage itself, not a verdict
  proxy.restore();
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 200_000, everyMs: 250 });

  const acked = new Set([...before.acked, ...second.acked]);
  assert.equal(acked.size, 12_000);
  const diff = compareSets(acked, await allIds(idx.all, OS_URL));
  assert.deepEqual(diff, { missing: [], extra: [], duplicates: [] });
});

test('beat --output opensearch: /in answers 200 once indexed; the same batch sent again adds nothing', { timeout: 120_000 }, async (t) => {
  if (!(await requireOpenSearch(t))) return;
  const idx = osTestIndex();
  const d = await startDaemon('beat', osArgs(idx));
  t.after(async () => {
    await d.kill();
    await idx.cleanup();
  });
  await waitFor('ready', async () => (await fetch(`${d.url}/readyz`)).ok);
  const messages = Array.from({ length: 50 }, (_, i) => ({
    seq: String(1_000_000_000_000_000_000n + BigInt(i)), time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, i)).toISOString(),
    uuid: crypto.randomUUID(), producer: 'p', key: 'k', label: 'l', payload: { i },
  }));
  const body = JSON.stringify({ uuid: crypto.randomUUID(), size: messages.length, messages });
  for (let n = 0; n < 2; n++) {
    const r = await fetch(`${d.url}/in`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, await r.text());
  }
  const diff = compareSets(new Set(messages.map((m) => m.uuid)), await allIds(idx.all, OS_URL));
  assert.deepEqual(diff, { missing: [], extra: [], duplicates: [] });
  const hit = (await os(`/${idx.all}/_search?size=1`)).body.hits.hits[0];
  assert.equal(hit._source.clientIp, '127.0.0.1');
});

test('a _bulk aborted through its signal rejects, and nothing is thrown beside it (it ended the forwarder thread)', { timeout: 60_000 }, async (t) => {
  if (!(await requireOpenSearch(t))) return;
  const { createOpenSearchClient, opensearchTransport } = await import('../../dist/sinks/opensearch/client.js');
  const uncaught = [];
  const onUncaught = (e) => uncaught.push(e);
  process.prependListener('uncaughtException', onUncaught);
  const transport = opensearchTransport(createOpenSearchClient([OS_URL]));
  const idx = osTestIndex();
  t.after(async () => {
    process.removeListener('uncaughtException', onUncaught);
    await transport.close();
    await idx.cleanup();
  });
  const body = `{"create":{"_index":"${idx.pattern.replace(/%\{.*\}/, 'abort')}","_id":"${crypto.randomUUID()}"}}\n{"a":1}\n`;
  const ac = new AbortController();
  const sent = transport.bulk(body, ac.signal, 10_000);
  ac.abort();
  await assert.rejects(sent, /aborted/i);
  // Node's EventTarget rethrew a rejected thenable returned by an abort listener on the next tick.
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(uncaught.map(String), []);
});
