// Edge and stage as two processes over real HTTP, and the stage's /in
// answers to garbage, against the real Elasticsearch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { checkExactlyOnce, count, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { postMany } from '../helpers/load.mjs';

async function post(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: r.status, body: await r.json() };
}

test('edge → beat: 100 000 messages land exactly once', { timeout: 600_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const dir = tempDir();
  const beat = await startDaemon('beat', ['--index', idx.pattern]);
  const edge = await startDaemon('edge', ['--path', dir, '--ingest', `${beat.url}/in`, '--interval', '0.2']);
  t.after(async () => {
    await edge.kill();
    await beat.kill();
    removeDir(dir);
    await idx.cleanup();
  });
  const load = await postMany(edge.url, { total: 100_000, connections: 64 });
  assert.equal(load.acked.size, 100_000);
  await waitFor('the edge to drain', async () => (await stats(edge.url)).edge.inQueue === 0, { timeoutMs: 300_000, everyMs: 500 });
  const check = await checkExactlyOnce(idx.all, load.acked);
  assert.equal(check.missing.length, 0);
  assert.equal(check.total, 100_000);
  const s = await stats(beat.url);
  assert.equal(s.stage.messagesParsed >= 100_000, true);
  assert.equal(s.stage.acksReceived, s.stage.messagesParsed);
  const metrics = await (await fetch(`${beat.url}/metrics`)).text();
  for (const name of ['rtbeat_batches_received', 'rtbeat_messages_parsed', 'rtbeat_acks_received', 'rtbeat_current_acks']) {
    assert.match(metrics, new RegExp(`^${name} \\d+`, 'm'));
  }
});

test('/in refuses garbage with the right status and keeps serving', { timeout: 120_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const beat = await startDaemon('beat', ['--index', idx.pattern, '--max-batch-body', '64k']);
  t.after(async () => {
    await beat.kill();
    await idx.cleanup();
  });
  const inUrl = `${beat.url}/in`;
  const msg = (uuid, payload = { a: 1 }) => ({
    seq: '2019072100000000038', time: '2019-07-21T02:44:49.560087Z', uuid,
    producer: 'me', label: '/generic/test/data', key: 'generic_data', payload,
  });
  const good = 'a93cfe42-79c5-4a32-9dc0-6b77b68d0926';

  const cases = [
    ['invalid JSON', '{"uuid":', 400, /invalid JSON/],
    ['not an object', '[1,2]', 400, /MessageBatch/],
    ['messages not an array', '{"uuid":"x","size":1,"messages":{}}', 400, /array/],
    ['message without uuid', JSON.stringify({ uuid: good, size: 1, messages: [{ ...msg(good), uuid: undefined }] }), 400, /messages\[0\].*uuid/],
    ['size disagrees', JSON.stringify({ uuid: good, size: 3, messages: [msg(good)] }), 400, /size/],
    ['payload not an object', JSON.stringify({ uuid: good, size: 1, messages: [msg(good, [1])] }), 400, /payload/],
  ];
  for (const [name, body, status, pattern] of cases) {
    const r = await post(inUrl, body);
    assert.equal(r.status, status, name);
    assert.equal(r.body.status, 'FAIL', name);
    assert.match(r.body.message, pattern, name);
  }
  const big = JSON.stringify({ uuid: good, size: 1, messages: [msg(good, { big: 'x'.repeat(70_000) })] });
  const tooBig = await fetch(inUrl, { method: 'POST', body: big });
  assert.equal(tooBig.status, 413);
  const wrongMethod = await fetch(inUrl);
  assert.equal(wrongMethod.status, 405);
  assert.equal(await count(idx.all), 0, 'nothing of a refused batch was written');

  // A conflicting payload type: the batch is acknowledged, the bad message dead-lettered.
  const u1 = 'b93cfe42-79c5-4a32-9dc0-6b77b68d0926';
  const u2 = 'c93cfe42-79c5-4a32-9dc0-6b77b68d0926';
  const first = await post(inUrl, JSON.stringify({ uuid: good, size: 1, messages: [msg(u1, { n: 5 })] }));
  assert.equal(first.status, 200);
  const conflict = await post(inUrl, JSON.stringify({ uuid: good, size: 1, messages: [msg(u2, { n: { deep: true } })] }));
  assert.deepEqual(conflict, { status: 200, body: { status: 'OK' } });
  assert.equal(await count(idx.dlq), 1);
  assert.equal(await count(`${idx.all},-${idx.dlq}`), 1);

  // Go's rxtx encodes an empty batch as "messages": null; and the same batch twice is harmless.
  assert.equal((await post(inUrl, JSON.stringify({ uuid: good, size: 0, messages: null }))).status, 200);
  assert.equal((await post(inUrl, JSON.stringify({ uuid: good, size: 1, messages: [msg(u1, { n: 5 })] }))).status, 200);
  assert.equal(await count(`${idx.all},-${idx.dlq}`), 1, 'a resent message is not indexed twice');
  assert.equal((await fetch(`${beat.url}/healthz`)).status, 200);
});

test('the stage answers 503 while Elasticsearch is unreachable, and says why in /readyz', { timeout: 60_000 }, async (t) => {
  const beat = await startDaemon('beat', ['--es', 'http://127.0.0.1:9']);
  t.after(() => beat.kill());
  const r = await fetch(`${beat.url}/in`, { method: 'POST', body: '{"uuid":"x","size":0,"messages":[]}' });
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('retry-after'), '1');
  const ready = await fetch(`${beat.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.match((await ready.json()).message, /Elasticsearch unreachable/);
});
