// Elasticsearch failing under Spillway: stopped mid-stream and restarted,
// and rejecting writes with 429 for a whole run. Nothing acknowledged is
// lost, nothing is duplicated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { checkExactlyOnce, esScript, esUp, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { postMany } from '../helpers/load.mjs';

test('Elasticsearch stopped mid-stream and restarted: every acknowledged message once', { timeout: 600_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--index', idx.pattern, '--interval', '0.2', '--retry-max', '1']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    if (!(await esUp())) await esScript('start');
    await idx.cleanup();
  });
  let posted = 0;
  const loading = postMany(d.url, { total: 30_000, connections: 32, path: (i) => (posted = i, `/rx/p${i % 11}/k/outage`) });
  await waitFor('some traffic', () => posted > 5000);
  const stopped = await esScript('stop');
  assert.ok(stopped.ok, stopped.output);
  assert.equal(await esUp(), false);
  await waitFor('traffic while Elasticsearch is down', () => posted > 15000, { timeoutMs: 120_000 });
  const delivering = (await stats(d.url)).edge.inQueue;
  assert.ok(delivering > 0, 'messages are held while Elasticsearch is down');
  const started = await esScript('start');
  assert.ok(started.ok, started.output);
  const load = await loading;
  assert.equal(load.errors, 0);
  assert.equal(load.acked.size, 30_000, 'the edge kept acknowledging while Elasticsearch was away');
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 300_000, everyMs: 500 });
  const check = await checkExactlyOnce(idx.all, load.acked);
  assert.equal(check.missing.length, 0, 'lost');
  assert.equal(check.total, 30_000, 'duplicated');
  const s = await stats(d.url);
  assert.ok(s.stage.retried > 0 || s.edge.txFails > 0, 'writes were retried while it was down');
});

test('Elasticsearch answering 429 (write queue of 1) under load: everything lands once', { timeout: 600_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  // A second, throttled node on its own port and data directory.
  const env = {
    SPILLWAY_ES_PORT: '9251',
    SPILLWAY_ES_SETTINGS: '-Ethread_pool.write.queue_size=1 -Ethread_pool.write.size=1',
    SPILLWAY_ES_HEAP: '512m',
  };
  const started = await esScript('start', env);
  if (!started.ok) throw new Error(`throttled Elasticsearch did not start:\n${started.output.slice(-2000)}`);
  const url = 'http://127.0.0.1:9251';
  const idx = testIndex();
  const dir = tempDir();
  const d = await startDaemon('all', ['--path', dir, '--es', url, '--index', idx.pattern, '--interval', '0.1',
    '--batch', '200', '--bulk-bytes', '16k', '--bulk-concurrency', '8', '--inflight', '4', '--retry-max', '1']);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await esScript('stop', env);
  });
  const load = await postMany(d.url, { total: 20_000, connections: 32 });
  assert.equal(load.acked.size, 20_000);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 400_000, everyMs: 500 });
  const check = await checkExactlyOnce(idx.all, load.acked, url);
  assert.equal(check.missing.length, 0, 'lost');
  assert.equal(check.total, 20_000, 'duplicated');
  const s = await stats(d.url);
  assert.ok(s.stage.retried > 0, `Elasticsearch pushed back (retried items: ${s.stage.retried})`);
  assert.equal(s.stage.deadLettered, 0, 'a 429 is never dead-lettered');
});
