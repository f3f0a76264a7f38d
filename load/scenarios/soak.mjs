// soak: hours at a moderate rate, watching that the edge keeps up (k6/soak.js).
//
// Two timetables run side by side for DURATION:
//
//   ingest  RATE single ~300 B events per second, checked for 200 {"status":"OK"}.
//   stats   GET /stats every STATS_EVERY, from STATS_WARMUP on; records the
//           edge's backlog: edge.inQueue (messages held locally),
//           edge.oldestAgeSeconds (age of the oldest undelivered message)
//           and edge.writesPending.
//
// When forwarding keeps up, the oldest held message is never older than a
// batch interval or two plus the stage's round trip. When it does not (a slow
// or absent stage, a shard that stopped draining) the oldest age grows with
// wall-clock time and crosses LAG_P95_S; a sample above LAG_ABORT_S aborts
// the run at once instead of waiting out the remaining hours.
import { stage } from '../lib/arrivals.mjs';
import { ackProblem, concurrencySettings, pathPattern, pathSettings, requestLimits, requestThresholds, singleEventRequest } from '../lib/posting.mjs';
import { SettingsError, concurrencyFrom, formatDuration } from '../lib/settings.mjs';
import { threshold } from '../lib/summary.mjs';

export const about = 'RATE/s for DURATION plus GET /stats every STATS_EVERY: the local backlog stays flat';

export const variables = [
  ['RATE', 'requests per second', '200'],
  ['DURATION', 'how long to send', '1h'],
  ['ROUTE', 'rx, rxs or rxa', 'rx'],
  ['STATS_EVERY', '/stats sampling interval', '10s'],
  ['STATS_WARMUP', 'delay before the first /stats sample', 'min(60s, DURATION/10)'],
  ['LAG_P95_S', 'threshold: p95 of edge.oldestAgeSeconds', '30'],
  ['LAG_ABORT_S', 'abort when any sample of edge.oldestAgeSeconds is above this', '300'],
  ['MAX_IN_QUEUE', 'threshold: p95 of edge.inQueue', 'RATE × LAG_P95_S'],
  ['P99_MS', 'threshold: p99 latency, ms', '100'],
  ['MAX_ERROR_RATE', 'threshold: share of failed requests', '0.01'],
  ['MAX_DROPPED', 'threshold: share of arrivals dropped (not in k6/soak.js)', '0.01'],
  ['TIMEOUT', 'per-request timeout', '10s'],
];

export function describe(settings, { runTag }) {
  const rate = settings.num('RATE', 200, { above: 0 });
  const durationMs = settings.duration('DURATION', '1h');
  const everyMs = settings.duration('STATS_EVERY', '10s');
  const warmupMs = settings.duration('STATS_WARMUP', `${Math.min(60_000, durationMs / 10)}ms`, { positive: false });
  const lagP95S = settings.num('LAG_P95_S', 30, { above: 0 });
  const lagAbortS = settings.num('LAG_ABORT_S', 300, { above: 0 });
  const maxInQueue = settings.num('MAX_IN_QUEUE', rate * lagP95S, { above: 0 });
  const p99Ms = settings.num('P99_MS', 100, { above: 0 });
  const paths = pathSettings(settings);
  const limits = requestLimits(settings);
  const concurrency = concurrencyFrom(settings, rate);
  if (warmupMs >= durationMs) {
    throw new SettingsError(`STATS_WARMUP=${formatDuration(warmupMs)} must be shorter than DURATION=${formatDuration(durationMs)}`);
  }

  return {
    description: `${pathPattern(paths)}, ${rate}/s for ${formatDuration(durationMs)}; GET /stats every ${formatDuration(everyMs)} after ${formatDuration(warmupMs)}`,
    stages: [stage(durationMs, rate)],
    request: singleEventRequest(paths, runTag),
    check: (status, json) => ackProblem(status, json),
    timeoutMs: limits.timeoutMs,
    concurrency,
    stats: {
      // Polls on their own timetable: none during the warm-up, then one per STATS_EVERY.
      stages: [stage(warmupMs, 0, 0, 'warmup'), stage(durationMs - warmupMs, 1000 / everyMs)],
      /** Why to abort at once, or undefined: a backlog this old will not come back within the run. */
      abortReason(edge) {
        const age = Number(edge.oldestAgeSeconds) || 0;
        return age > lagAbortS ? `edge.oldestAgeSeconds ${age} > LAG_ABORT_S ${lagAbortS}` : undefined;
      },
    },
    thresholds: [
      ...requestThresholds({ p99Ms, ...limits }),
      threshold('/stats answered with an edge section', 'stats.okShare', '>', 0.99, { unit: 'share' }),
      threshold('oldest held message p95', 'stats.oldestAgeSeconds.p95', '<', lagP95S, { unit: 's' }),
      threshold('oldest held message max', 'stats.oldestAgeSeconds.max', '<', lagAbortS, { unit: 's', abortOnFail: true }),
      threshold('messages held (inQueue) p95', 'stats.inQueue.p95', '<', maxInQueue),
    ],
    settings: {
      RATE: rate, DURATION: formatDuration(durationMs), ROUTE: paths.route, STATS_EVERY: formatDuration(everyMs),
      STATS_WARMUP: formatDuration(warmupMs), LAG_P95_S: lagP95S, LAG_ABORT_S: lagAbortS, MAX_IN_QUEUE: maxInQueue,
      P99_MS: p99Ms, MAX_ERROR_RATE: limits.maxErrorRate, MAX_DROPPED: limits.maxDropped,
      TIMEOUT: formatDuration(limits.timeoutMs), FLEET: paths.fleet, PRODUCER: paths.producer, LABEL: paths.label,
      ...concurrencySettings(concurrency),
    },
  };
}
