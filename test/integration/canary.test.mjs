// `spillway canary` against a real pipeline: edge → beat → the real
// Elasticsearch, and the same with a part missing (stage down, Elasticsearch
// down, edge down, edge refusing). Every case runs the built CLI as a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, removeDir, runCli, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { join } from 'node:path';
import { ES_URL, es, requireElasticsearch, testIndex } from '../helpers/es.mjs';

const lines = (text) => text.split('\n').filter(Boolean);

/** An address nothing listens on. */
async function deadUrl() {
  return `http://127.0.0.1:${await freePort()}`;
}

async function edge(t, ingest, extra = [], env = {}) {
  const dir = tempDir('spillway-canary-');
  const d = await startDaemon('edge', ['--path', dir, '--ingest', ingest, '--interval', '0.1', '--retry-max', '0.5', ...extra], { env });
  t.after(async () => {
    await d.kill();
    removeDir(dir);
  });
  return d;
}

test('canary: edge → beat → Elasticsearch: exits 0 with one JSON line, the message is in the index once', async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex('spillway-canary');
  t.after(() => idx.cleanup());
  const beat = await startDaemon('beat', ['--es', ES_URL, '--index', idx.pattern]);
  t.after(() => beat.kill());
  await waitFor('beat ready', async () => (await fetch(`${beat.url}/readyz`)).ok, { timeoutMs: 30_000 });
  const e = await edge(t, `${beat.url}/in`);

  const r = await runCli(['canary', '--url', e.url, '--es', ES_URL, '--index', idx.pattern, '--timeout', '30', '--key', 'ci'], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, `stderr: ${r.stderr}`);
  assert.equal(r.stderr, '');
  const out = lines(r.stdout);
  assert.equal(out.length, 1, r.stdout);
  const j = JSON.parse(out[0]);
  t.diagnostic(`canary: ack ${j.ackMs} ms, lag ack → searchable ${j.lagMs} ms`);
  assert.equal(j.status, 'OK');
  assert.match(j.uuid, /^[0-9a-f-]{36}$/);
  assert.ok(Number.isFinite(j.lagMs) && j.lagMs >= 0 && j.lagMs < 30_000, `lagMs ${j.lagMs}`);
  assert.equal(j.lagSeconds, j.lagMs / 1000);
  assert.ok(j.index.startsWith(idx.all.slice(0, -1)), j.index);

  // Exactly this message, once, in the test's indices: the canary wrote one
  // document and found the one it wrote.
  await es(`/${idx.all}/_refresh`, { method: 'POST' });
  const found = await es(`/${idx.all}/_search?size=10`);
  const ids = found.body.hits.hits.map((h) => h._id);
  assert.deepEqual(ids, [j.uuid]);
  const doc = found.body.hits.hits[0]._source.rxtxMsg;
  assert.equal(doc.producer, 'canary');
  assert.equal(doc.key, 'ci');
  assert.equal(doc.label, '/canary');
});

