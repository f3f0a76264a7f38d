// spike: a sudden burst, baseline → SPIKE_FACTOR× baseline → baseline (k6/spike.js).
//
// Single ~300 B events, in five stages with the k6 script's timing:
//
//   baseline   BASE_RATE/s                        20% of DURATION
//   ramp-up    BASE_RATE → BASE_RATE×SPIKE_FACTOR  5%
//   spike      BASE_RATE×SPIKE_FACTOR/s           25%
//   ramp-down  back to BASE_RATE                   5%
//   recovery   BASE_RATE/s                        45%
//
// Requests are reported under three phases: baseline, spike (ramp-up and
// peak) and recovery (ramp-down and back at baseline). Baseline and recovery
// must meet P99_MS, the spike the looser SPIKE_P99_MS; a recovery failure
// means the burst left a lasting slowdown.
import { plannedArrivals, stage } from '../lib/arrivals.mjs';
import { ackProblem, concurrencySettings, pathPattern, pathSettings, requestLimits, singleEventRequest } from '../lib/posting.mjs';
import { concurrencyFrom, formatDuration } from '../lib/settings.mjs';
import { shareBelow, threshold } from '../lib/summary.mjs';

export const about = 'BASE_RATE → SPIKE_FACTOR× → BASE_RATE: does the edge absorb a burst, and does latency recover';

export const variables = [
  ['BASE_RATE', 'baseline requests per second (RATE is accepted too)', '200'],
  ['SPIKE_FACTOR', 'spike rate = BASE_RATE × SPIKE_FACTOR', '10'],
  ['DURATION', 'whole test, split 20/5/25/5/45%', '2m'],
  ['ROUTE', 'rx, rxs or rxa', 'rx'],
  ['P99_MS', 'threshold: p99 latency, baseline and recovery, ms', '50'],
  ['SPIKE_P99_MS', 'threshold: p99 latency during ramp-up and spike, ms', '250'],
  ['MAX_ERROR_RATE', 'threshold: share of failed requests, whole run', '0.01'],
  ['MAX_DROPPED', 'threshold: dropped arrivals, as a share of all planned', '0.01'],
  ['TIMEOUT', 'per-request timeout', '10s'],
];

/** Shares of DURATION, as in k6/spike.js. */
const SHARE = { baseline: 0.2, up: 0.05, spike: 0.25, down: 0.05, recovery: 0.45 };

export const PHASES = ['baseline', 'spike', 'recovery'];

/** The five stages; ramps belong to the spike (up) and recovery (down) phases, as k6/spike.js tags them. */
export function spikeStages(durationMs, baseRate, peakRate) {
  return [
    stage(SHARE.baseline * durationMs, baseRate, baseRate, 'baseline'),
    stage(SHARE.up * durationMs, baseRate, peakRate, 'spike'),
    stage(SHARE.spike * durationMs, peakRate, peakRate, 'spike'),
    stage(SHARE.down * durationMs, peakRate, baseRate, 'recovery'),
    stage(SHARE.recovery * durationMs, baseRate, baseRate, 'recovery'),
  ];
}

export function describe(settings, { runTag }) {
  const baseRate = settings.num('BASE_RATE', settings.num('RATE', 200, { above: 0 }), { above: 0 });
  const factor = settings.num('SPIKE_FACTOR', 10, { min: 1 });
  const durationMs = settings.duration('DURATION', '2m');
  const paths = pathSettings(settings);
  const p99Ms = settings.num('P99_MS', 50, { above: 0 });
  const spikeP99Ms = settings.num('SPIKE_P99_MS', 250, { above: 0 });
  const limits = requestLimits(settings);
  const peakRate = baseRate * factor;
  const stages = spikeStages(durationMs, baseRate, peakRate);
  const concurrency = concurrencyFrom(settings, peakRate); // sized for the peak, as k6/spike.js sizes its VUs
  const droppedBound = Math.max(1, Math.ceil(limits.maxDropped * plannedArrivals(stages)));

  return {
    description: `${pathPattern(paths)}, ${baseRate}/s → ${peakRate}/s → ${baseRate}/s over ${formatDuration(durationMs)}`,
    stages,
    phases: PHASES,
    request: singleEventRequest(paths, runTag),
    check: (status, json) => ackProblem(status, json),
    timeoutMs: limits.timeoutMs,
    concurrency,
    thresholds: [
      shareBelow('failed requests', 'requests.failedRate', limits.maxErrorRate),
      threshold('baseline latency p99', 'phases.baseline.latencyMs.p99', '<', p99Ms, { unit: 'ms' }),
      threshold('spike latency p99', 'phases.spike.latencyMs.p99', '<', spikeP99Ms, { unit: 'ms' }),
      threshold('recovery latency p99', 'phases.recovery.latencyMs.p99', '<', p99Ms, { unit: 'ms' }),
      // A phase that sent nothing would pass its latency bound vacuously.
      ...PHASES.map((p) => threshold(`${p} requests sent`, `phases.${p}.sent`, '>', 0)),
      // k6/spike.js: count < max(1, ⌈MAX_DROPPED × planned⌉), so the spike was really offered.
      threshold('dropped arrivals', 'requests.dropped', '<', droppedBound),
    ],
    settings: {
      BASE_RATE: baseRate, SPIKE_FACTOR: factor, PEAK_RATE: peakRate, DURATION: formatDuration(durationMs), ROUTE: paths.route,
      P99_MS: p99Ms, SPIKE_P99_MS: spikeP99Ms, MAX_ERROR_RATE: limits.maxErrorRate, MAX_DROPPED: limits.maxDropped,
      TIMEOUT: formatDuration(limits.timeoutMs), FLEET: paths.fleet, PRODUCER: paths.producer, LABEL: paths.label,
      ...concurrencySettings(concurrency),
    },
  };
}
