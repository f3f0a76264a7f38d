// /status, its assets and /status/ws against a real daemon: where they are
// served (the ops port with --ops-port), the cache headers, the frames a
// page gets, and everything the socket refuses: a client message other than
// "ping", binary frames, oversized frames, an Origin not allowed by
// --cors-origins, and more than 1000 sockets at once.
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir, waitFor } from '../helpers/daemon.mjs';
import { startWithOpsPort, statusSocket } from './helpers.mjs';

/** A raw WebSocket handshake: the HTTP status it gets (101 when upgraded). */
function handshake(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/status/ws`, {
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('status page routes and socket (edge with --ops-port)', () => {
  let daemon;
  let ops;
  let dir;
  before(async () => {
    dir = tempDir();
    daemon = await startWithOpsPort('edge', [
      '--path', dir, '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'warn', '--cors-origins', 'https://console.example',
    ]);
    ops = daemon.ops;
  });
  after(async () => {
    await daemon?.kill();
    if (dir) removeDir(dir);
  });

  test('GET /status is the page, on the ops port only, with its assets content-hashed and cached', async () => {
    assert.equal((await fetch(`${daemon.url}/status`)).status, 404, 'not on the public port when --ops-port is set');
    const r = await fetch(`${ops}/status`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.match(r.headers.get('content-security-policy'), /script-src 'self'/);
    const html = await r.text();
    const assets = [...html.matchAll(/"(\/status\/assets\/[\w.-]+\?v=[\w-]+)"/g)].map((m) => m[1]);
    assert.deepEqual(assets.map((a) => a.replace(/\?.*/, '')).sort(), [
      '/status/assets/status.css', '/status/assets/status.js', '/status/assets/uPlot.iife.min.js', '/status/assets/uPlot.min.css',
    ]);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another host');
    for (const a of assets) {
      const res = await fetch(ops + a);
      assert.equal(res.status, 200, a);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', a);
      const etag = res.headers.get('etag');
      assert.ok((await res.arrayBuffer()).byteLength > 500, a);
      const again = await fetch(ops + a, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304, `${a} revalidates`);
    }
    const uplot = await (await fetch(ops + assets.find((a) => a.includes('uPlot.iife')))).text();
    assert.match(uplot, /uPlot/);
    assert.equal((await fetch(`${ops}/status/assets/nothing.js`)).status, 404);
    assert.equal((await fetch(`${ops}/status/assets/..%2Fpackage.json`)).status, 404);
  });

  test('a page gets a hello, then one sample a second, and the history over HTTP; "ping" gets a pong', async () => {
    const s = statusSocket(ops);
    try {
      await s.opened;
      const hello = await s.frame((f) => f.type === 'hello');
      assert.deepEqual(hello, { type: 'hello', role: 'edge', name: 'rxtx', capacity: 600 });
      const first = await s.frame((f) => f.type === 'sample');
      const second = await s.frame((f) => f.type === 'sample' && f.t > first.t, 5000);
      assert.ok(second.t - first.t >= 1 && second.t - first.t <= 3, `samples a second apart (${first.t} → ${second.t})`);
      for (const k of ['in', 'out', 'ack', 'tx', 'held', 'shards', 'ages', 'age', 'outputs', 'refused', 'ready']) assert.ok(k in second, k);
      assert.equal(second.shards.length, 4);
      assert.deepEqual(Object.keys(second.outputs), ['stage']);
      assert.ok(Buffer.byteLength(JSON.stringify(second)) < 1024, 'a sample is one small frame');
      s.ws.send('ping');
      await s.frame((f) => f.type === 'pong');
      // A page opened later reads what the ring holds: the same samples, gzipped when it may.
      const r = await fetch(`${ops}/status/history`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-encoding'), 'gzip');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const history = await r.json();
      const pushed = history.find((x) => x.t === second.t);
      assert.deepEqual({ type: 'sample', ...pushed }, second, 'the history holds the seconds already pushed, as pushed');
      assert.ok(history.every((x, i) => i === 0 || x.t > history[i - 1].t), 'oldest first');
      const plain = await new Promise((resolve, reject) => {
        http.get(`${ops}/status/history`, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body }));
        }).on('error', reject);
      });
      assert.equal(plain.encoding, undefined, 'no gzip unless asked');
      assert.ok(JSON.parse(plain.body).some((x) => x.t === second.t));
    } finally {
      s.ws.close();
    }
  });

  for (const [what, frame, code] of [
    ['a text message other than "ping"', 'subscribe', 1008],
    ['"ping" with more after it', 'ping!', 1008],
    ['a binary frame', new Uint8Array([0x70, 0x69, 0x6e, 0x67]), 1003],
    ['a text frame over 64 bytes', 'x'.repeat(65), 1006],
    ['a 1 MB binary frame', new Uint8Array(1 << 20), 1006],
  ]) {
    test(`${what} closes the socket (${code})`, async () => {
      const s = statusSocket(ops);
      await s.opened;
      await s.frame((f) => f.type === 'hello');
      s.ws.send(frame);
      const closed = await Promise.race([s.closed, new Promise((r) => setTimeout(() => r('still open'), 5000))]);
      assert.equal(closed.code, code, JSON.stringify(closed));
      // The daemon serves the next page as before.
      const next = statusSocket(ops);
      await next.opened;
      await next.frame((f) => f.type === 'hello');
      next.ws.close();
    });
  }

  test('an Origin outside --cors-origins is refused (403); the listed one, the daemon\'s own and none are upgraded', async () => {
    assert.equal(await handshake(ops, { Origin: 'https://evil.example' }), 403);
    assert.equal(await handshake(ops, { Origin: 'null' }), 403);
    assert.equal(await handshake(ops, { Origin: 'https://console.example' }), 101);
    assert.equal(await handshake(ops, { Origin: ops }), 101, 'the page served by the daemon itself');
    assert.equal(await handshake(ops), 101, 'no Origin: not a browser page');
  });

  test('at most 1000 status sockets: the next is closed with 1013, and a place freed is taken again', async () => {
    const sockets = [];
    try {
      for (let i = 0; i < 1000; i += 100) {
        const batch = Array.from({ length: 100 }, () => statusSocket(ops));
        sockets.push(...batch);
        await Promise.all(batch.map((s) => s.opened));
      }
      await Promise.all(sockets.map((s) => s.frame((f) => f.type === 'hello', 30_000)));
      const extra = statusSocket(ops);
      const closed = await extra.closed;
      assert.equal(closed.code, 1013);
      assert.match(closed.reason, /too many status pages open \(1000\)/);
      assert.ok(!extra.frames.some((f) => f.type === 'hello'), 'the refused socket gets no figures');
      // Every one of the 1000 still gets the pushed samples.
      const since = Math.max(...sockets.map((s) => s.frames.at(-1)?.t ?? 0));
      await waitFor('a sample on every socket', () => sockets.every((s) => s.frames.some((f) => f.type === 'sample' && f.t > since)), { timeoutMs: 20_000 });
      const one = sockets.pop();
      one.ws.close();
      await one.closed;
      await waitFor('a freed place', async () => {
        const again = statusSocket(ops);
        const r = await Promise.race([again.frame((f) => f.type === 'hello', 5000).then(() => 'hello'), again.closed]);
        if (r === 'hello') {
          sockets.push(again);
          return true;
        }
        return false;
      }, { timeoutMs: 10_000 });
    } finally {
      for (const s of sockets) s.ws.close();
      await Promise.all(sockets.map((s) => s.closed));
    }
  });
});
