// The lumberjack v2 client (src/sinks/logstash/lumberjack.ts) against the
// real go-lumber server (test/servers/lumberjack): windows plain and zlib'd,
// pipelined, partial ACKs, a connection cut after a partial ACK, keepalives
// while the server holds a window, the timeout without them, and TLS with a
// client certificate. The server writes each event as it received it, so the
// bytes sent are compared with the bytes the server decoded.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { encodeWindow, LumberjackConnection, LumberjackError } from '../../dist/sinks/logstash/lumberjack.js';
import { removeDir, tempDir } from '../helpers/daemon.mjs';
import { makeCertificates, requireLumberjack, startLumberjack } from '../helpers/lumberjack.mjs';

const events = (n) => Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ i, uuid: randomUUID(), text: 'é'.repeat(i % 7) })));

async function connect(server, extra = {}) {
  return LumberjackConnection.connect({ host: server.host, port: server.port, timeoutMs: 5000, compressionLevel: 0, ...extra });
}

async function withServer(t, opts, fn) {
  const bin = requireLumberjack(t);
  if (!bin) return;
  const server = await startLumberjack(bin, opts);
  t.after(async () => {
    await server.kill();
    removeDir(server.out.replace(/\/events\.ndjson$/, ''));
  });
  await fn(server);
}

const lines = (server) => readFileSync(server.out, 'utf8').split('\n').filter(Boolean);

for (const level of [0, 1, 9]) {
  test(`pipelined windows, compression level ${level}: every event arrives byte for byte, in order`, async (t) => {
    await withServer(t, {}, async (server) => {
      const conn = await connect(server, { compressionLevel: level });
      try {
        const windows = [events(1), events(100), events(2500), events(7)];
        const wires = await Promise.all(windows.map((w) => encodeWindow(w, level)));
        // All written before the first ACK: the ACKs must be matched to windows in order.
        await Promise.all(windows.map((w, i) => conn.send(wires[i], w.length)));
        assert.deepEqual(lines(server), windows.flat().map((b) => b.toString()));
        assert.equal(conn.pending, 0);
      } finally {
        conn.close();
      }
    });
  });
}

test('partial ACKs (ACK n/2, then n) close each window only at n', async (t) => {
  await withServer(t, { partial: true }, async (server) => {
    const conn = await connect(server, { compressionLevel: 3 });
    try {
      const windows = [events(10), events(1000), events(3)];
      let done = 0;
      const wires = await Promise.all(windows.map((w) => encodeWindow(w, 3)));
      await Promise.all(windows.map(async (w, i) => {
        await conn.send(wires[i], w.length);
        // A window resolves only once the server has all of it (it writes before it acks).
        assert.ok(lines(server).length >= windows.slice(0, i + 1).flat().length, `window ${i} resolved early`);
        done++;
      }));
      assert.equal(done, 3);
      assert.equal(lines(server).length, 1013);
    } finally {
      conn.close();
    }
  });
});

test('a connection cut after a partial ACK rejects with the acknowledged count; resending the rest completes the set', async (t) => {
  await withServer(t, { dropAfterPartial: 1 }, async (server) => {
    const w = events(100);
    const first = await connect(server);
    const err = await first.send(await encodeWindow(w, 0), w.length).then(() => undefined, (e) => e);
    assert.ok(err instanceof LumberjackError, String(err));
    assert.equal(err.acked, 50);
    const second = await connect(server);
    try {
      await second.send(await encodeWindow(w.slice(err.acked), 0), w.length - err.acked);
    } finally {
      second.close();
    }
    // The server had all 100 before it cut (at least once): the second half twice, nothing missing.
    const got = lines(server);
    assert.deepEqual(got, [...w, ...w.slice(50)].map((b) => b.toString()));
  });
});

test('keepalive ACK(0) frames while the server holds a window keep the connection past the timeout', async (t) => {
  await withServer(t, { ackDelay: '1500ms', keepalive: '200ms' }, async (server) => {
    const conn = await connect(server, { timeoutMs: 700 });
    try {
      const w = events(5);
      const t0 = Date.now();
      await conn.send(await encodeWindow(w, 0), w.length);
      assert.ok(Date.now() - t0 >= 1400, 'the ACK came after the delay');
    } finally {
      conn.close();
    }
  });
});

test('no frame for the timeout while a window is open: the window fails', async (t) => {
  await withServer(t, { ackDelay: '2s', keepalive: '0s' }, async (server) => {
    const conn = await connect(server, { timeoutMs: 500 });
    try {
      const w = events(5);
      await assert.rejects(conn.send(await encodeWindow(w, 0), w.length), (e) => e instanceof LumberjackError && /no ACK .* in 500 ms/.test(e.message));
      assert.ok(conn.closed);
    } finally {
      conn.close();
    }
  });
});

test('TLS with a client certificate; without one the server refuses', async (t) => {
  const dir = tempDir('spillway-lj-tls-');
  t.after(() => removeDir(dir));
  const c = makeCertificates(dir);
  await withServer(t, { tls: { cert: c.cert, key: c.key, ca: c.ca } }, async (server) => {
    const ca = readFileSync(c.ca);
    const conn = await connect(server, { compressionLevel: 3, tls: { ca, cert: readFileSync(c.clientCert), key: readFileSync(c.clientKey) } });
    try {
      const w = events(200);
      await conn.send(await encodeWindow(w, 3), w.length);
      assert.equal(lines(server).length, 200);
    } finally {
      conn.close();
    }
    // No client certificate: the handshake or the first window fails, and nothing is written.
    const refused = await connect(server, { tls: { ca } }).then(
      async (x) => x.send(await encodeWindow(events(1), 0), 1).finally(() => x.close()),
    ).then(() => undefined, (e) => e);
    assert.ok(refused instanceof Error, 'refused without a client certificate');
    // A CA that did not sign the server: refused by the client.
    await assert.rejects(connect(server, { tls: { ca: readFileSync(c.clientCert) } }), /certificate/);
    assert.equal(lines(server).length, 200);
  });
});
