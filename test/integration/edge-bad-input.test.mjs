// Bad input on the edge: every refusal is a clear 4xx, nothing from the bad
// request is stored or forwarded, and the daemon keeps serving other
// clients. Runs the real daemon in front of a receiver speaking the stage
// protocol; good messages posted between the bad ones must all arrive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { startDaemon, tempDir, removeDir, stats } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import {
  post, rawConnection, rawRequest, sleep, waitDelivered, waitQuiet, deliverySummary,
} from '../helpers/edge-client.mjs';

const MAX_BODY = 65536;
let rcv;
let d;
let dir;
/** uuids of the good messages acknowledged during this file. */
const good = [];

before(async () => {
  rcv = await startReceiver();
  dir = tempDir('spillway-bad-');
  d = await startDaemon('edge', [
    '--path', dir, '--ingest', rcv.url, '--interval', '0.2', '--retry-max', '0.5',
    '--max-body', String(MAX_BODY), '--log-level', 'warn',
  ]);
});

after(async () => {
  await d?.stop();
  await rcv?.close();
  if (dir) removeDir(dir);
});

async function received() {
  return (await stats(d.url)).edge.received;
}

async function postGood(tag) {
  const r = await post(d.url, '/rx/good/k/after', JSON.stringify({ after: tag }));
  assert.equal(r.status, 200, `good POST after ${tag}: ${r.text}`);
  good.push(r.json.uuid);
  return r;
}

/**
 * After a bad request: another client is served, and the store counted only
 * that client's message since `before`. The good POST is acknowledged after
 * the bad requests were answered, so they were processed first; no fixed
 * wait decides it. (The last test of the file also checks, at quiescence,
 * that the store counted exactly the good messages.)
 */
async function holdsNothingAndServes(before, what) {
  assert.equal(d.child.exitCode, null, `${what}: the daemon exited`);
  await postGood(what);
  const s = (await stats(d.url)).edge;
  assert.equal(s.received, before + 1, `${what}: the bad request stored something (or the good one was not stored)`);
  assert.equal(s.writesPending, 0, `${what}: a write is still pending`);
}

function assertFail(r, status, pattern, what) {
  assert.equal(r.status, status, `${what}: expected ${status}, got ${r.status} ${r.text}`);
  assert.equal(r.json?.status, 'FAIL', `${what}: body ${r.text}`);
  assert.equal(typeof r.json.message, 'string');
  if (pattern) assert.match(r.json.message, pattern, `${what}: message does not say what is wrong`);
}

test('invalid JSON → 400 saying what is wrong', async () => {
  const before = await received();
  for (const body of ['{x', '{"a":1,}', '{"a":1} trailing', '{"a":1}{"b":2}', "{'a':1}", '{"a":01}', '   ', '{"a":"\u0001"}']) {
    const r = await post(d.url, '/rx/bad/json/l', body, { 'content-type': 'application/json' });
    assertFail(r, 400, /JSON/i, `body ${JSON.stringify(body)}`);
  }
  await holdsNothingAndServes(before, 'invalid JSON');
});

test('a payload that is not an object (array, number, string, null, boolean) → 400', async () => {
  const before = await received();
  for (const body of ['[1,2,3]', '[]', '[{"a":1}]', '42', '-1.5e3', '"a string"', 'null', 'true', 'false']) {
    const r = await post(d.url, '/rx/bad/kind/l', body);
    assertFail(r, 400, /object/i, `body ${body}`);
  }
  await holdsNothingAndServes(before, 'not an object');
});

