// TLS on the listener (issue 11), with real certificates made by openssl at
// test time: who gets through, who is refused at the handshake, what a bad
// file does at start, what SIGHUP does with a new certificate, and garbage
// on the TLS port while a good client is served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runCli, tempDir, removeDir, waitFor } from '../helpers/daemon.mjs';
import { httpsRequest, makeCerts, startTlsDaemon } from './security-certs.mjs';

let dir;
let certs;
let edge;

before(async () => {
  dir = tempDir('spillway-tls-');
  certs = makeCerts(join(dir, 'certs'));
  // The served certificate is a copy, so that the SIGHUP test can replace it.
  copyFileSync(certs.path('server.pem'), join(dir, 'served.pem'));
  copyFileSync(certs.path('server.key'), join(dir, 'served.key'));
  edge = await startTlsDaemon('edge', [
    '--path', join(dir, 'data'), '--ingest', 'http://127.0.0.1:9/in',
    '--tls-cert', join(dir, 'served.pem'), '--tls-key', join(dir, 'served.key'), '--tls-ca', certs.path('ca.pem'),
  ], { ca: certs.read('ca.pem') });
});

after(async () => {
  await edge?.stop();
  if (dir) removeDir(dir);
});

const post = (body, tlsOptions) =>
  httpsRequest(`${edge.url}/rx/dev/key/label`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, tls: tlsOptions });

const received = async () => (await httpsRequest(`${edge.url}/stats`, { tls: { ca: certs.read('ca.pem') } })).body;

test('a client that trusts the CA gets through; without a client certificate too (optional)', async () => {
  const r = await post('{"n":1}', { ca: certs.read('ca.pem') });
  assert.equal(r.status, 200, r.body);
  assert.match(JSON.parse(r.body).uuid, /^[0-9a-f-]{36}$/);
});

test('a client certificate from the CA gets through', async () => {
  const r = await post('{"n":2}', { ca: certs.read('ca.pem'), cert: certs.read('client.pem'), key: certs.read('client.key') });
  assert.equal(r.status, 200, r.body);
});

test('a client that does not trust the CA refuses the server', async () => {
  await assert.rejects(post('{"n":3}', {}), (e) => /self.signed|unable to (get|verify)|UNABLE_TO/i.test(`${e.code} ${e.message}`));
});

test('a client certificate from another CA is refused at the handshake', async () => {
  const before = JSON.parse(await received()).edge.received;
  await assert.rejects(
    post('{"n":4}', { ca: certs.read('ca.pem'), cert: certs.read('rogue.pem'), key: certs.read('rogue.key') }),
    (e) => /unknown ca|alert|ECONNRESET|socket hang up/i.test(`${e.code} ${e.message}`),
  );
  assert.equal(JSON.parse(await received()).edge.received, before, 'nothing stored');
});

test('an expired client certificate from the CA is refused at the handshake', async () => {
  await assert.rejects(
    post('{"n":5}', { ca: certs.read('ca.pem'), cert: certs.read('expired.pem'), key: certs.read('expired.key') }),
    (e) => /expired|alert|ECONNRESET|socket hang up/i.test(`${e.code} ${e.message}`),
  );
});

test('TLS 1.2 and 1.3 are served; TLS 1.1 is refused', async () => {
  for (const v of ['TLSv1.2', 'TLSv1.3']) {
    const r = await post('{"v":1}', { ca: certs.read('ca.pem'), minVersion: v, maxVersion: v });
    assert.equal(r.status, 200, v);
  }
  // openssl s_client offers TLS 1.1 only at security level 0; the server must answer protocol_version.
  const s = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${edge.port}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'],
    { input: '', encoding: 'utf8', timeout: 10_000 });
  assert.match(s.stdout + s.stderr, /alert protocol version|no protocols available|wrong version/i);
  assert.match(s.stdout, /Cipher is \(NONE\)/, 'no session was set up');
});

