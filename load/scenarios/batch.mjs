// batch: NDJSON batches to /rxb at a constant arrival rate (k6/batch.js).
//
// RATE arrivals per second, each POSTing BATCH_LINES ~300 B events, one
// JSON object per line, to /rxb/<PRODUCER>/till-<n>/<LABEL>. Spillway stores
// the batch in one durable write and answers 200 {"status":"OK","count":N};
// a batch only counts as ok when N equals the lines sent, so a lost line
// fails the check. Answers: batch ack latency, and that every line is counted.
import { gzipSync } from 'node:zlib';
import { stage } from '../lib/arrivals.mjs';
import { NDJSON_HEADERS, ackProblem, concurrencySettings, pathPattern, pathSettings, requestLimits, requestThresholds } from '../lib/posting.mjs';
import { posEventNdjson, rxPath } from '../lib/payload.mjs';
import { concurrencyFrom, formatDuration } from '../lib/settings.mjs';

export const about = 'RATE NDJSON batches/s of BATCH_LINES events to /rxb: batch ack latency, every line counted';

export const variables = [
  ['RATE', 'batches per second', '20'],
  ['BATCH_LINES', 'events per batch', '100'],
  ['DURATION', 'how long to send', '1m'],
  ['P99_MS', 'threshold: p99 latency, ms', '250'],
  ['MAX_ERROR_RATE', 'threshold: share of failed batches', '0.01'],
  ['MAX_DROPPED', 'threshold: share of arrivals dropped', '0.01'],
  ['GZIP', '1: send bodies gzip-compressed (Content-Encoding: gzip)', '0'],
  ['TIMEOUT', 'per-request timeout', '30s'],
];

export function describe(settings, { runTag }) {
  const rate = settings.num('RATE', 20, { above: 0 });
  const lines = settings.int('BATCH_LINES', 100);
  const durationMs = settings.duration('DURATION', '1m');
  const paths = pathSettings(settings, { route: 'rxb' });
  const p99Ms = settings.num('P99_MS', 250, { above: 0 });
  const limits = requestLimits(settings, { timeout: '30s' });
  const gzip = settings.flag('GZIP', false);
  const concurrency = concurrencyFrom(settings, rate);
  const headers = gzip ? { ...NDJSON_HEADERS, 'content-encoding': 'gzip' } : NDJSON_HEADERS;

  return {
    description: `${pathPattern(paths)}, ${rate} batches/s of ${lines} lines${gzip ? ' (gzip)' : ''} for ${formatDuration(durationMs)}`,
    stages: [stage(durationMs, rate)],
    request(arrival) {
      const text = posEventNdjson(arrival.index, lines, { fleet: paths.fleet, runTag });
      return {
        method: 'POST',
        path: rxPath(paths, arrival.index),
        body: gzip ? gzipSync(text) : text,
        headers,
        messages: lines,
      };
    },
    check(status, json) {
      const problem = ackProblem(status, json);
      if (problem) return problem;
      if (json.count !== lines) return `check: count ${json.count} is not the ${lines} lines sent`;
      return undefined;
    },
    timeoutMs: limits.timeoutMs,
    concurrency,
    thresholds: requestThresholds({ p99Ms, ...limits }),
    countMessages: true,
    settings: {
      RATE: rate, BATCH_LINES: lines, DURATION: formatDuration(durationMs), P99_MS: p99Ms,
      MAX_ERROR_RATE: limits.maxErrorRate, MAX_DROPPED: limits.maxDropped, GZIP: gzip ? 1 : 0,
      TIMEOUT: formatDuration(limits.timeoutMs), FLEET: paths.fleet, PRODUCER: paths.producer, LABEL: paths.label,
      ...concurrencySettings(concurrency),
    },
  };
}
