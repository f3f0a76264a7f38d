// Bearer tokens on /rx* (issue 11): every case (none, malformed, wrong,
// right, right token for the wrong producer, unbound token, revoked by a
// SIGHUP reload, a bad file on reload), decided before the body is read and
// with the connection closed; nothing from a refused request is stored or
// forwarded (the set of uuids the receiver gets is exactly the accepted
// set); the rate limit; CORS; tokens never in logs or metrics. Plain HTTP
// and the same over TLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startDaemon, tempDir, removeDir, waitFor } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import { httpsRequest, makeCerts, startTlsDaemon } from './security-certs.mjs';

const DEVICE = 'dev1-token-0123456789abcdef'; // may post as dev1 only
const FLEET = 'fleet-token-0123456789abcdef'; // any producer
const LATER = 'later-token-0123456789abcdef'; // added by a reload
const TOKENS = `# devices\n${DEVICE} dev1\n\n${FLEET}\n`;

let dir;
let certs;
before(() => {
  dir = tempDir('spillway-tokens-');
  certs = makeCerts(join(dir, 'certs'));
});
after(() => dir && removeDir(dir));

async function startEdge(t, name, { tls = false, extra = [] } = {}) {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const tokens = join(dir, `${name}.tokens`);
  writeFileSync(tokens, TOKENS);
  const args = ['--path', join(dir, name), '--ingest', receiver.url, '--interval', '0.1', '--auth-tokens', tokens, ...extra];
  let edge;
  let request;
  if (tls) {
    const ca = certs.read('ca.pem');
    edge = await startTlsDaemon('edge', [...args, '--tls-cert', certs.path('server.pem'), '--tls-key', certs.path('server.key')], { ca });
    request = async (path, { method = 'POST', headers = {}, body } = {}) => {
      const r = await httpsRequest(`${edge.url}${path}`, { method, headers, body, tls: { ca } });
      return { status: r.status, headers: new Headers(r.headers), text: r.body };
    };
  } else {
    edge = await startDaemon('edge', args);
    request = async (path, { method = 'POST', headers = {}, body } = {}) => {
      const r = await fetch(`${edge.url}${path}`, { method, headers, body });
      return { status: r.status, headers: r.headers, text: await r.text() };
    };
  }
  t.after(() => edge.stop());
  return { edge, receiver, tokens, request };
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });

async function tokenCases(t, tls) {
  const { edge, receiver, tokens, request } = await startEdge(t, tls ? 'tls' : 'plain', { tls });
  const accepted = new Set();
  const refused = [];
  let n = 0;
  const send = async (producer, headers, expect) => {
    const marker = `m${n++}`;
    const r = await request(`/rx/${producer}/key/label`, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ marker }) });
    assert.equal(r.status, expect, `${producer} ${JSON.stringify(headers)}: ${r.text}`);
    if (r.status === 200) accepted.add(JSON.parse(r.text).uuid);
    else refused.push(marker);
    return r;
  };

  let r = await send('dev1', {}, 401);
  assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.match(r.text, /missing Authorization/);
  await send('dev1', { authorization: `Basic ${Buffer.from(`u:${DEVICE}`).toString('base64')}` }, 401);
  await send('dev1', { authorization: 'Bearer' }, 401);
  await send('dev1', bearer('wrong-token-0123456789abcdef'), 401);
  await send('dev1', bearer(DEVICE.slice(0, -1)), 401);
  await send('dev1', bearer(DEVICE), 200);
  await send('dev1', { authorization: `bearer  ${DEVICE}` }, 200);
  r = await send('dev2', bearer(DEVICE), 403);
  assert.match(r.text, /may not post as this producer/);
  await send('dev2', bearer(FLEET), 200);
  await send('anyone', bearer(FLEET), 200);
  await send('dev1', bearer(LATER), 401);

  // Revoke DEVICE and add LATER; a SIGHUP rereads the file.
  writeFileSync(tokens, `${FLEET}\n${LATER} dev9\n`);
  process.kill(edge.child.pid, 'SIGHUP');
  await waitFor('the reload', async () => (await request('/rx/dev9/key/label', { headers: bearer(LATER), body: '{"probe":1}' })).status === 200
    ? (accepted.add('probe'), true) : false, { timeoutMs: 10_000 });
  accepted.delete('probe');
  await send('dev1', bearer(DEVICE), 401);
  await send('dev9', bearer(LATER), 200);
  // A broken file on reload keeps the tokens in force.
  writeFileSync(tokens, 'short\n');
  process.kill(edge.child.pid, 'SIGHUP');
  await waitFor('the failed reload in the log', () => /token file not reloaded/.test(edge.logs()), { timeoutMs: 10_000 });
  await send('dev9', bearer(LATER), 200);
  await send('dev1', bearer(DEVICE), 401);

  // Everything accepted is forwarded; no refused marker ever is.
  await waitFor('delivery', () => receiver.state.messages.filter((m) => m.payload.marker).length >= accepted.size, { timeoutMs: 30_000 });
  const delivered = receiver.state.messages.filter((m) => m.payload.marker);
  assert.deepEqual(new Set(delivered.map((m) => m.uuid)), accepted);
  const markers = new Set(delivered.map((m) => m.payload.marker));
  for (const m of refused) assert.ok(!markers.has(m), `refused ${m} was stored`);

  // Never a token in the logs or the metrics; refusals counted by reason.
  const metrics = (await request('/metrics', { method: 'GET' })).text;
  for (const tok of [DEVICE, FLEET, LATER]) {
    assert.ok(!edge.logs().includes(tok), 'a token in the logs');
    assert.ok(!metrics.includes(tok), 'a token in /metrics');
  }
  assert.match(metrics, /spillway_security_refused_requests\{route="rx",reason="auth"\} (\d+)/);
  assert.equal(Number(/spillway_security_refused_requests\{route="rx",reason="forbidden"\} (\d+)/.exec(metrics)[1]), 1);
}

