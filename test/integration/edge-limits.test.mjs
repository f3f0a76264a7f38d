// Edge limits and the edge's side of the stage protocol, against the real
// daemon: --max-bytes refuses at its limit (503 + Retry-After, everything
// acknowledged before it still delivered exactly once), and a stage that
// answers 503 with Retry-After is retried no sooner than it asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startDaemon, tempDir, removeDir, stats, waitFor } from '../helpers/daemon.mjs';
import { startReceiver, assertMessageBatch } from '../helpers/receiver.mjs';
import { post, getJson, waitDelivered, waitQuiet, deliverySummary } from '../helpers/edge-client.mjs';

const FAST = ['--interval', '0.2', '--retry-max', '0.5', '--log-level', 'warn'];

test('--max-bytes: 503 + Retry-After once the store pages reach it, never before; what was acked is delivered once', async (t) => {
  const MAX_BYTES = 256 * 1024;
  const rcv = await startReceiver({ mode: 'fail' });
  const dir = tempDir('spillway-maxbytes-');
  const d = await startDaemon('edge', ['--path', dir, '--ingest', rcv.url, ...FAST, '--max-bytes', String(MAX_BYTES), '--shards', '2']);
  t.after(async () => {
    await d.stop();
    await rcv.close();
    removeDir(dir);
  });
  const acked = new Set();
  const pad = 'b'.repeat(2000);
  let refusal;
  // Sequential 2 kB messages until the first refusal (the page count is
  // sampled once a second, so it comes a little past the limit).
  for (let i = 0; i < 5000 && !refusal; i++) {
    const r = await post(d.url, `/rx/bytes/k${i % 4}/l`, JSON.stringify({ i, pad }));
    if (r.status === 200) acked.add(r.json.uuid);
    else refusal = r;
  }
  assert.ok(refusal, `no refusal after ${acked.size} messages of 2 kB with --max-bytes ${MAX_BYTES}`);
  assert.equal(refusal.status, 503, refusal.text);
  assert.ok(Number(refusal.headers.get('retry-after')) >= 1, `Retry-After ${refusal.headers.get('retry-after')}`);
  assert.equal(refusal.json.status, 'FAIL');
  const m = /^store full: (\d+) bytes used \(--max-bytes (\d+)\)/.exec(refusal.json.message);
  assert.ok(m, `refusal message: ${refusal.json.message}`);
  assert.equal(Number(m[2]), MAX_BYTES);
  assert.ok(Number(m[1]) >= MAX_BYTES, `refused at ${m[1]} bytes used, under --max-bytes ${MAX_BYTES}`);
  // Every route refuses while full, and /readyz says so.
  for (const path of ['/rx/bytes/k/l', '/rxs/bytes/k/l', '/rxa/bytes/k/l', '/rxb/bytes/k/l']) {
    const r = await post(d.url, path, '{"one":"too many"}');
    assert.equal(r.status, 503, `${path}: ${r.status} ${r.text}`);
    assert.match(r.json.message, /--max-bytes/);
  }
  assert.equal((await getJson(d.url, '/readyz')).status, 503);
  const s = (await stats(d.url)).edge;
  assert.equal(s.inQueue, acked.size, 'held messages differ from the acknowledged ones');
  assert.equal(s.received, acked.size, 'a refused message was stored');
  assert.ok(s.storeBytes >= MAX_BYTES, `/stats storeBytes ${s.storeBytes}`);
  t.diagnostic(`${acked.size} messages of 2 kB acknowledged before the first refusal at ${m[1]} bytes used`);

  // The stage comes back: everything acknowledged arrives once, nothing refused
  // does, and the store takes messages again once drained.
  rcv.setMode('ok');
  assert.equal(await waitDelivered(rcv, [...acked], 30_000), 0);
  await waitFor('/readyz to recover', async () => (await fetch(d.url + '/readyz')).status === 200, { timeoutMs: 20_000 });
  const again = await post(d.url, '/rx/bytes/k/l', '{"after":"drain"}');
  assert.equal(again.status, 200, again.text);
  acked.add(again.json.uuid);
  await waitQuiet(d.url, rcv, { timeoutMs: 30_000 });
  const sum = deliverySummary(rcv, [...acked]);
  assert.deepEqual([sum.missing.length, sum.duplicated.length, sum.extra.length], [0, 0, 0], 'lost, doubled or refused-but-delivered messages');
});

/**
 * A stage that answers every attempt of a batch with 503 + Retry-After
 * `seconds` `times` times, then 200; records when each attempt of each batch
 * uuid arrived.
 */
async function startRefusingStage({ seconds, times }) {
  const attempts = new Map(); // batch uuid → [ms, ...]
  const counts = new Map(); // message uuid → times accepted
  const errors = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let batch;
      try {
        batch = JSON.parse(Buffer.concat(chunks).toString());
        assertMessageBatch(batch);
      } catch (e) {
        errors.push(e.message);
        res.writeHead(400).end('{"status":"FAIL"}');
        return;
      }
      const list = attempts.get(batch.uuid) ?? [];
      list.push(Date.now());
      attempts.set(batch.uuid, list);
      if (list.length <= times) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': String(seconds) })
          .end('{"status":"FAIL","message":"busy"}');
        return;
      }
      for (const m of batch.messages) counts.set(m.uuid, (counts.get(m.uuid) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    attempts, counts, errors,
    url: `http://127.0.0.1:${server.address().port}/in`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

test('the edge waits the stage\'s Retry-After before resending a refused batch (not its own shorter backoff)', async (t) => {
  const RETRY_AFTER = 2;
  const stage = await startRefusingStage({ seconds: RETRY_AFTER, times: 3 });
  const dir = tempDir('spillway-retry-after-');
  // --retry-max 0.5: without the header the edge would resend within half a second.
  const d = await startDaemon('edge', ['--path', dir, '--ingest', stage.url, ...FAST, '--shards', '1', '--batch', '100']);
  t.after(async () => {
    await d.stop();
    await stage.close();
    removeDir(dir);
  });
  const uuids = [];
  for (let i = 0; i < 5; i++) {
    const r = await post(d.url, '/rx/retry/k/l', JSON.stringify({ i }));
    assert.equal(r.status, 200, r.text);
    uuids.push(r.json.uuid);
  }
  await waitFor('every message accepted by the stage', () => uuids.every((u) => stage.counts.has(u)), { timeoutMs: 60_000 });
  await waitQuiet(d.url, [], { timeoutMs: 20_000 });
  assert.deepEqual(stage.errors, []);
  for (const u of uuids) assert.equal(stage.counts.get(u), 1, `message ${u} accepted ${stage.counts.get(u)} times`);
  // Every batch that was refused was resent no sooner than Retry-After, and
  // not much later either (the edge's backoff is capped at 0.5 s).
  let gaps = 0;
  for (const [batch, times] of stage.attempts) {
    assert.equal(times.length, 4, `batch ${batch}: ${times.length} attempts (3 refused, then accepted)`);
    for (let i = 1; i < times.length; i++) {
      const gap = times[i] - times[i - 1];
      gaps++;
      assert.ok(gap >= RETRY_AFTER * 1000 - 50, `batch ${batch}: attempt ${i + 1} came ${gap} ms after a 503 with Retry-After: ${RETRY_AFTER}`);
      assert.ok(gap < RETRY_AFTER * 1000 + 1500, `batch ${batch}: attempt ${i + 1} came ${gap} ms after the 503`);
    }
  }
  assert.ok(gaps >= 3, 'no retried batch seen');
});
