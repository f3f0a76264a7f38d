// Parsing wrk's report (a captured output of wrk 4.1 with the bench's done()
// hook): the bench's latency columns come from here. And the script's ack
// recorder, against a real server: the steady rows' ledger comes from it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidsOfAnswers } from '../../load/lib/ledger.mjs';
import { ensureWrk, parseWrk, runWrk } from '../../bench/lib/wrk.mjs';

const OUTPUT = `Running 2s test @ http://127.0.0.1:40441/rx/a/b/c
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   843.21us    2.10ms  33.42ms   95.12%
    Req/Sec    40.12k     5.01k   48.00k    80.00%
  Latency Distribution
     50%   84.00us
     75%  120.00us
     90%    4.82ms
     99%   17.22ms
  159744 requests in 2.00s, 10.74MB read
  Non-2xx or 3xx responses: 12
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:  79872.00
Transfer/sec:      5.37MB
spillway-tail-us p999=28904 max=33417
`;

test('wrk report: rate, counts, errors and latency in ms, p99.9 and max from the done() hook', () => {
  const r = parseWrk(OUTPUT);
  assert.equal(r.rps, 79872);
  assert.equal(r.requests, 159744);
  assert.equal(r.non2xx, 12);
  assert.equal(r.socketErrors, 3);
  assert.deepEqual(r.latencyMs, { p50: 0.084, p90: 4.82, p99: 17.22, p999: 28.904, max: 33.417 });
});

test('without the hook line, max comes from the thread stats and p99.9 is unknown', () => {
  const r = parseWrk(OUTPUT.replace(/spillway-tail-us.*\n/, ''));
  assert.equal(r.latencyMs.max, 33.42);
  assert.equal(r.latencyMs.p999, undefined);
});

test('the ack recorder keeps every 2xx answer of a real wrk run, and no refusal', async (t) => {
  // A small server that names each message it acknowledges, refuses every
  // fifth request, and answers Fluent Bit-style empty 201s on /empty.
  const named = new Set();
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      if (req.url === '/empty') return res.writeHead(201).end();
      if (n % 5 === 0) return res.writeHead(503).end('{"status":"FAIL"}');
      const uuid = randomUUID();
      named.add(uuid);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'OK', uuid, seq: String(n) }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  t.after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  ensureWrk();
  const base = `http://127.0.0.1:${server.address().port}`;
  const file = join(dir, 'acks.txt');
  const r = await runWrk({ url: `${base}/rx/p/k-{n}/l`, fleet: 10, body: '{}', seconds: 1, connections: 8, dir, acksFile: file });
  const acks = uuidsOfAnswers(readFileSync(file, 'utf8'));
  assert.equal(acks.unnamed, 0);
  assert.equal(acks.named.length, r.requests - r.non2xx);
  assert.ok(r.non2xx > 0);
  // Every recorded uuid was acknowledged by the server; those it answered
  // after wrk stopped reading (at most one per connection) are not recorded.
  for (const u of acks.named) assert.ok(named.has(u));
  assert.ok(named.size - acks.named.length <= 8);
  const e = await runWrk({ url: `${base}/empty`, body: '{}', seconds: 1, connections: 4, dir, acksFile: file });
  assert.equal(uuidsOfAnswers(readFileSync(file, 'utf8')).unnamed, e.requests);
});
