// ingest: steady single-message ingest at a constant arrival rate (k6/ingest.js).
//
// RATE arrivals per second for DURATION, each POSTing one ~300 B
// point-of-sale event to /<ROUTE>/<PRODUCER>/till-<n>/<LABEL> and expecting
// 200 {"status":"OK",...}. Answers: p99 ack latency and error rate at a
// steady rate.
import { stage } from '../lib/arrivals.mjs';
import { ackProblem, concurrencySettings, pathPattern, pathSettings, requestLimits, requestThresholds, singleEventRequest } from '../lib/posting.mjs';
import { concurrencyFrom, formatDuration } from '../lib/settings.mjs';

export const about = 'RATE single events/s to /rx, constant: p99 ack latency and error rate at a steady rate';

export const variables = [
  ['RATE', 'requests per second', '1000'],
  ['DURATION', 'how long to send', '1m'],
  ['ROUTE', 'rx (durable ack), rxs (same), rxa (ack on receipt)', 'rx'],
  ['P99_MS', 'threshold: p99 latency, ms', '50'],
  ['MAX_ERROR_RATE', 'threshold: share of failed requests', '0.01'],
  ['MAX_DROPPED', 'threshold: share of arrivals dropped', '0.01'],
  ['TIMEOUT', 'per-request timeout', '10s'],
];

export function describe(settings, { runTag }) {
  const rate = settings.num('RATE', 1000, { above: 0 });
  const durationMs = settings.duration('DURATION', '1m');
  const paths = pathSettings(settings);
  const p99Ms = settings.num('P99_MS', 50, { above: 0 });
  const limits = requestLimits(settings);
  const concurrency = concurrencyFrom(settings, rate);
  return {
    description: `${pathPattern(paths)}, ${rate}/s for ${formatDuration(durationMs)}`,
    stages: [stage(durationMs, rate)],
    request: singleEventRequest(paths, runTag),
    check: (status, json) => ackProblem(status, json),
    timeoutMs: limits.timeoutMs,
    concurrency,
    thresholds: requestThresholds({ p99Ms, ...limits }),
    settings: {
      RATE: rate, DURATION: formatDuration(durationMs), ROUTE: paths.route, P99_MS: p99Ms,
      MAX_ERROR_RATE: limits.maxErrorRate, MAX_DROPPED: limits.maxDropped, TIMEOUT: formatDuration(limits.timeoutMs),
      FLEET: paths.fleet, PRODUCER: paths.producer, LABEL: paths.label, ...concurrencySettings(concurrency),
    },
  };
}
