// The edge → stage link (issue 11): a real edge to a real beat over mutual
// TLS with a bearer token, into the real Elasticsearch, through a stage
// restart (every acknowledged message exactly once); the stage's /in
// refusing without the token; and against a recording HTTPS stage: gzip
// on/off/auto (the batches inflate to the same messages), Basic auth from
// --ingest's user:pass@, an untrusted stage certificate refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { freePort, startDaemon, stats, tempDir, removeDir, waitFor } from '../helpers/daemon.mjs';
import { checkExactlyOnce, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { httpsRequest, makeCerts, startTlsDaemon } from './security-certs.mjs';

const EDGE_TOKEN = 'edge-7-token-0123456789abcdef';

let dir;
let certs;
before(() => {
  dir = tempDir('spillway-link-');
  certs = makeCerts(join(dir, 'certs'));
  writeFileSync(join(dir, 'in.tokens'), `${EDGE_TOKEN}\n`);
  writeFileSync(join(dir, 'edge.token'), `${EDGE_TOKEN}\n`);
});
after(() => dir && removeDir(dir));

async function postMany(edgeUrl, n, tag) {
  const uuids = new Set();
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${edgeUrl}/rx/${tag}/k/l`, { method: 'POST', body: JSON.stringify({ tag, i, pad: 'x'.repeat(200) }) });
    assert.equal(r.status, 200);
    uuids.add((await r.json()).uuid);
  }
  return uuids;
}

test('edge → beat over mutual TLS with a token, into Elasticsearch, through a stage restart: exactly once', async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const index = testIndex('spillway-sec-link');
  t.after(() => index.cleanup());
  const ca = certs.read('ca.pem');
  const stagePort = await freePort();
  const beatArgs = [
    '--index', index.pattern, '--tls-cert', certs.path('server.pem'), '--tls-key', certs.path('server.key'),
    '--tls-ca', certs.path('ca.pem'), '--in-auth-tokens', join(dir, 'in.tokens'), '--max-batch-body', '1MiB',
  ];
  let beat = await startTlsDaemon('beat', beatArgs, { ca, port: stagePort });
  t.after(() => beat.stop());

  // The stage's /in: no token, a wrong one → 401 before the body; the token → 200 and it says it reads gzip.
  const inUrl = `${beat.url}/in`;
  const client = { ca, cert: certs.read('client.pem'), key: certs.read('client.key') };
  const empty = JSON.stringify({ uuid: '3243a7d1-28fa-4275-843b-b4a0309fe025', size: 0, messages: [] });
  assert.equal((await httpsRequest(inUrl, { method: 'POST', body: empty, tls: client })).status, 401);
  assert.equal((await httpsRequest(inUrl, { method: 'POST', body: empty, tls: client, headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status, 401);
  const okr = await httpsRequest(inUrl, { method: 'POST', body: empty, tls: client, headers: { authorization: `Bearer ${EDGE_TOKEN}` } });
  assert.equal(okr.status, 200, okr.body);
  assert.equal(okr.headers['accept-encoding'], 'gzip');
  // gzip on /in: read, and inflated under the same limit as the body (--max-batch-body).
  const gz = { authorization: `Bearer ${EDGE_TOKEN}`, 'content-encoding': 'gzip' };
  const zr = await httpsRequest(inUrl, { method: 'POST', body: gzipSync(empty), tls: client, headers: gz });
  assert.equal(zr.status, 200, zr.body);
  const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024, ' '));
  const br = await httpsRequest(inUrl, { method: 'POST', body: bomb, tls: client, headers: gz }).catch((e) => ({ status: e.code }));
  assert.equal(br.status, 413, br.body);
  const ur = await httpsRequest(inUrl, { method: 'POST', body: empty, tls: client, headers: { ...gz, 'content-encoding': 'br' } });
  assert.equal(ur.status, 415);

  const edge = await startDaemon('edge', [
    '--path', join(dir, 'edge-es'), '--interval', '0.1', '--retry-max', '0.5', '--ingest', `https://127.0.0.1:${stagePort}/in`,
    '--ingest-ca', certs.path('ca.pem'), '--ingest-cert', certs.path('client.pem'), '--ingest-key', certs.path('client.key'),
    '--ingest-token-file', join(dir, 'edge.token'),
  ]);
  t.after(() => edge.stop());
  const uuids = await postMany(edge.url, 40, 'before');
  await waitFor('delivery', async () => (await stats(edge.url)).edge.inQueue === 0, { timeoutMs: 30_000 });

  await beat.stop();
  for (const u of await postMany(edge.url, 40, 'during')) uuids.add(u);
  assert.equal((await stats(edge.url)).edge.inQueue, 40, 'held while the stage is down');
  beat = await startTlsDaemon('beat', beatArgs, { ca, port: stagePort });
  for (const u of await postMany(edge.url, 40, 'after')) uuids.add(u);
  await waitFor('delivery after the restart', async () => (await stats(edge.url)).edge.inQueue === 0, { timeoutMs: 60_000 });

  const r = await checkExactlyOnce(index.all, uuids);
  assert.deepEqual(r.missing, []);
  assert.equal(r.total, uuids.size);
  assert.ok(!edge.logs().includes(EDGE_TOKEN) && !beat.logs().includes(EDGE_TOKEN), 'a token in the logs');
});