test('garbage on the TLS port (plain HTTP, random bytes, half a handshake, slowloris over TLS) while others are served', async () => {
  const sockets = [];
  const open = (bytes) => new Promise((resolve) => {
    const s = net.connect(edge.port, '127.0.0.1', () => {
      if (bytes) s.write(bytes);
      resolve(s);
    });
    s.on('error', () => {});
    sockets.push(s);
  });
  try {
    await open('POST /rx/dev/key/label HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{"a":1}');
    await open(randomBytes(4096));
    // The first 60 bytes of a real ClientHello, then nothing.
    const hello = await new Promise((resolve) => {
      const srv = net.createServer((c) => c.once('data', (d) => { resolve(d); c.destroy(); srv.close(); }));
      srv.listen(0, '127.0.0.1', () => {
        const t = tls.connect({ port: srv.address().port, host: '127.0.0.1', rejectUnauthorized: false });
        t.on('error', () => {});
      });
    });
    await open(hello.subarray(0, 60));
    // Slowloris over TLS: a good handshake, then a header line every so often, never finished.
    const slow = tls.connect({ port: edge.port, host: '127.0.0.1', ca: certs.read('ca.pem') });
    slow.on('error', () => {});
    sockets.push(slow);
    await new Promise((r) => slow.once('secureConnect', r));
    slow.write('POST /rx/dev/key/label HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.write('X-Slow: 1\r\n'), 200);
    try {
      for (let i = 0; i < 5; i++) {
        const r = await post(`{"good":${i}}`, { ca: certs.read('ca.pem') });
        assert.equal(r.status, 200);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      clearInterval(drip);
    }
  } finally {
    for (const s of sockets) s.destroy();
  }
  const h = await httpsRequest(`${edge.url}/healthz`, { tls: { ca: certs.read('ca.pem') } });
  assert.equal(h.status, 200);
});

test('fuzzed ClientHellos (300 mutations of a real one) never stop the TLS port serving', async () => {
  const hello = await new Promise((resolve) => {
    const srv = net.createServer((c) => c.once('data', (d) => { resolve(d); c.destroy(); srv.close(); }));
    srv.listen(0, '127.0.0.1', () => {
      const t = tls.connect({ port: srv.address().port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
      t.on('error', () => {});
    });
  });
  // Seeded, so that a failure can be replayed.
  let seed = 20261130;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  for (let round = 0; round < 300; round += 30) {
    await Promise.all(Array.from({ length: 30 }, (_, i) => new Promise((resolve) => {
      const bytes = Buffer.from(hello);
      const flips = 1 + rand(8);
      for (let k = 0; k < flips; k++) bytes[rand(bytes.length)] = rand(256);
      const cut = (round + i) % 3 === 0 ? bytes.subarray(0, rand(bytes.length) + 1) : bytes;
      const s = net.connect(edge.port, '127.0.0.1', () => s.write(cut));
      s.on('error', () => {});
      s.setTimeout(300, () => s.destroy());
      s.on('close', resolve);
    })));
    const r = await post(`{"fuzz":${round}}`, { ca: certs.read('ca.pem') });
    assert.equal(r.status, 200, `after round ${round}`);
  }
  assert.equal(edge.child.exitCode, null);
});

test('SIGHUP with a new certificate: the old one is served until a restart, and the log says so', async () => {
  const fingerprint = () => new Promise((resolve, reject) => {
    const s = tls.connect({ port: edge.port, host: '127.0.0.1', ca: certs.read('ca.pem') }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
  const first = await fingerprint();
  copyFileSync(certs.path('server2.pem'), join(dir, 'served.pem'));
  copyFileSync(certs.path('server2.key'), join(dir, 'served.key'));
  edge.signal('SIGHUP');
  await waitFor('the SIGHUP log line', () => /served after a restart/.test(edge.logs()), { timeoutMs: 10_000 });
  assert.equal(await fingerprint(), first, 'uWS keeps serving the certificate it started with');
  assert.equal(edge.child.exitCode, null, 'SIGHUP does not stop the daemon');
});

test('bad TLS settings exit 2 with one line', async (t) => {
  const d = tempDir('spillway-tls-bad-');
  t.after(() => removeDir(d));
  writeFileSync(join(d, 'garbage.pem'), 'not a certificate\n');
  const base = ['edge', '--path', join(d, 'data'), '--port', '0', '--host', '127.0.0.1'];
  const cases = [
    [['--tls-cert', join(d, 'missing.pem'), '--tls-key', certs.path('server.key')], /--tls-cert .*missing\.pem: ENOENT/],
    [['--tls-cert', join(d, 'garbage.pem'), '--tls-key', certs.path('server.key')], /--tls-cert .*no PEM certificate/],
    [['--tls-cert', certs.path('server.pem'), '--tls-key', certs.path('client.key')], /--tls-key .*does not match/],
    [['--tls-cert', certs.path('server.pem')], /--tls-cert needs --tls-key/],
    [['--tls-cert', certs.path('server.pem'), '--tls-key', certs.path('server.key'), '--tls-ca', certs.path('ca.pem'),
      '--tls-client-auth', 'require'], /--tls-client-auth require: .*cannot refuse a client that presents none/],
    [['--tls-client-auth', 'sometimes'], /--tls-client-auth: "sometimes" is not one of optional, require/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli([...base, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
  }
});
