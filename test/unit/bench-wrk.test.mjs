// Parsing wrk's report (a captured output of wrk 4.1 with the bench's done()
// hook): the bench's latency columns come from here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrk } from '../../bench/lib/wrk.mjs';

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