test('tokens over plain HTTP: every case, nothing stored from a refusal, reload on SIGHUP', (t) => tokenCases(t, false));
test('tokens over TLS: the same', (t) => tokenCases(t, true));

test('refused before the body is read: the answer comes with the body unsent, and the connection closes', async (t) => {
  const { edge } = await startEdge(t, 'early');
  const s = net.connect(edge.port, '127.0.0.1');
  t.after(() => s.destroy());
  let text = '';
  s.setEncoding('utf8');
  s.on('data', (d) => (text += d));
  const closed = new Promise((r) => s.on('close', r));
  // 10 MB announced, nothing sent: a daemon that read the body first would wait.
  s.write('POST /rx/dev1/key/label HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"a":');
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`no close; got ${text}`)), 5000))]);
  assert.match(text, /^HTTP\/1\.1 401 /);
});

test('rate limit per token: 429 with Retry-After over the burst, other tokens unaffected, counted by reason', async (t) => {
  const { request } = await startEdge(t, 'rate', { extra: ['--rate-limit', '1', '--rate-burst', '3'] });
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await request('/rx/dev1/key/label', { headers: bearer(DEVICE), body: '{}' })).status);
  assert.deepEqual(codes, [200, 200, 200, 429]);
  const r = await request('/rx/dev1/key/label', { headers: bearer(DEVICE), body: '{}' });
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1, r.headers.get('retry-after'));
  assert.equal((await request('/rx/dev1/key/label', { headers: bearer(FLEET), body: '{}' })).status, 200);
  const metrics = (await request('/metrics', { method: 'GET' })).text;
  assert.match(metrics, /spillway_security_refused_requests\{route="rx",reason="rate"\} 2/);
  assert.match(metrics, /refused_requests\{reason="rate"\} 2/);
});

test('CORS: an origin list echoes listed origins only; the preflight allows Authorization with tokens', async (t) => {
  const { request } = await startEdge(t, 'cors', { extra: ['--cors-origins', 'https://pos.example,https://kiosk.example'] });
  let r = await request('/rx/dev1/key/label', { method: 'OPTIONS', headers: { origin: 'https://pos.example' } });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-origin'), 'https://pos.example');
  assert.match(r.headers.get('access-control-allow-headers'), /Authorization/);
  assert.match(r.headers.get('vary') ?? '', /Origin/);
  r = await request('/rx/dev1/key/label', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  r = await request('/rx/dev1/key/label', { headers: { origin: 'https://kiosk.example', ...bearer(DEVICE) }, body: '{}' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), 'https://kiosk.example');
  r = await request('/rx/dev1/key/label', { headers: { origin: 'https://evil.example' }, body: '{}' });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('access-control-allow-origin'), null);
});

test('without tokens the intake stays open, rxtx-style CORS, and start-up says so in one warning line', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const edge = await startDaemon('edge', ['--path', join(dir, 'open'), '--ingest', receiver.url]);
  t.after(() => edge.stop());
  const r = await fetch(`${edge.url}/rx/p/k/l`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  const pre = await fetch(`${edge.url}/rx/p/k/l`, { method: 'OPTIONS' });
  assert.equal(pre.headers.get('access-control-allow-headers'), 'Content-Type, Content-Encoding, Idempotency-Key');
  const warnings = edge.logs().split('\n').filter((l) => /no --auth-tokens/.test(l));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /"level":40/);
});

test('--ops-port: /metrics, /stats, /healthz, /readyz on their own address, gone from the public port', async (t) => {
  const { freePort, MAIN } = await import('../helpers/daemon.mjs');
  const { spawn } = await import('node:child_process');
  const [port, opsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [MAIN, 'edge', '--port', String(port), '--host', '127.0.0.1', '--path', join(dir, 'ops'),
    '--ingest', 'http://127.0.0.1:9/in', '--ops-port', String(opsPort), '--ops-host', '127.0.0.1'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const ops = `http://127.0.0.1:${opsPort}`;
  await waitFor('the ops port', async () => (await fetch(`${ops}/healthz`).catch(() => undefined))?.status === 200, { timeoutMs: 20_000 });
  for (const path of ['/metrics', '/stats', '/readyz']) assert.equal((await fetch(`${ops}${path}`)).status, 200, path);
  for (const path of ['/metrics', '/stats', '/healthz', '/readyz']) assert.equal((await fetch(`http://127.0.0.1:${port}${path}`)).status, 404, path);
  assert.equal((await fetch(`${ops}/rx/p/k/l`, { method: 'POST', body: '{}' })).status, 404, 'no intake on the ops port');
  assert.equal((await fetch(`http://127.0.0.1:${port}/rx/p/k/l`, { method: 'POST', body: '{}' })).status, 200);
});