test('canary: stage down: the edge takes the message, the canary exits 1 with one line "not indexed within"', async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex('spillway-canary');
  t.after(() => idx.cleanup());
  const e = await edge(t, `${await deadUrl()}/in`);
  const r = await runCli(['canary', '--url', e.url, '--es', ES_URL, '--index', idx.pattern, '--timeout', '2'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  const err = lines(r.stderr);
  assert.equal(err.length, 1, r.stderr);
  assert.match(err[0], /^spillway canary: FAIL not indexed within 2 s: message [0-9a-f-]{36} accepted by http/);
  // The message is held by the edge, as the line says.
  await waitFor('held message', async () => (await stats(e.url)).edge.inQueue === 1, { timeoutMs: 10_000 });
});

test('canary: Elasticsearch down (the beat and the canary both point at it): exits 1, "Elasticsearch unreachable"', async (t) => {
  const deadEs = await deadUrl();
  const beat = await startDaemon('beat', ['--es', deadEs]);
  t.after(() => beat.kill());
  const e = await edge(t, `${beat.url}/in`);
  const r = await runCli(['canary', '--url', e.url, '--es', deadEs, '--timeout', '2'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  const err = lines(r.stderr);
  assert.equal(err.length, 1, r.stderr);
  assert.match(err[0], new RegExp(`^spillway canary: FAIL Elasticsearch unreachable: ${deadEs}: .*ECONNREFUSED`));
  // It did not write a message it could not read back.
  assert.equal((await stats(e.url)).edge.received, 0);
});

test('canary: --es pointing at something that is not Elasticsearch (an edge answering 404): exits 1, "Elasticsearch refused"', async (t) => {
  const e = await edge(t, `${await deadUrl()}/in`);
  const r = await runCli(['canary', '--url', e.url, '--es', e.url, '--timeout', '2'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const err = lines(r.stderr);
  assert.equal(err.length, 1, r.stderr);
  assert.match(err[0], new RegExp(`^spillway canary: FAIL Elasticsearch refused: ${e.url}: 404`));
  assert.equal((await stats(e.url)).edge.received, 0, 'nothing written');
});

test('canary: edge down: exits 1, "edge unreachable"', async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const deadEdge = await deadUrl();
  const r = await runCli(['canary', '--url', deadEdge, '--es', ES_URL, '--timeout', '2'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const err = lines(r.stderr);
  assert.equal(err.length, 1, r.stderr);
  assert.match(err[0], new RegExp(`^spillway canary: FAIL edge unreachable: POST ${deadEdge}/rx/canary/[^/]+/canary: ECONNREFUSED$`));
});

test('canary: edge full (--maxq 1, stage down): the second canary exits 1 with the edge\'s 503 and Retry-After', async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex('spillway-canary');
  t.after(() => idx.cleanup());
  const e = await edge(t, `${await deadUrl()}/in`, ['--maxq', '1']);
  const args = ['canary', '--url', e.url, '--es', ES_URL, '--index', idx.pattern, '--timeout', '1'];
  const first = await runCli(args, { timeoutMs: 30_000 });
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /not indexed within 1 s/);
  await waitFor('store full', async () => (await stats(e.url)).edge.inQueue === 1, { timeoutMs: 10_000 });
  const second = await runCli(args, { timeoutMs: 30_000 });
  assert.equal(second.code, 1, second.stderr);
  const err = lines(second.stderr);
  assert.equal(err.length, 1, second.stderr);
  assert.match(err[0], /^spillway canary: FAIL edge refused: POST \S+: 503 store full.*\(Retry-After: 1\)$/);
});

test('canary: bad flags exit 2 with one line naming the flag', async () => {
  for (const [args, re] of [
    [['canary'], /--url: the edge URL is required/],
    [['canary', '--url', 'ftp://x'], /--url: "ftp:\/\/x" is not http/],
    [['canary', '--url', 'http://x', '--timeout', '0'], /--timeout: "0" is not a positive number/],
    [['canary', '--url', 'http://x', '--index', 'Bad Index'], /--index: /],
    [['canary', '--url', 'http://x', '--token-file', '/nonexistent/token'], /--token-file: cannot read \/nonexistent\/token: ENOENT/],
    [['canary', '--url', 'http://x', '--bogus'], /Unknown option '--bogus'/],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const err = lines(r.stderr);
    assert.equal(err.length, 1, r.stderr);
    assert.match(err[0], re);
  }
});

/** A pass-through HTTP proxy to `target` that records each request's method, path and headers. */
async function recordingProxy(t, target) {
  const http = await import('node:http');
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    const up = new URL(req.url, target);
    const fwd = http.request(up, { method: req.method, headers: { ...req.headers, host: up.host } }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(fwd);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${server.address().port}`, seen };
}

test('canary: Secrets as files: ES_API_KEY_FILE goes to Elasticsearch, --token-file to the edge, neither is printed', async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex('spillway-canary');
  t.after(() => idx.cleanup());
  const beat = await startDaemon('beat', ['--es', ES_URL, '--index', idx.pattern]);
  t.after(() => beat.kill());
  await waitFor('beat ready', async () => (await fetch(`${beat.url}/readyz`)).ok, { timeoutMs: 30_000 });
  const e = await edge(t, `${beat.url}/in`);
  const esProxy = await recordingProxy(t, ES_URL);
  const edgeProxy = await recordingProxy(t, e.url);
  const dir = tempDir('spillway-canary-secrets-');
  t.after(() => removeDir(dir));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'api-key'), 'c2VjcmV0LWtleQ==\n');
  writeFileSync(join(dir, 'token'), 'edge-token-123\n');
  // Local Elasticsearch runs without security: it ignores the key, the proxy records it.
  const r = await runCli(
    ['canary', '--url', edgeProxy.url, '--es', esProxy.url, '--index', idx.pattern, '--timeout', '30', '--token-file', join(dir, 'token')],
    { env: { ES_API_KEY: '', ES_API_KEY_FILE: join(dir, 'api-key') }, timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).status, 'OK');
  assert.ok(esProxy.seen.length >= 2, 'health check and at least one search');
  for (const s of esProxy.seen) assert.equal(s.headers.authorization, 'ApiKey c2VjcmV0LWtleQ==', `${s.method} ${s.url}`);
  const posts = edgeProxy.seen.filter((s) => s.method === 'POST');
  assert.equal(posts.length, 1);
  assert.equal(posts[0].headers.authorization, 'Bearer edge-token-123');
  assert.doesNotMatch(r.stdout + r.stderr, /c2VjcmV0|edge-token/);
});

test('canary with bearer tokens as deploy/kubernetes/components/auth wires them: passes with its token, "edge refused: 401" without', async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex('spillway-canary');
  t.after(() => idx.cleanup());
  const dir = tempDir('spillway-canary-tokens-');
  t.after(() => removeDir(dir));
  const { writeFileSync } = await import('node:fs');
  const canaryToken = 'canary-token-0123456789abcdef';
  const ingestToken = 'ingest-token-0123456789abcdef';
  writeFileSync(join(dir, 'rx-tokens'), `# the canary may post as producer canary only\n${canaryToken} canary\n`);
  writeFileSync(join(dir, 'in-tokens'), `${ingestToken}\n`);
  writeFileSync(join(dir, 'ingest-token'), `${ingestToken}\n`);
  writeFileSync(join(dir, 'canary-token'), `${canaryToken}\n`);
  const beat = await startDaemon('beat', ['--es', ES_URL, '--index', idx.pattern], { env: { SPILLWAY_IN_AUTH_TOKENS: join(dir, 'in-tokens') } });
  t.after(() => beat.kill());
  await waitFor('beat ready', async () => (await fetch(`${beat.url}/readyz`)).ok, { timeoutMs: 30_000 });
  const e = await edge(t, `${beat.url}/in`, [], {
    SPILLWAY_AUTH_TOKENS: join(dir, 'rx-tokens'),
    SPILLWAY_INGEST_TOKEN_FILE: join(dir, 'ingest-token'),
  });
  const args = ['canary', '--url', e.url, '--es', ES_URL, '--index', idx.pattern, '--timeout', '30'];
  const ok = await runCli([...args, '--token-file', join(dir, 'canary-token')], { timeoutMs: 60_000 });
  assert.equal(ok.code, 0, ok.stderr);
  const { uuid } = JSON.parse(ok.stdout);
  const refused = await runCli(args, { timeoutMs: 60_000 });
  assert.equal(refused.code, 1, refused.stdout);
  const err = lines(refused.stderr);
  assert.equal(err.length, 1, refused.stderr);
  assert.match(err[0], /^spillway canary: FAIL edge refused: POST \S+: 401 /);
  // Only the canary with its token got in.
  await es(`/${idx.all}/_refresh`, { method: 'POST' });
  const found = await es(`/${idx.all}/_search?size=10`);
  assert.deepEqual(found.body.hits.hits.map((h) => h._id), [uuid]);
});
