// k6/spike.js — a sudden burst: baseline → SPIKE_FACTOR× baseline → baseline.
//
// One `ramping-arrival-rate` scenario POSTs single ~300 B events to
// /rx/<PRODUCER>/till-<n>/<LABEL> in five phases:
//
//   baseline  BASE_RATE/s               for 20% of DURATION
//   ramp-up   to BASE_RATE×SPIKE_FACTOR within  5%
//   spike     BASE_RATE×SPIKE_FACTOR/s  for 25%
//   ramp-down back to BASE_RATE within  5%
//   recovery  BASE_RATE/s               for 45%
//
// Each request is tagged with its phase, so thresholds can ask two questions:
// does the edge absorb the burst without errors, and does latency come back to
// normal once it is over (a backlog that keeps hurting after the spike fails
// the `recovery` threshold).
//
//   npm run k6 -- k6/spike.js
//   BASE_RATE=1000 SPIKE_FACTOR=10 DURATION=10m npm run k6 -- k6/spike.js
//
// Environment (all optional):
//   SPILLWAY_URL    target edge                              http://127.0.0.1:8080
//   BASE_RATE       baseline requests per second (RATE is accepted too)   200
//   SPIKE_FACTOR    spike rate = BASE_RATE × SPIKE_FACTOR    10
//   DURATION        whole test, split as above               2m
//   P99_MS          threshold: p(99), baseline and recovery  50
//   SPIKE_P99_MS    threshold: p(99) during ramp-up and spike 250
//   MAX_ERROR_RATE  threshold: http_req_failed rate, whole run            0.01
//   MAX_DROPPED     threshold: dropped arrivals, as a fraction of all planned  0.01
//   ROUTE, FLEET, PRODUCER, LABEL, VUS, MAX_VUS, TIMEOUT     as in ingest.js
//                   (VUs are sized for the spike rate)
//
// Thresholds (the run exits non-zero when one fails):
//   http_req_failed                       rate < MAX_ERROR_RATE (503 = store full counts)
//   http_req_duration{phase:baseline}     p(99) < P99_MS
//   http_req_duration{phase:spike}        p(99) < SPIKE_P99_MS (includes ramp-up)
//   http_req_duration{phase:recovery}     p(99) < P99_MS (includes ramp-down)
//   checks                                rate > 0.99
//   dropped_iterations                    count < MAX_DROPPED × planned arrivals (the
//                                         spike was really offered: k6 had VUs free)

import http from 'k6/http';
import exec from 'k6/execution';
import { BASE_URL, JSON_HEADERS, checkOk, envDuration, envInt, envNum, envStr, ms, posEvent, probe, rxPath, vuBudget } from './lib/common.js';

const BASE_RATE = envInt('BASE_RATE', envInt('RATE', 200));
const SPIKE_FACTOR = envNum('SPIKE_FACTOR', 10);
const DURATION = envDuration('DURATION', '2m');
const ROUTE = envStr('ROUTE', 'rx');
const P99_MS = envNum('P99_MS', 50);
const SPIKE_P99_MS = envNum('SPIKE_P99_MS', 250);
const MAX_ERROR_RATE = envNum('MAX_ERROR_RATE', 0.01);
const MAX_DROPPED = envNum('MAX_DROPPED', 0.01);
const TIMEOUT = envStr('TIMEOUT', '10s');

if (!['rx', 'rxs', 'rxa'].includes(ROUTE)) throw new Error(`ROUTE=${ROUTE}: use rx, rxs or rxa`);
if (SPIKE_FACTOR < 1) throw new Error('SPIKE_FACTOR must be >= 1');

const PEAK = Math.round(BASE_RATE * SPIKE_FACTOR);
const P = { baseline: 0.2, up: 0.05, spike: 0.25, down: 0.05, recovery: 0.45 };
// Arrivals the five stages plan for (ramps are linear).
const PLANNED = (DURATION / 1000) * (BASE_RATE * (P.baseline + P.recovery) + PEAK * P.spike + ((BASE_RATE + PEAK) / 2) * (P.up + P.down));
const T = {};
{
  let acc = 0;
  for (const k of Object.keys(P)) {
    acc += P[k] * DURATION;
    T[k] = acc; // end of the phase, ms since the scenario started
  }
}

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: BASE_RATE,
      timeUnit: '1s',
      stages: [
        { target: BASE_RATE, duration: ms(P.baseline * DURATION) },
        { target: PEAK, duration: ms(P.up * DURATION) },
        { target: PEAK, duration: ms(P.spike * DURATION) },
        { target: BASE_RATE, duration: ms(P.down * DURATION) },
        { target: BASE_RATE, duration: ms(P.recovery * DURATION) },
      ],
      ...vuBudget(PEAK),
      gracefulStop: '10s',
    },
  },
  thresholds: {
    'http_req_failed{scenario:spike}': [`rate<${MAX_ERROR_RATE}`],
    'http_req_duration{phase:baseline}': [`p(99)<${P99_MS}`],
    'http_req_duration{phase:spike}': [`p(99)<${SPIKE_P99_MS}`],
    'http_req_duration{phase:recovery}': [`p(99)<${P99_MS}`],
    'http_reqs{phase:baseline}': ['count>0'],
    'http_reqs{phase:spike}': ['count>0'],
    'http_reqs{phase:recovery}': ['count>0'],
    'checks{scenario:spike}': ['rate>0.99'],
    dropped_iterations: [`count<${Math.max(1, Math.ceil(MAX_DROPPED * PLANNED))}`],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'max'],
  tags: { target: BASE_URL },
};

export function setup() {
  return probe(http);
}

function phase() {
  const t = Date.now() - exec.scenario.startTime;
  if (t < T.baseline) return 'baseline';
  if (t < T.spike) return 'spike'; // ramp-up and the spike itself
  return 'recovery'; // ramp-down and back at baseline
}

let n = 0;
const name = `POST /${ROUTE}/{producer}/{key}/{label}`;

export default function () {
  const till = (__VU * 7919 + n++) % 1000003;
  const res = http.post(`${BASE_URL}${rxPath(ROUTE, till)}`, posEvent(), {
    headers: JSON_HEADERS,
    timeout: TIMEOUT,
    tags: { name, phase: phase() },
  });
  checkOk(res);
}