test('empty body → 400', async () => {
  const before = await received();
  for (const mode of ['rx', 'rxs']) {
    const r = await post(d.url, `/${mode}/bad/empty/l`, '');
    assertFail(r, 400, /empty/i, `/${mode} empty body`);
  }
  // An empty body with an explicit Content-Length: 0, and one with no length at all.
  const a = await rawRequest(d.port, 'POST /rx/bad/empty/l HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  assert.equal(a.res?.status, 400, `Content-Length: 0 → ${a.data}`);
  const b = await rawRequest(d.port, 'POST /rx/bad/empty/l HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.equal(b.res?.status, 400, `empty chunked body → ${b.data}`);
  await holdsNothingAndServes(before, 'empty body');
});

test('a body of exactly --max-body bytes is accepted', async () => {
  const prefix = '{"pad":"';
  const suffix = '"}';
  const body = prefix + 'x'.repeat(MAX_BODY - prefix.length - suffix.length) + suffix;
  assert.equal(Buffer.byteLength(body), MAX_BODY);
  const r = await post(d.url, '/rx/good/k/exact', body);
  assert.equal(r.status, 200, r.text);
  good.push(r.json.uuid);
});

test('over --max-body → 413, answered before the body is sent (Content-Length)', async () => {
  const before = await received();
  const conn = rawConnection(d.port);
  await conn.connected;
  // Declare 50 MiB and send none of it: the server must answer from the headers alone.
  await conn.write('POST /rx/bad/big/l HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n');
  const res = await conn.response(5000);
  conn.destroy();
  assert.ok(res, `no response before the body was sent (got ${JSON.stringify(conn.data.toString())})`);
  assert.equal(res.status, 413);
  assert.equal(JSON.parse(res.body).status, 'FAIL');
  await holdsNothingAndServes(before, '413 by Content-Length');
});

test('over --max-body → 413 while a chunked body streams in, without reading the rest', async () => {
  const before = await received();
  const conn = rawConnection(d.port);
  await conn.connected;
  await conn.write('POST /rx/bad/big/l HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = Buffer.from('{"a":"' + 'y'.repeat(MAX_BODY + 100));
  await conn.write(`${chunk.length.toString(16)}\r\n`);
  await conn.write(chunk);
  await conn.write('\r\n');
  // The body is not finished (no terminating chunk): the answer must come anyway.
  const res = await conn.response(5000);
  conn.destroy();
  assert.ok(res, 'no response while the oversized body was still open');
  assert.equal(res.status, 413);
  await holdsNothingAndServes(before, '413 chunked');
});

test('over --max-body by one byte → 413 (fetch)', async () => {
  const before = await received();
  const body = '{"pad":"' + 'z'.repeat(MAX_BODY - 9) + '"}';
  assert.equal(Buffer.byteLength(body), MAX_BODY + 1);
  const r = await post(d.url, '/rx/bad/big/l', body);
  assertFail(r, 413, undefined, 'one byte over');
  await holdsNothingAndServes(before, '413 one byte over');
});

test('a route without a label → 404', async () => {
  const before = await received();
  for (const path of ['/rx/p/k', '/rx/p/k/', '/rx/p/k//', '/rx/p', '/rx/p/', '/rx/', '/rx//k/l', '/rx/p//l',
    '/rxs/p/k', '/rxa/p/k', '/rxa/p/k/', '/rxb/p/k']) {
    const r = await post(d.url, path, '{"a":1}');
    assertFail(r, 404, undefined, `POST ${path}`);
  }
  await holdsNothingAndServes(before, 'no label');
});

test('unknown route → 404', async () => {
  const before = await received();
  for (const path of ['/nope', '/rx', '/rxx/p/k/l', '/RX/p/k/l', '/in', '/', '/rx-/p/k/l', '/api/rx/p/k/l']) {
    const r = await post(d.url, path, '{"a":1}');
    assertFail(r, 404, undefined, `POST ${path}`);
  }
  const g = await fetch(d.url + '/nope');
  assert.equal(g.status, 404);
  await g.text();
  await holdsNothingAndServes(before, 'unknown route');
});

test('wrong method → 405 with Allow', async () => {
  const before = await received();
  for (const mode of ['rx', 'rxs', 'rxa', 'rxb']) {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const init = { method };
      if (method !== 'GET') init.body = '{"a":1}';
      const r = await fetch(`${d.url}/${mode}/bad/method/l`, init);
      const text = await r.text();
      assert.equal(r.status, 405, `${method} /${mode}: ${r.status} ${text}`);
      assert.match(r.headers.get('allow') ?? '', /POST/, `${method} /${mode}: Allow header`);
    }
  }
  const h = await fetch(`${d.url}/rx/bad/method/l`, { method: 'HEAD' });
  assert.equal(h.status, 405);
  await holdsNothingAndServes(before, 'wrong method');
});

test('an invalid or unknown method (raw socket) is refused, never stored', async () => {
  const before = await received();
  for (const method of ['FOO', 'G@T', 'POSTX', 'post']) {
    const { res, closed, data } = await rawRequest(
      d.port, `${method} /rx/bad/method/l HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{"a":1}`, { timeoutMs: 3000 },
    );
    // A 4xx, or the connection closed as unparseable; never a 2xx.
    if (res) assert.ok(res.status >= 400 && res.status < 500, `${method}: ${data}`);
    else assert.ok(closed, `${method}: neither an answer nor a close`);
  }
  await holdsNothingAndServes(before, 'invalid method');
});

test('gzip that does not inflate → 400', async () => {
  const before = await received();
  const full = gzipSync(Buffer.from('{"a":"' + 'q'.repeat(2000) + '"}'));
  const bodies = {
    'not gzip at all': Buffer.from('{"a":1}'),
    'random bytes': Buffer.from([0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
    'truncated gzip': full.subarray(0, Math.floor(full.length / 2)),
    'gzip header only': full.subarray(0, 10),
    'corrupted deflate data': Buffer.concat([full.subarray(0, 12), Buffer.alloc(40, 0xff), full.subarray(52)]),
  };
  for (const [what, body] of Object.entries(bodies)) {
    const r = await post(d.url, '/rx/bad/gzip/l', body, { 'content-encoding': 'gzip' });
    assertFail(r, 400, /gzip|inflate/i, what);
  }
  // A valid gzip stream whose content is not JSON is a 400 too.
  const r = await post(d.url, '/rx/bad/gzip/l', gzipSync('not json'), { 'content-encoding': 'gzip' });
  assertFail(r, 400, /JSON/i, 'gzip of non-JSON');
  await holdsNothingAndServes(before, 'bad gzip');
});

test('an unsupported Content-Encoding → 4xx', async () => {
  const before = await received();
  for (const enc of ['br', 'deflate', 'compress', 'x-custom']) {
    const r = await post(d.url, '/rx/bad/enc/l', '{"a":1}', { 'content-encoding': enc });
    assert.ok(r.status >= 400 && r.status < 500, `${enc}: ${r.status}`);
    assert.equal(r.json?.status, 'FAIL');
  }
  await holdsNothingAndServes(before, 'unsupported encoding');
});

test('invalid UTF-8 → 400', async () => {
  const before = await received();
  const wrap = (bytes) => Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')]);
  const cases = {
    'lone 0xff': wrap([0xff]),
    'lone continuation byte': wrap([0x80]),
    'truncated 2-byte sequence': wrap([0xc3]),
    'overlong "/"': wrap([0xc0, 0xaf]),
    'UTF-16 surrogate encoded in UTF-8': wrap([0xed, 0xa0, 0x80]),
    'code point above U+10FFFF': wrap([0xf4, 0x90, 0x80, 0x80]),
    'Latin-1 é': wrap([0xe9]),
    'invalid byte in a key': Buffer.concat([Buffer.from('{"'), Buffer.from([0xfe]), Buffer.from('":1}')]),
  };
  for (const [what, body] of Object.entries(cases)) {
    const r = await post(d.url, '/rx/bad/utf8/l', body);
    assertFail(r, 400, /UTF-?8/i, what);
    const z = await post(d.url, '/rx/bad/utf8/l', gzipSync(body), { 'content-encoding': 'gzip' });
    assertFail(z, 400, /UTF-?8/i, `${what} (gzip)`);
  }
  await holdsNothingAndServes(before, 'invalid UTF-8');
});

test('10 000 levels of nesting → a 4xx, never a crash or a stall', async () => {
  const before = await received();
  const n = 10_000;
  const bodies = {
    arrays: '{"a":' + '['.repeat(n) + ']'.repeat(n) + '}',
    objects: '{"a":'.repeat(n) + '1' + '}'.repeat(n),
    'unclosed arrays': '{"a":' + '['.repeat(n),
    'brackets inside strings do not count': undefined,
  };
  bodies['brackets inside strings do not count'] = JSON.stringify({ s: '['.repeat(n) });
  for (const [what, body] of Object.entries(bodies)) {
    const path = what.startsWith('brackets') ? '/rx/good/deep/l' : '/rx/bad/deep/l';
    const r = await fetch(d.url + path, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    if (what === 'brackets inside strings do not count') {
      assert.equal(r.status, 200, `${what}: ${text}`);
      good.push(JSON.parse(text).uuid);
      continue;
    }
    assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${text}`);
    assert.equal(JSON.parse(text).status, 'FAIL');
  }
  // The string case was a good message; everything else stored nothing.
  await holdsNothingAndServes(before + 1, 'deep nesting');
});

test('10 000 levels of nesting under a generous --max-depth: stored and forwarded intact, or a 4xx', async (t) => {
  const r2 = await startReceiver();
  const dir2 = tempDir('spillway-deep-');
  let d2;
  t.after(async () => {
    await d2?.stop();
    await r2.close();
    removeDir(dir2);
  });
  d2 = await startDaemon('edge', [
    '--path', dir2, '--ingest', r2.url, '--interval', '0.2', '--retry-max', '0.5', '--max-depth', '1000000',
    '--max-body', '4MiB', '--log-level', 'warn',
  ]);
  const n = 10_000;
  // JSON.stringify recurses and cannot print these; compare by walking down.
  const shapes = [
    ['arrays', '{"a":' + '['.repeat(n) + ']'.repeat(n) + '}', (p) => {
      let v = p.a;
      for (let i = 1; i < n; i++) {
        if (!Array.isArray(v) || v.length !== 1) return false;
        v = v[0];
      }
      return Array.isArray(v) && v.length === 0;
    }],
    ['objects', '{"a":'.repeat(n) + '1' + '}'.repeat(n), (p) => {
      let v = p;
      for (let i = 0; i < n; i++) {
        if (v === null || typeof v !== 'object' || Object.keys(v).length !== 1) return false;
        v = v.a;
      }
      return v === 1;
    }],
  ];
  for (const [what, body, intact] of shapes) {
    const r = await fetch(d2.url + '/rx/deep/k/l', { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
    const text = await r.text();
    assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${what}: ${r.status} ${text}`);
    if (r.status === 200) {
      const { uuid } = JSON.parse(text);
      assert.equal(await waitDelivered(r2, [uuid], 20_000), 0, `${what}: stored deep message never forwarded`);
      const m = r2.state.messages.find((x) => x.uuid === uuid);
      assert.ok(intact(m.payload), `${what}: deep payload changed on the way`);
    }
  }
  assert.equal(d2.child.exitCode, null, 'daemon exited');
  const ok = await post(d2.url, '/rx/good/k/l', '{"still":"serving"}');
  assert.equal(ok.status, 200);
  assert.deepEqual(r2.state.errors, []);
});

test('malformed path, bad Idempotency-Key → 4xx', async () => {
  const before = await received();
  for (const path of ['/rx/%zz/k/l', '/rx/p/%E0%A4%A/l', '/rx/p/k/%00', '/rx/p%0a/k/l', `/rx/${'p'.repeat(300)}/k/l`]) {
    const r = await post(d.url, path, '{"a":1}');
    assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.text}`);
    assert.equal(r.json?.status, 'FAIL', path);
  }
  for (const key of ['has space', 'x'.repeat(256), 'tab\there']) {
    const r = await post(d.url, '/rx/bad/idem/l', '{"a":1}', { 'idempotency-key': key });
    assertFail(r, 400, /Idempotency-Key/i, `key ${JSON.stringify(key)}`);
  }
  await holdsNothingAndServes(before, 'bad path / key');
});

test('a client that disconnects mid-body → nothing stored', async () => {
  const before = await received();
  const cases = [
    // Content-Length promised, half sent, then gone.
    ['POST /rx/bad/cut/l HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', '{"a":"' + 'c'.repeat(400)],
    // Headers only.
    ['POST /rx/bad/cut/l HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n', ''],
    // A complete JSON object, but fewer bytes than Content-Length says.
    ['POST /rx/bad/cut/l HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', '{"complete":"object"}'],
    // Chunked: a whole chunk holding a valid object, no terminating chunk.
    ['POST /rx/bad/cut/l HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', '7\r\n{"a":1}\r\n'],
    // Same on /rxa, which acks on receipt: no receipt, no message.
    ['POST /rxa/bad/cut/l HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', '{"complete":"object"}'],
    // And an NDJSON batch cut after its first full line.
    ['POST /rxb/bad/cut/l HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', '{"line":1}\n{"line":2}\n'],
  ];
  for (const [head, part] of cases) {
    const conn = rawConnection(d.port);
    await conn.connected;
    await conn.write(head);
    if (part) await conn.write(part);
    await sleep(100);
    assert.equal(parseInt(conn.data.toString().slice(9, 12)) || 0, 0, `answered before the body was complete: ${conn.data}`);
    conn.destroy();
    await conn.waitClosed();
  }
  await holdsNothingAndServes(before, 'disconnect mid-body');
});

test('clients stuck mid-body do not stall other clients', async () => {
  const stuck = [];
  for (let i = 0; i < 50; i++) {
    const conn = rawConnection(d.port);
    await conn.connected;
    await conn.write('POST /rx/bad/slow/l HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{"slow":"');
    stuck.push(conn);
  }
  try {
    const before = await received();
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => post(d.url, `/rx/good/k${i % 7}/while-stuck`, JSON.stringify({ i }))),
    );
    const ms = Date.now() - t0;
    for (const r of results) {
      assert.equal(r.status, 200, r.text);
      good.push(r.json.uuid);
    }
    assert.ok(ms < 5000, `100 good POSTs took ${ms} ms while 50 clients were stuck`);
    assert.equal(await received(), before + 100);
  } finally {
    for (const c of stuck) c.destroy();
  }
});

const rawReq = (method, path, body) =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

test('refusals keep a keep-alive connection usable (bad requests, then a good one, on one connection)', async () => {
  const before = await received();
  const conn = rawConnection(d.port);
  await conn.connected;
  const sequence = [
    [rawReq('POST', '/rx/bad/ka/l', '{nope'), 400],
    [rawReq('POST', '/rx/bad/ka', '{"a":1}'), 404],
    [rawReq('POST', '/rx/bad/ka/l', '[1]'), 400],
    [rawReq('PUT', '/rx/bad/ka/l', '{"a":1}'), 405],
    [rawReq('POST', '/rx/bad/ka/l', ''), 400],
    [rawReq('POST', '/nope', '{"a":1}'), 404],
    [rawReq('POST', '/rx/good/ka/l', '{"keepalive":true}'), 200],
  ];
  try {
    for (let i = 0; i < sequence.length; i++) {
      const [bytes, status] = sequence[i];
      await conn.write(bytes);
      const rs = await conn.responses(i + 1, 5000);
      assert.equal(rs.length, i + 1, `no answer to request ${i + 1} on the kept-alive connection: ${conn.data}`);
      assert.equal(rs[i].status, status, `request ${i + 1}`);
      if (status === 200) good.push(JSON.parse(rs[i].body).uuid);
    }
    assert.equal(conn.closed, false, 'the connection was closed after a refusal');
  } finally {
    conn.destroy();
  }
  // The good request came last on the connection and was answered after the refusals.
  assert.equal(await received(), before + 1);
});

// HTTP/1.1 lets a client pipeline requests (RFC 9112 §9.3.2). The hazard:
// a good request whose durable write is still pending when the next request
// on the same connection (here a bad one) is parsed. On its own daemon, so
// that what it stores is counted exactly. Observed at 7a0ceb2 and since:
// uWS closes the connection with no answer to either request, while the
// good message is stored and forwarded (received 1, delivered once); the
// client, with no 200, retries it and duplicates it. Kept as a todo with
// that failure until the front answers pipelined requests in order.
test('pipelined behind a pending durable write: both answered, in order, and only the good one stored', {
  todo: 'uWS closes the connection unanswered while the first request\'s durable write is pending; the first message is stored anyway',
}, async (t) => {
  const r3 = await startReceiver();
  const dir3 = tempDir('spillway-pipe-');
  let d3;
  let conn;
  t.after(async () => {
    conn?.destroy();
    await d3?.stop();
    await r3.close();
    removeDir(dir3);
  });
  d3 = await startDaemon('edge', ['--path', dir3, '--ingest', r3.url, '--interval', '0.2', '--retry-max', '0.5', '--log-level', 'warn']);
  conn = rawConnection(d3.port);
  await conn.connected;
  // One write: the good request first, the bad one right behind it.
  await conn.write(rawReq('POST', '/rx/pipe/k/l', '{"pipelined":"first"}') + rawReq('POST', '/rx/bad/pipe/l', '{nope'));
  const rs = await conn.responses(2, 5000);
  // What the daemon stored: a later request on a fresh connection is
  // acknowledged after the pipelined ones were handled.
  const probe = await post(d3.url, '/rx/probe/k/l', '{"probe":1}');
  assert.equal(probe.status, 200, probe.text);
  await waitQuiet(d3.url, r3, { timeoutMs: 20_000 });
  const s = (await stats(d3.url)).edge;
  const forwarded = r3.state.messages.filter((m) => m.producer === 'pipe').map((m) => m.payload);
  t.diagnostic(`answers ${JSON.stringify(rs.map((r) => r.status))}, connection closed ${conn.closed}, stored ${s.received - 1} besides the probe, forwarded ${JSON.stringify(forwarded)}`);
  assert.deepEqual(rs.map((r) => r.status), [200, 400], `responses: ${JSON.stringify(conn.data.toString())}`);
  assert.equal(s.received, 2, 'stored: the good pipelined message and the probe, nothing else');
  assert.deepEqual(forwarded, [{ pipelined: 'first' }]);
  assert.equal(JSON.parse(rs[0].body).uuid, r3.state.messages.find((m) => m.producer === 'pipe').uuid);
});

test('a flood of bad requests mixed with good ones: every good one stored, every bad one refused', async () => {
  const before = await received();
  const agent = new Agent({ connections: 32, pipelining: 1 });
  const bad = ['{x', '[1]', '', 'null', Buffer.from([0x7b, 0xff, 0x7d]), '{"a":' + '['.repeat(200) + ']'.repeat(200) + '}'];
  const jobs = [];
  for (let i = 0; i < 600; i++) {
    const isGood = i % 2 === 0;
    const body = isGood ? JSON.stringify({ flood: i }) : bad[i % bad.length];
    // Same producer/key for good and bad, so they share a shard and a writer task.
    jobs.push(
      request(`${d.url}/rx/mix/k${i % 3}/flood`, { method: 'POST', body, dispatcher: agent }).then(async (r) => ({
        isGood, status: r.statusCode, json: await r.body.json().catch(() => undefined),
      })),
    );
  }
  const results = await Promise.all(jobs);
  await agent.close();
  let goodOk = 0;
  for (const r of results) {
    if (r.isGood) {
      assert.equal(r.status, 200);
      good.push(r.json.uuid);
      goodOk++;
    } else {
      assert.ok(r.status >= 400 && r.status < 500, `bad request answered ${r.status}`);
    }
  }
  assert.equal(goodOk, 300);
  await holdsNothingAndServes(before + 300, 'a flood of bad and good requests');
});

test('nothing from any bad request was forwarded; every good message arrived exactly once', async () => {
  const missing = await waitDelivered(rcv, good, 30_000);
  assert.equal(missing, 0, `${missing} good messages never arrived`);
  await waitQuiet(d.url, rcv, { timeoutMs: 20_000 });
  const { missing: m, duplicated, extra } = deliverySummary(rcv, good);
  assert.deepEqual(m, []);
  assert.deepEqual(duplicated, []);
  assert.deepEqual(extra, [], 'the receiver got messages that were never acknowledged');
  for (const msg of rcv.state.messages) {
    assert.notEqual(msg.producer, 'bad', `a bad request was forwarded: ${JSON.stringify(msg).slice(0, 200)}`);
  }
  assert.deepEqual(rcv.state.errors, []);
  const s = (await stats(d.url)).edge;
  assert.equal(s.received, good.length);
  assert.equal(d.child.exitCode, null);
});
