// k6/ingest.js — steady single-message ingest at a constant arrival rate.
//
// Every iteration POSTs one ~300 B point-of-sale event to
// /rx/<PRODUCER>/till-<n>/<LABEL> and checks for `200 {"status":"OK"}`. The
// arrival rate is fixed (open model): when the target slows down, k6 starts
// more VUs instead of sending less, and when it runs out of VUs the missed
// arrivals show up as `dropped_iterations`.
//
//   npm run k6 -- k6/ingest.js
//   SPILLWAY_URL=http://edge:8080 RATE=5000 DURATION=10m npm run k6 -- k6/ingest.js
//
// Environment (all optional):
//   SPILLWAY_URL   target edge                              http://127.0.0.1:8080
//   RATE           requests per second                      1000
//   DURATION       how long to send                         1m
//   ROUTE          rx (durable ack), rxs (same), rxa (ack on receipt)   rx
//   P99_MS         threshold: p(99) of http_req_duration    50
//   MAX_ERROR_RATE threshold: http_req_failed rate          0.01
//   MAX_DROPPED    threshold: dropped arrivals, as a fraction of RATE    0.01
//   FLEET          distinct tills (KEY segment; spreads over shards)     1000
//   PRODUCER, LABEL  path segments                          pos, sale
//   VUS, MAX_VUS   pre-allocated / most VUs                 derived from RATE
//   TIMEOUT        per-request timeout                      10s
//
// Thresholds (the run exits non-zero when one fails):
//   http_req_failed      rate < MAX_ERROR_RATE  (any non-2xx, e.g. 503 store full, counts)
//   http_req_duration    p(99) < P99_MS ms      (client-observed, includes the durable write)
//   checks               rate > 0.99            (200 and body status OK)
//   dropped_iterations   rate < MAX_DROPPED × RATE per second (the target kept up)

import http from 'k6/http';
import { BASE_URL, JSON_HEADERS, checkOk, envDuration, envInt, envNum, envStr, posEvent, probe, rxPath, constantRateOptions } from './lib/common.js';

const RATE = envInt('RATE', 1000);
const DURATION = envDuration('DURATION', '1m');
const ROUTE = envStr('ROUTE', 'rx');
const P99_MS = envNum('P99_MS', 50);
const MAX_ERROR_RATE = envNum('MAX_ERROR_RATE', 0.01);
const MAX_DROPPED = envNum('MAX_DROPPED', 0.01);
const TIMEOUT = envStr('TIMEOUT', '10s');

if (!['rx', 'rxs', 'rxa'].includes(ROUTE)) throw new Error(`ROUTE=${ROUTE}: use rx, rxs or rxa (k6/batch.js covers rxb)`);

export const options = constantRateOptions('ingest', {
  rate: RATE, duration: DURATION, p99Ms: P99_MS, maxErrorRate: MAX_ERROR_RATE, maxDropped: MAX_DROPPED, gracefulStop: '10s',
});

export function setup() {
  return probe(http);
}

let n = 0;
const params = { headers: JSON_HEADERS, timeout: TIMEOUT, tags: { name: `POST /${ROUTE}/{producer}/{key}/{label}` } };

export default function () {
  const till = (__VU * 7919 + n++) % 1000003;
  const res = http.post(`${BASE_URL}${rxPath(ROUTE, till)}`, posEvent(), params);
  checkOk(res);
}