/** An HTTPS stage that records each POST /in's headers and inflated batch. */
async function recordingStage(t, { acceptGzip = false, key = 'server' } = {}) {
  const seen = [];
  const server = https.createServer({ cert: certs.read(`${key}.pem`), key: certs.read(`${key}.key`) }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      if (encoding === 'gzip') raw = gunzipSync(raw);
      const batch = JSON.parse(raw.toString());
      seen.push({ encoding, authorization: req.headers.authorization, bytes: Buffer.concat(chunks).length, batch });
      const headers = { 'content-type': 'application/json' };
      if (acceptGzip) headers['accept-encoding'] = 'gzip';
      res.writeHead(200, headers).end('{"status":"OK"}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return { seen, port: server.address().port };
}

async function edgeTo(t, name, url, extra) {
  const edge = await startDaemon('edge', ['--path', join(dir, name), '--interval', '0.1', '--retry-max', '0.5', '--ingest', url,
    '--ingest-ca', certs.path('ca.pem'), '--forwarders', '2', ...extra]);
  t.after(() => edge.stop());
  return edge;
}

const uuidsOf = (seen) => new Set(seen.flatMap((s) => s.batch.messages.map((m) => m.uuid)));

for (const [mode, acceptGzip, expect] of [
  ['on', false, (encs) => encs.every((e) => e === 'gzip')],
  ['off', true, (encs) => encs.every((e) => e === undefined)],
  ['auto', false, (encs) => encs.every((e) => e === undefined)],
  // Each forwarder thread (--forwarders 2) has its own connection pool: its first batch goes plain.
  ['auto', true, (encs) => encs.filter((e) => e === undefined).length <= 2 && encs.at(-1) === 'gzip' && encs[0] === undefined],
]) {
  test(`--ingest-gzip ${mode}, stage ${acceptGzip ? 'says' : 'does not say'} it reads gzip; Basic auth from user:pass@`, async (t) => {
    const stage = await recordingStage(t, { acceptGzip });
    const edge = await edgeTo(t, `gzip-${mode}-${acceptGzip}`, `https://forwarder:p%40ss@127.0.0.1:${stage.port}/in`, ['--ingest-gzip', mode]);
    const uuids = new Set();
    // Several rounds, so that there are several batches.
    for (let round = 0; round < 3; round++) {
      for (const u of await postMany(edge.url, 20, `r${round}`)) uuids.add(u);
      await waitFor('delivery', async () => (await stats(edge.url)).edge.inQueue === 0, { timeoutMs: 30_000 });
    }
    assert.deepEqual(uuidsOf(stage.seen), uuids);
    assert.ok(stage.seen.length >= 3);
    const encs = stage.seen.map((s) => s.encoding);
    assert.ok(expect(encs), `encodings: ${JSON.stringify(encs)}`);
    for (const s of stage.seen) assert.equal(s.authorization, `Basic ${Buffer.from('forwarder:p@ss').toString('base64')}`);
    assert.ok(!edge.logs().includes('p@ss') && !edge.logs().includes('p%40ss'), 'the password in the logs');
  });
}

test('a stage whose certificate does not chain to --ingest-ca gets nothing; the edge keeps the messages', async (t) => {
  const stage = await recordingStage(t);
  const edge = await startDaemon('edge', ['--path', join(dir, 'untrusted'), '--interval', '0.1', '--retry-max', '0.5',
    '--ingest', `https://127.0.0.1:${stage.port}/in`, '--ingest-ca', certs.path('other-ca.pem')]);
  t.after(() => edge.stop());
  await postMany(edge.url, 5, 'x');
  await waitFor('failed attempts', async () => (await stats(edge.url)).edge.txFails >= 2, { timeoutMs: 30_000 });
  assert.equal(stage.seen.length, 0);
  assert.equal((await stats(edge.url)).edge.inQueue, 5);
});

test('bad link settings exit 2 with one line', async (t) => {
  const { runCli } = await import('../helpers/daemon.mjs');
  const base = ['edge', '--path', join(dir, 'bad'), '--port', '0', '--host', '127.0.0.1'];
  const cases = [
    [['--ingest', 'https://127.0.0.1:1/in', '--ingest-ca', join(dir, 'missing.pem')], /--ingest-ca .*missing\.pem: ENOENT/],
    [['--ingest', 'https://127.0.0.1:1/in', '--ingest-cert', certs.path('client.pem')], /--ingest-cert and --ingest-key go together/],
    [['--ingest', 'http://127.0.0.1:1/in', '--ingest-ca', certs.path('ca.pem')], /need an https:\/\/ --ingest/],
    [['--ingest-token', 'a', '--ingest-token-file', join(dir, 'edge.token')], /not both/],
    [['--auth-tokens', join(dir, 'missing.tokens')], /--auth-tokens .*missing\.tokens: ENOENT/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli([...base, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
  }
});
