// k6/soak.js — hours at a moderate rate, watching that the edge keeps up.
//
// Two scenarios run side by side for DURATION:
//
//   ingest  constant-arrival-rate: RATE single ~300 B events per second to
//           /rx/<PRODUCER>/till-<n>/<LABEL>, checked for 200 {"status":"OK"}.
//   stats   GET /stats every STATS_EVERY; records the edge's backlog as custom
//           Trend metrics:
//             spillway_in_queue            edge.inQueue (messages held locally)
//             spillway_oldest_age_seconds  edge.oldestAgeSeconds (age of the
//                                          oldest message not yet delivered)
//             spillway_writes_pending      edge.writesPending
//
// When forwarding keeps up, the backlog stays flat: the oldest held message is
// never older than a batch interval or two plus the stage's round trip. When it
// does not (a slow or absent stage, a leak, a shard that stopped draining) the
// oldest age grows with wall-clock time and crosses the thresholds below, so
// the run fails. A backlog that runs away entirely aborts the run early instead
// of waiting out the remaining hours.
//
//   npm run k6 -- k6/soak.js                       # 1 h at 200/s
//   RATE=500 DURATION=8h npm run k6 -- k6/soak.js
//
// Environment (all optional):
//   SPILLWAY_URL     target edge (needs the edge role: edge or all)   http://127.0.0.1:8080
//   RATE             requests per second                              200
//   DURATION         how long to send                                 1h
//   STATS_EVERY      /stats sampling interval                         10s
//   STATS_WARMUP     delay before the first /stats sample             min(60s, DURATION/10)
//   LAG_P95_S        threshold: p(95) of spillway_oldest_age_seconds  30
//   LAG_ABORT_S      abort the run when any sample's oldest age is above this   300
//   MAX_IN_QUEUE     threshold: p(95) of spillway_in_queue            RATE × LAG_P95_S
//   P99_MS           threshold: p(99) of ingest http_req_duration     100
//   MAX_ERROR_RATE   threshold: ingest http_req_failed rate           0.01
//   ROUTE, FLEET, PRODUCER, LABEL, VUS, MAX_VUS, TIMEOUT             as in ingest.js
//
// Thresholds (the run exits non-zero when one fails):
//   http_req_failed{scenario:ingest}     rate < MAX_ERROR_RATE
//   http_req_duration{scenario:ingest}   p(99) < P99_MS
//   checks{scenario:ingest}              rate > 0.99
//   checks{scenario:stats}               rate > 0.99 (/stats answers, with an `edge` section)
//   spillway_oldest_age_seconds          p(95) < LAG_P95_S, and max < LAG_ABORT_S (aborts)
//   spillway_in_queue                    p(95) < MAX_IN_QUEUE

import http from 'k6/http';
import { check } from 'k6';
import { Trend } from 'k6/metrics';
import { BASE_URL, JSON_HEADERS, bodyJson, checkOk, envDuration, envInt, envNum, envStr, ms, posEvent, probe, rxPath, vuBudget } from './lib/common.js';

const RATE = envInt('RATE', 200);
const DURATION = envDuration('DURATION', '1h');
const STATS_EVERY = envDuration('STATS_EVERY', '10s');
const STATS_WARMUP = envDuration('STATS_WARMUP', ms(Math.min(60000, DURATION / 10)));
const LAG_P95_S = envNum('LAG_P95_S', 30);
const LAG_ABORT_S = envNum('LAG_ABORT_S', 300);
const MAX_IN_QUEUE = envNum('MAX_IN_QUEUE', RATE * LAG_P95_S);
const P99_MS = envNum('P99_MS', 100);
const MAX_ERROR_RATE = envNum('MAX_ERROR_RATE', 0.01);
const ROUTE = envStr('ROUTE', 'rx');
const TIMEOUT = envStr('TIMEOUT', '10s');

if (!['rx', 'rxs', 'rxa'].includes(ROUTE)) throw new Error(`ROUTE=${ROUTE}: use rx, rxs or rxa`);
if (STATS_WARMUP >= DURATION) throw new Error('STATS_WARMUP must be shorter than DURATION');

const inQueue = new Trend('spillway_in_queue');
const oldestAge = new Trend('spillway_oldest_age_seconds');
const writesPending = new Trend('spillway_writes_pending');

export const options = {
  scenarios: {
    ingest: {
      executor: 'constant-arrival-rate',
      exec: 'ingest',
      rate: RATE,
      timeUnit: '1s',
      duration: ms(DURATION),
      ...vuBudget(RATE),
      gracefulStop: '10s',
    },
    stats: {
      executor: 'constant-arrival-rate',
      exec: 'stats',
      rate: 1,
      timeUnit: ms(STATS_EVERY),
      startTime: ms(STATS_WARMUP),
      duration: ms(DURATION - STATS_WARMUP),
      preAllocatedVUs: 1,
      maxVUs: 2,
      gracefulStop: '10s',
    },
  },
  thresholds: {
    'http_req_failed{scenario:ingest}': [`rate<${MAX_ERROR_RATE}`],
    'http_req_duration{scenario:ingest}': [`p(99)<${P99_MS}`],
    'checks{scenario:ingest}': ['rate>0.99'],
    'checks{scenario:stats}': ['rate>0.99'],
    spillway_oldest_age_seconds: [
      `p(95)<${LAG_P95_S}`,
      { threshold: `max<${LAG_ABORT_S}`, abortOnFail: true },
    ],
    spillway_in_queue: [`p(95)<${MAX_IN_QUEUE}`],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  tags: { target: BASE_URL },
};

export function setup() {
  return probe(http);
}

let n = 0;
const ingestParams = { headers: JSON_HEADERS, timeout: TIMEOUT, tags: { name: `POST /${ROUTE}/{producer}/{key}/{label}` } };

export function ingest() {
  const till = (__VU * 7919 + n++) % 1000003;
  const res = http.post(`${BASE_URL}${rxPath(ROUTE, till)}`, posEvent(), ingestParams);
  checkOk(res);
}

const statsParams = { timeout: '10s', tags: { name: 'GET /stats' } };

export function stats() {
  const res = http.get(`${BASE_URL}/stats`, statsParams);
  const body = bodyJson(res);
  const edge = body && body.edge;
  check(res, {
    '/stats is 200': (r) => r.status === 200,
    '/stats has an edge section': () => edge !== undefined && edge !== null && typeof edge.inQueue === 'number',
  });
  if (!edge || typeof edge.inQueue !== 'number') return;
  inQueue.add(edge.inQueue);
  oldestAge.add(Number(edge.oldestAgeSeconds) || 0);
  if (typeof edge.writesPending === 'number') writesPending.add(edge.writesPending);
}
