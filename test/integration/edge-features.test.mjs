// Edge features against the real daemon: NDJSON /rxb (all or nothing),
// gzip bodies, Idempotency-Key, /rxa and /rxs, CORS preflight, the
// operational GETs, --maxq back-pressure and --overflow drop-oldest.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { startDaemon, tempDir, removeDir, stats, waitFor } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import {
  post, getJson, waitDelivered, waitEmpty, waitQuiet, deliverySummary, metrics, postMany, UUID_V4, UUID_V5,
} from '../helpers/edge-client.mjs';

const FAST = ['--interval', '0.2', '--retry-max', '0.5', '--log-level', 'warn'];
const NAME = 'edgy';
const MAX_BODY = 4096;
const MAX_BATCH_BODY = 16384;

async function edgeStats(url) {
  return (await stats(url)).edge;
}

function delivered(rcv, uuid) {
  return rcv.state.messages.find((m) => m.uuid === uuid);
}

describe('one edge with a custom --name', () => {
  let rcv;
  let d;
  let dir;
  before(async () => {
    rcv = await startReceiver();
    dir = tempDir('spillway-features-');
    d = await startDaemon('edge', [
      '--path', dir, '--ingest', rcv.url, ...FAST, '--name', NAME, '--shards', '3',
      '--max-body', String(MAX_BODY), '--max-batch-body', String(MAX_BATCH_BODY),
    ]);
  });
  after(async () => {
    await d?.stop();
    await rcv?.close();
    if (dir) removeDir(dir);
  });
  const received = async () => (await edgeStats(d.url)).received;
  /**
   * Nothing of the refused requests was stored: a good POST sent after their
   * answers is acknowledged, and the store counted exactly that one since
   * `before` (the refused ones were processed first: a fixed wait proves nothing).
   */
  const storedOnlyTheProbe = async (before, what) => {
    const r = await post(d.url, '/rx/probe/k/l', JSON.stringify({ probe: what }));
    assert.equal(r.status, 200, `probe after ${what}: ${r.text}`);
    const s = await edgeStats(d.url);
    assert.equal(s.received, before + 1, `${what}: a refused request was stored`);
    assert.equal(s.writesPending, 0, `${what}: a write is still pending`);
  };

  describe('POST /rxb (NDJSON)', () => {
    test('every line becomes a message, in order: 200 {"status":"OK","count":N}', async () => {
      const lines = ['{"n":1}', '', '{"n":2,"s":"two"}\r', '   ', '{"n":3,"nested":{"a":[1,2]}}'];
      const r = await post(d.url, '/rxb/batchp/batchk/nd/json', lines.join('\n'));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, 'OK');
      assert.equal(r.json.count, 3);
      assert.equal(await waitDelivered(rcv, [r.json.uuid], 20_000), 0);
      await waitFor('all three lines', () => rcv.state.messages.filter((m) => m.producer === 'batchp').length >= 3, { timeoutMs: 20_000 });
      const got = rcv.state.messages.filter((m) => m.producer === 'batchp').sort((a, b) => (a.seq < b.seq ? -1 : 1));
      assert.equal(got.length, 3);
      assert.deepEqual(got.map((m) => m.payload), [{ n: 1 }, { n: 2, s: 'two' }, { n: 3, nested: { a: [1, 2] } }]);
      assert.equal(got[0].uuid, r.json.uuid, 'the uuid in the reply is not the first line\'s');
      if (r.json.seq) assert.equal(got[0].seq, r.json.seq);
      for (const m of got) {
        assert.equal(m.key, 'batchk');
        assert.equal(m.label, '/nd/json');
        assert.match(m.uuid, UUID_V4);
      }
      assert.equal(new Set(got.map((m) => m.uuid)).size, 3);
      for (let i = 1; i < 3; i++) assert.equal(BigInt(got[i].seq), BigInt(got[i - 1].seq) + 1n, 'seqs of one batch are not consecutive');
    });

    test('a last line without a newline, and a single line, both count', async () => {
      const a = await post(d.url, '/rxb/batchq/k/l', '{"a":1}\n{"a":2}');
      assert.equal(a.status, 200);
      assert.equal(a.json.count, 2);
      const b = await post(d.url, '/rxb/batchq/k/l', '{"a":3}\n');
      assert.equal(b.status, 200);
      assert.equal(b.json.count, 1);
    });

    test('a bad line → 400 naming the first bad line, and nothing of the batch stored', async () => {
      const before = await received();
      const cases = [
        [['{"ok":1}', '{bad', '{"ok":3}'], /line 2\b/],
        [['{"ok":1}', '{"ok":2}', '[1,2]', '{"ok":4}', 'nope'], /line 3\b/],
        [['"string"', '{"ok":2}'], /line 1\b/],
        [['{"ok":1}', '', '42'], /line 3\b/],
        [['{"ok":1}', '{"a":' + '['.repeat(500) + ']'.repeat(500) + '}'], /line 2\b/],
        [[...Array.from({ length: 300 }, (_, i) => `{"i":${i}}`), 'null'], /line 301\b/],
      ];
      for (const [lines, pattern] of cases) {
        const r = await post(d.url, '/rxb/badbatch/k/l', lines.join('\n'));
        assert.equal(r.status, 400, `${lines.slice(-2).join(' | ')} → ${r.status} ${r.text}`);
        assert.equal(r.json.status, 'FAIL');
        assert.match(r.json.message, pattern);
      }
      await storedOnlyTheProbe(before, 'a refused NDJSON batch');
    });

    test('empty, blank-only and invalid UTF-8 NDJSON → 400, nothing stored', async () => {
      const before = await received();
      for (const body of ['', '\n\n', '  \r\n \n', Buffer.from('{"a":1}\n{"b":"\xff"}\n', 'latin1')]) {
        const r = await post(d.url, '/rxb/badbatch/k/l', body);
        assert.equal(r.status, 400, `${JSON.stringify(body.toString())} → ${r.status} ${r.text}`);
        assert.equal(r.json.status, 'FAIL');
      }
      await storedOnlyTheProbe(before, 'empty or invalid NDJSON');
    });

    test('/rxb takes bodies up to --max-batch-body, not --max-body; beyond → 413', async () => {
      const line = JSON.stringify({ pad: 'p'.repeat(100) });
      const n = Math.floor((MAX_BATCH_BODY - 100) / (line.length + 1));
      const body = Array.from({ length: n }, () => line).join('\n');
      assert.ok(body.length > MAX_BODY && body.length < MAX_BATCH_BODY);
      const r = await post(d.url, '/rxb/bigbatch/k/l', body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.count, n);
      const before = await received();
      const tooBig = Array.from({ length: n * 2 }, () => line).join('\n');
      const r2 = await post(d.url, '/rxb/badbatch/k/l', tooBig);
      assert.equal(r2.status, 413);
      assert.equal(r2.json.status, 'FAIL');
      await storedOnlyTheProbe(before, 'an /rxb body over --max-batch-body');
    });
  });

  describe('Content-Encoding: gzip', () => {
    test('a gzip body is stored as the JSON it inflates to', async () => {
      const payload = { gz: true, text: 'zip '.repeat(50), n: [1, 2, 3] };
      const r = await post(d.url, '/rx/gz/k/l', gzipSync(JSON.stringify(payload)), {
        'content-encoding': 'gzip', 'content-type': 'application/json',
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(await waitDelivered(rcv, [r.json.uuid], 20_000), 0);
      assert.deepEqual(delivered(rcv, r.json.uuid).payload, payload);
    });

    test('Content-Encoding is case-insensitive; identity is plain', async () => {
      const a = await post(d.url, '/rx/gz/k/l', gzipSync('{"case":"GZIP"}'), { 'content-encoding': 'GZIP' });
      assert.equal(a.status, 200, a.text);
      const b = await post(d.url, '/rx/gz/k/l', '{"identity":1}', { 'content-encoding': 'identity' });
      assert.equal(b.status, 200, b.text);
    });

    test('gzip NDJSON on /rxb', async () => {
      const r = await post(d.url, '/rxb/gzb/k/l', gzipSync('{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n'), { 'content-encoding': 'gzip' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.count, 4);
    });

    test('the limit applies to the inflated size → 413', async () => {
      const before = await received();
      const bomb = gzipSync(JSON.stringify({ a: 'x'.repeat(MAX_BODY * 50) }));
      assert.ok(bomb.length < MAX_BODY, 'the compressed body itself must be under the limit');
      const r = await post(d.url, '/rx/gzbad/k/l', bomb, { 'content-encoding': 'gzip' });
      assert.equal(r.status, 413, r.text);
      assert.equal(r.json.status, 'FAIL');
      // Just over the limit once inflated.
      const over = gzipSync('{"a":"' + 'y'.repeat(MAX_BODY - 7) + '"}');
      const r2 = await post(d.url, '/rx/gzbad/k/l', over, { 'content-encoding': 'gzip' });
      assert.equal(r2.status, 413, r2.text);
      // /rxb: its own limit, inflated too.
      const nd = gzipSync(Array.from({ length: 2000 }, (_, i) => `{"line":${i},"pad":"${'z'.repeat(20)}"}`).join('\n'));
      assert.ok(nd.length < MAX_BATCH_BODY);
      const r3 = await post(d.url, '/rxb/gzbad/k/l', nd, { 'content-encoding': 'gzip' });
      assert.equal(r3.status, 413, r3.text);
      // Exactly at the limit once inflated is fine; acknowledged after the
      // three refusals, it is the only message stored since `before`.
      const at = gzipSync('{"a":"' + 'y'.repeat(MAX_BODY - 8) + '"}');
      const r4 = await post(d.url, '/rx/gz/k/l', at, { 'content-encoding': 'gzip' });
      assert.equal(r4.status, 200, r4.text);
      assert.equal(await received(), before + 1, 'a body refused as too large once inflated was stored');
    });
  });

  describe('Idempotency-Key', () => {
    test('the same key twice, with two bodies: one uuid (a v5), and the first body goes first', async () => {
      // docs/durability.md: the retry is stored again and forwarded again under
      // the same uuid; the first body stored wins (the stage's create of the
      // second gets a 409). So the first body must carry the lower seq and
      // reach the stage first. (All mode against Elasticsearch:
      // stage-limits.test.mjs checks the indexed document is the first body.)
      const h = { 'idempotency-key': 'order-2024-000123' };
      const a = await post(d.url, '/rx/idem/k/l', '{"try":1}', h);
      const b = await post(d.url, '/rx/idem/k/l', '{"try":2}', h);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.match(a.json.uuid, UUID_V5);
      assert.equal(a.json.uuid, b.json.uuid);
      assert.ok(a.json.seq < b.json.seq, `the retry's seq ${b.json.seq} is not after the first's ${a.json.seq}`);
      await waitFor('both copies at the stage', () => rcv.state.counts.get(a.json.uuid) === 2, { timeoutMs: 20_000 });
      const copies = rcv.state.messages.filter((m) => m.uuid === a.json.uuid);
      assert.deepEqual(copies.map((m) => [m.seq, m.payload]), [[a.json.seq, { try: 1 }], [b.json.seq, { try: 2 }]],
        'the stage did not get the first body first');
    });

    test('another key, or the same key for another producer or key, gives another uuid', async () => {
      const u = async (path, key) => (await post(d.url, path, '{}', { 'idempotency-key': key })).json.uuid;
      const base = await u('/rx/idem/k/l', 'K1');
      assert.equal(await u('/rx/idem/k/l', 'K1'), base);
      assert.notEqual(await u('/rx/idem/k/l', 'K2'), base);
      assert.notEqual(await u('/rx/idem2/k/l', 'K1'), base);
      assert.notEqual(await u('/rx/idem/k2/l', 'K1'), base);
      // No key: a fresh v4 every time.
      const x = await post(d.url, '/rx/idem/k/l', '{}');
      const y = await post(d.url, '/rx/idem/k/l', '{}');
      assert.match(x.json.uuid, UUID_V4);
      assert.notEqual(x.json.uuid, y.json.uuid);
    });

    test('an /rxb retry with the same key gives every line the same uuid again', async () => {
      const body = '{"l":1}\n{"l":2}\n{"l":3}\n';
      const h = { 'idempotency-key': 'batch-77' };
      const a = await post(d.url, '/rxb/idemb/k/l', body, h);
      const b = await post(d.url, '/rxb/idemb/k/l', body, h);
      assert.equal(a.status, 200);
      assert.equal(a.json.uuid, b.json.uuid);
      await waitFor('both batches', () => rcv.state.messages.filter((m) => m.producer === 'idemb').length >= 6, { timeoutMs: 20_000 });
      const got = rcv.state.messages.filter((m) => m.producer === 'idemb').sort((x, y) => (x.seq < y.seq ? -1 : 1));
      const first = got.slice(0, 3).map((m) => m.uuid);
      const second = got.slice(3).map((m) => m.uuid);
      assert.deepEqual(second, first);
      assert.equal(new Set(first).size, 3, 'lines of one batch share a uuid');
      for (const u of first) assert.match(u, UUID_V5);
    });
  });

  describe('/rxa and /rxs', () => {
    test('/rxa acks on receipt ({"status":"OK"}) and the message is forwarded', async () => {
      const marker = `rxa-${Date.now()}`;
      const r = await post(d.url, '/rxa/async/k/l', JSON.stringify({ marker }));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, 'OK');
      await waitFor('the /rxa message', () => rcv.state.messages.some((m) => m.payload.marker === marker), { timeoutMs: 20_000 });
      const m = rcv.state.messages.find((x) => x.payload.marker === marker);
      assert.equal(m.producer, 'async');
      assert.equal(m.label, '/l');
    });

    test('/rxs acks after the durable write, with uuid and seq', async () => {
      const r = await post(d.url, '/rxs/sync/k/l/x', '{"rxs":true}');
      assert.equal(r.status, 200);
      assert.match(r.json.uuid, UUID_V4);
      assert.match(r.json.seq, /^\d{19}$/);
      assert.equal(await waitDelivered(rcv, [r.json.uuid], 20_000), 0);
      assert.equal(delivered(rcv, r.json.uuid).label, '/l/x');
    });
  });

  describe('CORS', () => {
    test('OPTIONS preflight on every POST route → 204 with Access-Control-Allow-*', async () => {
      const before = await received();
      for (const mode of ['rx', 'rxs', 'rxa', 'rxb']) {
        const r = await fetch(`${d.url}/${mode}/p/k/l`, {
          method: 'OPTIONS',
          headers: {
            Origin: 'https://shop.example',
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type, idempotency-key, content-encoding',
          },
        });
        const text = await r.text();
        assert.equal(r.status, 204, `/${mode}: ${r.status} ${text}`);
        assert.equal(text, '');
        const origin = r.headers.get('access-control-allow-origin');
        assert.ok(origin === '*' || origin === 'https://shop.example', `/${mode} Allow-Origin ${origin}`);
        assert.match(r.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
        const allowed = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase();
        for (const h of ['content-type', 'idempotency-key', 'content-encoding']) assert.ok(allowed.includes(h), `/${mode} does not allow ${h}`);
      }
      await storedOnlyTheProbe(before, 'a preflight');
    });

    test('POST answers, OK or FAIL, carry Access-Control-Allow-Origin', async () => {
      const ok = await post(d.url, '/rx/cors/k/l', '{}', { Origin: 'https://shop.example' });
      assert.equal(ok.status, 200);
      assert.ok(ok.headers.get('access-control-allow-origin'));
      const bad = await post(d.url, '/rx/cors/k/l', '{x', { Origin: 'https://shop.example' });
      assert.equal(bad.status, 400);
      assert.ok(bad.headers.get('access-control-allow-origin'));
    });
  });

  describe('operations: /metrics, /healthz, /readyz, /stats', () => {
    test('/healthz and /readyz answer 200 {"status":"OK"}', async () => {
      for (const path of ['/healthz', '/readyz']) {
        const r = await getJson(d.url, path);
        assert.equal(r.status, 200, path);
        assert.equal(r.json.status, 'OK');
      }
    });

    test('shard files are <path>/<name>-NN.mdb', () => {
      for (let i = 0; i < 3; i++) assert.ok(existsSync(join(dir, `${NAME}-0${i}.mdb`)), `${NAME}-0${i}.mdb missing`);
      assert.ok(!existsSync(join(dir, 'rxtx-00.mdb')));
    });

    test('/metrics: Prometheus text under the --name prefix, counting what happened', async () => {
      await waitEmpty(d.url, 20_000);
      const m0 = await metrics(d.url, NAME + '_');
      assert.match(m0.text, /^# (HELP|TYPE) /m);
      assert.ok(!/^rxtx_/m.test(m0.text), 'metrics still use the rxtx_ prefix under --name');
      for (const name of ['total_messages_received', 'messages_in_queue', 'tx_messages', 'tx_batches', 'tx_fails', 'dropped_messages']) {
        assert.ok(m0.values.has(`${NAME}_${name}`), `${NAME}_${name} missing from /metrics`);
      }
      const rec0 = m0.values.get(`${NAME}_total_messages_received`);
      const tx0 = m0.values.get(`${NAME}_tx_messages`);
      const { acked } = await postMany(d.url, { total: 200, connections: 8, path: (i) => `/rx/metric/k${i % 3}/l` });
      assert.equal(acked.size, 200);
      assert.equal(await waitDelivered(rcv, [...acked.keys()], 20_000), 0);
      await waitQuiet(d.url, rcv, { timeoutMs: 20_000 });
      const m1 = await metrics(d.url, NAME + '_');
      assert.equal(m1.values.get(`${NAME}_total_messages_received`) - rec0, 200);
      assert.equal(m1.values.get(`${NAME}_tx_messages`) - tx0, 200);
      assert.equal(m1.values.get(`${NAME}_messages_in_queue`), 0);
      const r = await fetch(d.url + '/metrics');
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      await r.text();
    });

    test('/stats: JSON figures that agree with /metrics', async () => {
      const s = await getJson(d.url, '/stats');
      assert.equal(s.status, 200);
      assert.equal(s.json.role, 'edge');
      assert.equal(s.json.name, NAME);
      assert.equal(s.json.ready, true);
      for (const f of ['received', 'inQueue', 'maxq', 'txMessages', 'txBatches', 'txFails', 'dropped']) {
        assert.equal(typeof s.json.edge[f], 'number', `stats.edge.${f}`);
      }
      const m = await metrics(d.url, NAME + '_');
      assert.equal(s.json.edge.received, m.values.get(`${NAME}_total_messages_received`));
      assert.deepEqual(rcv.state.errors, []);
    });
  });
});

describe('--maxq back-pressure (refuse)', () => {
  test('past --maxq: 503 + Retry-After + store full; /readyz 503; recovers as the store drains', async (t) => {
    const rcv = await startReceiver({ mode: 'fail' });
    const dir = tempDir('spillway-maxq-');
    const d = await startDaemon('edge', ['--path', dir, '--ingest', rcv.url, ...FAST, '--maxq', '40']);
    t.after(async () => {
      await d.stop();
      await rcv.close();
      removeDir(dir);
    });
    const acked = new Set();
    for (let i = 0; i < 40; i++) {
      const r = await post(d.url, `/rx/full/k${i % 4}/l`, JSON.stringify({ i }));
      assert.equal(r.status, 200, `message ${i}: ${r.text}`);
      acked.add(r.json.uuid);
    }
    for (const path of ['/rx/full/k/l', '/rxs/full/k/l', '/rxa/full/k/l', '/rxb/full/k/l']) {
      const r = await post(d.url, path, '{"one":"too many"}');
      assert.equal(r.status, 503, `${path}: ${r.status} ${r.text}`);
      assert.ok(Number(r.headers.get('retry-after')) >= 1, `${path}: Retry-After ${r.headers.get('retry-after')}`);
      assert.equal(r.json.status, 'FAIL');
      assert.match(r.json.message, /^store full/);
    }
    const rz = await getJson(d.url, '/readyz');
    assert.equal(rz.status, 503);
    assert.equal(rz.json.status, 'FAIL');
    assert.match(rz.json.message, /full/);
    const s = await stats(d.url);
    assert.equal(s.ready, false);
    assert.equal(s.edge.inQueue, 40);
    const m = await metrics(d.url, 'rxtx_refused_requests');
    assert.ok([...m.values].some(([k, v]) => k.includes('full') && v >= 4), `refused metric: ${[...m.values]}`);
    // /healthz stays 200: the process is alive, only not ready.
    assert.equal((await getJson(d.url, '/healthz')).status, 200);

    rcv.setMode('ok');
    await waitFor('/readyz to recover', async () => (await fetch(d.url + '/readyz')).status === 200, { timeoutMs: 20_000 });
    const r = await post(d.url, '/rx/full/k/l', '{"after":"drain"}');
    assert.equal(r.status, 200);
    acked.add(r.json.uuid);
    assert.equal(await waitDelivered(rcv, [...acked], 20_000), 0);
    await waitQuiet(d.url, rcv, { timeoutMs: 20_000 });
    const sum = deliverySummary(rcv, [...acked]);
    assert.deepEqual([sum.missing, sum.duplicated, sum.extra], [[], [], []], 'refused messages leaked or acked ones doubled');
  });

  test('concurrent POSTs: exactly --maxq acknowledged, every other one 503 + Retry-After, only those delivered', async (t) => {
    const MAXQ = 50;
    const rcv = await startReceiver({ mode: 'fail' });
    const dir = tempDir('spillway-maxq-');
    const d = await startDaemon('edge', ['--path', dir, '--ingest', rcv.url, ...FAST, '--maxq', String(MAXQ)]);
    const agent = new Agent({ connections: 64, pipelining: 1 });
    t.after(async () => {
      await agent.close();
      await d.stop();
      await rcv.close();
      removeDir(dir);
    });
    // 400 POSTs at once over 64 connections; every answer kept with its headers.
    const answers = await Promise.all(Array.from({ length: 400 }, async (_, i) => {
      const r = await request(`${d.url}/rx/maxq/k${i % 8}/l`, { method: 'POST', body: JSON.stringify({ i }), dispatcher: agent });
      const text = await r.body.text();
      return { i, status: r.statusCode, retryAfter: r.headers['retry-after'], text };
    }));
    const byStatus = new Map();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    assert.deepEqual([...byStatus].sort(), [[200, MAXQ], [503, 400 - MAXQ]], `answers by status with --maxq ${MAXQ}`);
    const acked = new Set();
    for (const a of answers) {
      if (a.status === 200) {
        acked.add(JSON.parse(a.text).uuid);
        continue;
      }
      assert.ok(Number(a.retryAfter) >= 1, `503 without a Retry-After: ${JSON.stringify(a.retryAfter)}`);
      const j = JSON.parse(a.text);
      assert.equal(j.status, 'FAIL');
      assert.match(j.message, /^store full/);
    }
    assert.equal(acked.size, MAXQ, 'acknowledged uuids are not distinct');
    const s = (await stats(d.url)).edge;
    assert.equal(s.inQueue, MAXQ, `${s.inQueue} messages held with --maxq ${MAXQ}`);
    assert.equal(s.received, MAXQ, `${s.received} messages stored, ${MAXQ} acknowledged`);
    rcv.setMode('ok');
    assert.equal(await waitDelivered(rcv, [...acked], 20_000), 0);
    await waitQuiet(d.url, rcv, { timeoutMs: 20_000 });
    const sum = deliverySummary(rcv, [...acked]);
    assert.deepEqual([sum.missing, sum.duplicated, sum.extra], [[], [], []], 'refused messages delivered, or acked ones lost or doubled');
  });
});

describe('--overflow drop-oldest', () => {
  test('keeps accepting, drops the oldest, counts them in a metric', async (t) => {
    // A long --interval keeps the partial batch on disk while the 30 messages go in.
    const rcv = await startReceiver();
    const dir = tempDir('spillway-drop-');
    const d = await startDaemon('edge', [
      '--path', dir, '--ingest', rcv.url, '--retry-max', '0.5', '--log-level', 'error',
      '--interval', '4', '--batch', '1000', '--maxq', '20', '--overflow', 'drop-oldest', '--shards', '1',
    ]);
    t.after(async () => {
      await d.stop();
      await rcv.close();
      removeDir(dir);
    });
    const uuids = [];
    for (let i = 0; i < 30; i++) {
      const r = await post(d.url, '/rx/drop/k/l', JSON.stringify({ i }));
      assert.equal(r.status, 200, `message ${i} refused under drop-oldest: ${r.text}`);
      uuids.push(r.json.uuid);
    }
    const s = (await stats(d.url)).edge;
    assert.equal(s.dropped, 10);
    assert.equal(s.inQueue, 20);
    assert.equal((await fetch(d.url + '/readyz')).status, 200, 'drop-oldest should stay ready');
    const m = await metrics(d.url, 'rxtx_dropped_messages');
    assert.equal(m.values.get('rxtx_dropped_messages'), 10);

    assert.equal(await waitDelivered(rcv, uuids.slice(10), 20_000), 0, 'the newest 20 did not all arrive');
    await waitQuiet(d.url, rcv, { timeoutMs: 20_000 });
    const got = rcv.state.messages.map((msg) => msg.payload.i).sort((a, b) => a - b);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i + 10), 'not exactly the newest 20 delivered');
  });

  test('messages dropped while in a batch being retried are not also delivered', async (t) => {
    const rcv = await startReceiver({ mode: 'fail' });
    const dir = tempDir('spillway-drop-');
    const d = await startDaemon('edge', [
      '--path', dir, '--ingest', rcv.url, ...FAST, '--maxq', '20', '--overflow', 'drop-oldest', '--shards', '1',
    ]);
    t.after(async () => {
      await d.stop();
      await rcv.close();
      removeDir(dir);
    });
    const uuids = [];
    const postOne = async (i) => {
      const r = await post(d.url, '/rx/drop/k/l', JSON.stringify({ i }));
      assert.equal(r.status, 200);
      uuids.push(r.json.uuid);
    };
    for (let i = 0; i < 10; i++) await postOne(i);
    // Those 10 now sit in a batch the forwarder keeps retrying.
    await waitFor('a failed delivery', async () => (await stats(d.url)).edge.txFails >= 1, { timeoutMs: 10_000 });
    for (let i = 10; i < 30; i++) await postOne(i);
    const s = (await stats(d.url)).edge;
    assert.equal(s.dropped, 10);
    assert.equal(s.inQueue, 20);
    rcv.setMode('ok');
    assert.equal(await waitDelivered(rcv, uuids.slice(10), 20_000), 0);
    const after = await waitQuiet(d.url, rcv, { timeoutMs: 20_000 });
    const got = [...rcv.state.counts.keys()];
    // Each acknowledged message is either delivered or counted as dropped, never both.
    assert.equal(got.length + after.dropped, 30, `${got.length} delivered + ${after.dropped} counted as dropped, of 30`);
    assert.equal(after.txMessages, 30 - after.dropped, `tx_messages ${after.txMessages} but ${after.dropped} were dropped`);
    const droppedButDelivered = uuids.slice(0, 10).filter((u) => rcv.state.counts.has(u)).length;
    assert.equal(droppedButDelivered, 0, `${droppedButDelivered} messages counted as dropped were delivered`);
  });
});
