// k6/batch.js — NDJSON batches to /rxb at a constant arrival rate.
//
// Every iteration POSTs BATCH_LINES point-of-sale events (~300 B each, one JSON
// object per line) to /rxb/<PRODUCER>/till-<n>/<LABEL>. Spillway stores the
// whole batch in one durable write and answers
// `200 {"status":"OK","count":N,...}`; the script checks that N equals the
// lines sent and adds it to the `spillway_messages_acked` counter, so the
// summary shows messages per second as well as requests per second.
//
//   npm run k6 -- k6/batch.js
//   RATE=50 BATCH_LINES=1000 DURATION=5m npm run k6 -- k6/batch.js
//
// Environment (all optional):
//   SPILLWAY_URL   target edge                              http://127.0.0.1:8080
//   RATE           batches per second                       20
//   BATCH_LINES    messages per batch                       100
//   DURATION       how long to send                         1m
//   P99_MS         threshold: p(99) of http_req_duration    250
//   MAX_ERROR_RATE threshold: http_req_failed rate          0.01
//   MAX_DROPPED    threshold: dropped arrivals, as a fraction of RATE    0.01
//   GZIP=1         send the body gzip-compressed (Content-Encoding: gzip)
//   FLEET, PRODUCER, LABEL, VUS, MAX_VUS, TIMEOUT           as in ingest.js
//
// Thresholds (the run exits non-zero when one fails):
//   http_req_failed      rate < MAX_ERROR_RATE
//   http_req_duration    p(99) < P99_MS ms (a batch is one durable write of BATCH_LINES messages)
//   checks               rate > 0.99 (200, body status OK, count == BATCH_LINES)
//   dropped_iterations   rate < MAX_DROPPED × RATE per second
//
// Custom metrics:
//   spillway_messages_sent    counter  lines POSTed
//   spillway_messages_acked   counter  sum of the `count` fields of the acks

import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { BASE_URL, NDJSON_HEADERS, checkOk, envDuration, envInt, envNum, envStr, ndjson, probe, rxPath, constantRateOptions } from './lib/common.js';

const RATE = envInt('RATE', 20);
const BATCH_LINES = envInt('BATCH_LINES', 100);
const DURATION = envDuration('DURATION', '1m');
const P99_MS = envNum('P99_MS', 250);
const MAX_ERROR_RATE = envNum('MAX_ERROR_RATE', 0.01);
const MAX_DROPPED = envNum('MAX_DROPPED', 0.01);
const TIMEOUT = envStr('TIMEOUT', '30s');
const GZIP = envStr('GZIP', '0') === '1';

const sent = new Counter('spillway_messages_sent');
const acked = new Counter('spillway_messages_acked');

export const options = constantRateOptions('batch', {
  rate: RATE, duration: DURATION, p99Ms: P99_MS, maxErrorRate: MAX_ERROR_RATE, maxDropped: MAX_DROPPED, gracefulStop: '30s',
});

export function setup() {
  return probe(http);
}

let n = 0;
const params = {
  headers: NDJSON_HEADERS,
  timeout: TIMEOUT,
  tags: { name: 'POST /rxb/{producer}/{key}/{label}' },
  ...(GZIP ? { compression: 'gzip' } : {}),
};

export default function () {
  const till = (__VU * 7919 + n++) % 1000003;
  const res = http.post(`${BASE_URL}${rxPath('rxb', till)}`, ndjson(BATCH_LINES), params);
  sent.add(BATCH_LINES);
  const body = checkOk(res, {
    'count equals lines sent': (b) => b !== undefined && b.count === BATCH_LINES,
  });
  if (res.status === 200 && body && typeof body.count === 'number') acked.add(body.count);
}
