// The stage side against the real Elasticsearch, with a small HTTP proxy in
// front of it that can stall _bulk requests or refuse every connection:
// /in answers 504 at --ack-timeout, refuses past --max-inflight-bytes with
// 503 + Retry-After, several --es nodes with one dead still deliver, SIGTERM
// of `all` while Elasticsearch is away exits in time and loses nothing, and
// an Idempotency-Key retry with another body leaves the first body indexed.
//
// Needs Elasticsearch: under CI an unreachable one fails, elsewhere skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { startDaemon, tempDir, removeDir, stats, freePort, waitFor } from '../helpers/daemon.mjs';
import { ES_URL, checkExactlyOnce, count, es, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { post } from '../helpers/edge-client.mjs';

/**
 * An HTTP proxy to Elasticsearch. mode 'pass' forwards everything; 'stall-bulk'
 * holds every _bulk request unanswered (the rest passes) until the mode
 * changes, then forwards the held ones; 'down' destroys every connection.
 */
async function startEsProxy(target = ES_URL) {
  const t = new URL(target);
  const held = [];
  const sockets = new Set();
  const state = { mode: 'pass', bulks: 0, stalled: 0 };
  const forward = (req, body, res) => {
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  };
  const server = http.createServer((req, res) => {
    if (state.mode === 'down') {
      req.socket.destroy();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isBulk = /\/_bulk(\?|$)/.test(req.url);
      if (isBulk) state.bulks++;
      if (isBulk && state.mode === 'stall-bulk') {
        state.stalled++;
        held.push({ req, body, res });
        return;
      }
      forward(req, body, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    if (state.mode === 'down') s.destroy();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    state,
    url: `http://127.0.0.1:${server.address().port}`,
    setMode(mode) {
      state.mode = mode;
      if (mode === 'down') {
        for (const h of held.splice(0)) h.res.destroy();
        for (const s of sockets) s.destroy();
      } else if (mode === 'pass') {
        for (const h of held.splice(0)) if (!h.res.destroyed) forward(h.req, h.body, h.res);
      }
    },
    async close() {
      for (const h of held.splice(0)) h.res.destroy();
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A MessageBatch of `n` messages (rtbeat's /in body), each payload padded to about `pad` bytes. */
function makeBatch(n, { pad = 0, tag = 'b' } = {}) {
  const now = new Date();
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const messages = Array.from({ length: n }, (_, i) => ({
    seq: day + String(Math.floor(Math.random() * 1e9) * 100 + i).padStart(11, '0').slice(-11),
    time: now.toISOString(),
    uuid: randomUUID(),
    producer: 'stage', label: '/limits/test', key: tag,
    payload: { i, tag, pad: 'p'.repeat(pad) },
  }));
  const body = JSON.stringify({ uuid: randomUUID(), size: n, messages });
  return { body, bytes: Buffer.byteLength(body), uuids: messages.map((m) => m.uuid) };
}

async function postIn(url, body, timeoutMs = 60_000) {
  const t0 = Date.now();
  const r = await fetch(`${url}/in`, {
    method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, retryAfter: r.headers.get('retry-after'), text, json, ms: Date.now() - t0 };
}

/** Every uuid indexed exactly once and nothing else in the test's indices. */
async function assertIndexedOnce(idx, uuids, what) {
  const ids = new Set(uuids);
  await waitFor(`${what}: ${ids.size} documents`, async () => (await count(idx.all)) >= ids.size, { timeoutMs: 60_000, everyMs: 250 });
  const check = await checkExactlyOnce(idx.all, ids);
  assert.deepEqual(check.missing.slice(0, 5), [], `${what}: ${check.missing.length} acknowledged messages not indexed`);
  assert.equal(check.total, ids.size, `${what}: ${check.total} documents for ${ids.size} messages`);
}

test('beat: /in answers 504 TIMEOUT at --ack-timeout when Elasticsearch does not answer; the resend lands once', { timeout: 120_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const proxy = await startEsProxy();
  let d;
  t.after(async () => {
    await d?.kill();
    await proxy.close();
    await idx.cleanup();
  });
  d = await startDaemon('beat', ['--es', proxy.url, '--index', idx.pattern, '--ack-timeout', '2', '--log-level', 'error']);
  await waitFor('the beat ready', async () => (await fetch(`${d.url}/readyz`)).status === 200, { timeoutMs: 30_000 });
  proxy.setMode('stall-bulk');
  const batch = makeBatch(20);
  const r = await postIn(d.url, batch.body);
  assert.equal(r.status, 504, `${r.status} ${r.text}`);
  assert.equal(r.json?.status, 'TIMEOUT');
  assert.ok(r.ms >= 1900 && r.ms < 6000, `504 after ${r.ms} ms with --ack-timeout 2`);
  assert.ok(proxy.state.stalled >= 1, 'no _bulk request reached Elasticsearch');
  // Elasticsearch answers again: the sender's resend of the same batch is a 200,
  // and whatever the stalled request did, each message is one document.
  proxy.setMode('pass');
  const again = await postIn(d.url, batch.body);
  assert.equal(again.status, 200, again.text);
  await assertIndexedOnce(idx, batch.uuids, 'after the 504 and the resend');
});

test('beat: past --max-inflight-bytes /in refuses with 503 + Retry-After; every batch lands once after', { timeout: 120_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const proxy = await startEsProxy();
  let d;
  t.after(async () => {
    await d?.kill();
    await proxy.close();
    await idx.cleanup();
  });
  const LIMIT = 20_000;
  d = await startDaemon('beat', [
    '--es', proxy.url, '--index', idx.pattern, '--ack-timeout', '60', '--max-inflight-bytes', String(LIMIT), '--log-level', 'error',
  ]);
  await waitFor('the beat ready', async () => (await fetch(`${d.url}/readyz`)).status === 200, { timeoutMs: 30_000 });
  proxy.setMode('stall-bulk');
  const a = makeBatch(10, { pad: 1200, tag: 'a' }); // ~13 kB: in flight, stalled
  const b = makeBatch(10, { pad: 1000, tag: 'b' }); // ~11 kB: a + b > LIMIT
  const c = makeBatch(2, { pad: 100, tag: 'c' }); // small: a + c <= LIMIT
  assert.ok(a.bytes < LIMIT && a.bytes + b.bytes > LIMIT && a.bytes + c.bytes <= LIMIT, `${a.bytes} ${b.bytes} ${c.bytes}`);
  const pa = postIn(d.url, a.body);
  await waitFor('batch a stalled at Elasticsearch', () => proxy.state.stalled >= 1, { timeoutMs: 10_000, everyMs: 20 });
  const rb = await postIn(d.url, b.body);
  assert.equal(rb.status, 503, `b: ${rb.status} ${rb.text}`);
  assert.ok(Number(rb.retryAfter) >= 1, `b: Retry-After ${rb.retryAfter}`);
  assert.match(rb.json?.message ?? '', /--max-inflight-bytes/);
  const pc = postIn(d.url, c.body);
  await waitFor('batch c stalled at Elasticsearch too', () => proxy.state.stalled >= 2, { timeoutMs: 10_000, everyMs: 20 });
  proxy.setMode('pass');
  assert.equal((await pa).status, 200);
  assert.equal((await pc).status, 200);
  const rb2 = await postIn(d.url, b.body);
  assert.equal(rb2.status, 200, `b resent: ${rb2.text}`);
  await assertIndexedOnce(idx, [...a.uuids, ...b.uuids, ...c.uuids], 'a, c, then b resent');
});

test('all: several --es nodes, one of them dead: every acknowledged message indexed once', { timeout: 120_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const dir = tempDir('spillway-es-nodes-');
  const dead = `http://127.0.0.1:${await freePort()}`;
  let d;
  t.after(async () => {
    await d?.kill();
    removeDir(dir);
    await idx.cleanup();
  });
  d = await startDaemon('all', ['--path', dir, '--es', `${dead},${ES_URL}`, '--index', idx.pattern, '--interval', '0.2', '--batch', '100', '--log-level', 'error']);
  const acked = [];
  await Promise.all(Array.from({ length: 8 }, async (_, c) => {
    for (let i = 0; i < 100; i++) {
      const r = await post(d.url, `/rx/nodes/k${c}/l`, JSON.stringify({ c, i }));
      assert.equal(r.status, 200, r.text);
      acked.push(r.json.uuid);
    }
  }));
  await assertIndexedOnce(idx, acked, 'with one dead node of two');
  await waitFor('the store drained', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 30_000 });
});

test('all: SIGTERM while Elasticsearch is away exits within --shutdown-timeout; after restart nothing is lost or doubled', { timeout: 180_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const idx = testIndex();
  const dir = tempDir('spillway-all-sigterm-');
  const proxy = await startEsProxy();
  const daemons = [];
  t.after(async () => {
    for (const x of daemons) await x.kill();
    await proxy.close();
    removeDir(dir);
    await idx.cleanup();
  });
  const SHUTDOWN = 3;
  const args = ['--path', dir, '--es', proxy.url, '--index', idx.pattern, '--interval', '0.2', '--batch', '200',
    '--shutdown-timeout', String(SHUTDOWN), '--log-level', 'error'];
  const d1 = await startDaemon('all', args);
  daemons.push(d1);
  await waitFor('all ready', async () => (await fetch(`${d1.url}/readyz`)).status === 200, { timeoutMs: 30_000 });
  const acked = [];
  const postSome = async (d, n, tag) => {
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; i < n / 8; i++) {
        const r = await post(d.url, `/rx/${tag}/k${c}/l`, JSON.stringify({ c, i }));
        assert.equal(r.status, 200, `${tag}: ${r.text}`);
        acked.push(r.json.uuid);
      }
    }));
  };
  await postSome(d1, 400, 'before');
  // Elasticsearch goes away (connections refused mid-stream), more messages come in.
  proxy.setMode('down');
  await postSome(d1, 400, 'during');
  await waitFor('a failed bulk', async () => (await stats(d1.url)).edge.inQueue > 0, { timeoutMs: 10_000 });
  const t0 = Date.now();
  const exit = await d1.stop('SIGTERM');
  const ms = Date.now() - t0;
  assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}\n${d1.logs().slice(-2000)}`);
  assert.ok(ms <= SHUTDOWN * 1000 + 1500, `SIGTERM took ${ms} ms with --shutdown-timeout ${SHUTDOWN}`);

  // Restart with Elasticsearch back: every acknowledged message exactly once.
  proxy.setMode('pass');
  const d2 = await startDaemon('all', args);
  daemons.push(d2);
  await assertIndexedOnce(idx, acked, 'after SIGTERM with Elasticsearch away and a restart');
  await waitFor('the store drained', async () => (await stats(d2.url)).edge.inQueue === 0, { timeoutMs: 30_000 });
});

// docs/durability.md: "the first body stored under a key wins". Both copies
// are held on disk through an outage and go out together when it ends. With
// --inflight 2 (the default) two batches of one shard fail side by side; the
// drainer retries them oldest first, so the first body lands first (before
// that rule the retry's body was indexed for 1 to 7 of 20 keys).
const IDEM_CASES = [
  { batch: 5000, inflight: 1 },
  { batch: 1, inflight: 1 },
  { batch: 1, inflight: 2 },
];
for (const { batch, inflight } of IDEM_CASES) {
  test(`all: an Idempotency-Key retry with another body leaves the first body indexed (--batch ${batch} --inflight ${inflight})`, { timeout: 120_000 }, async (t) => {
    if (!(await requireElasticsearch(t))) return;
    const idx = testIndex();
    const dir = tempDir('spillway-idem-es-');
    const proxy = await startEsProxy();
    let d;
    t.after(async () => {
      await d?.kill();
      await proxy.close();
      removeDir(dir);
      await idx.cleanup();
    });
    d = await startDaemon('all', ['--path', dir, '--es', proxy.url, '--index', idx.pattern, '--interval', '0.2',
      '--batch', String(batch), '--inflight', String(inflight), '--log-level', 'error']);
    await waitFor('all ready', async () => (await fetch(`${d.url}/readyz`)).status === 200, { timeoutMs: 30_000 });
    // Held while Elasticsearch is away, so both copies are on disk and go out
    // together, in as many batches as --batch makes.
    proxy.setMode('down');
    const keys = Array.from({ length: 20 }, (_, i) => `order-${i}`);
    const uuids = new Map();
    for (const key of keys) {
      const h = { 'idempotency-key': key };
      const a = await post(d.url, '/rx/idem/till/sale', JSON.stringify({ key, try: 1 }), h);
      const b = await post(d.url, '/rx/idem/till/sale', JSON.stringify({ key, try: 2 }), h);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.equal(a.json.uuid, b.json.uuid);
      uuids.set(a.json.uuid, key);
    }
    proxy.setMode('pass');
    await waitFor('the store drained', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 60_000 });
    await assertIndexedOnce(idx, [...uuids.keys()], 'one document per key');
    const r = await es(`/${idx.all}/_search`, { method: 'POST', body: { size: 100, query: { match_all: {} } } });
    const wrong = r.body.hits.hits.filter((h) => h._source.rxtxMsg.payload.try !== 1).map((h) => h._source.rxtxMsg.payload.key);
    t.diagnostic(`the retry's body indexed for ${wrong.length} of ${keys.length} keys`);
    assert.deepEqual(wrong, [], `the retry's body was indexed instead of the first for ${wrong.length} of ${keys.length} keys`);
  });
}
