// What a run measures, collected while it runs: request outcomes per phase,
// latency histograms, why requests failed, how late the runner itself sent,
// and (soak) the edge's own backlog figures from /stats. `snapshot()` turns it
// into the plain object that goes in the results JSON and that thresholds are
// evaluated against.
import hdr from 'hdr-histogram-js';

/**
 * A latency histogram like src/metrics/latency.ts: microseconds recorded,
 * milliseconds reported, 1 µs .. 10 min at 3 significant digits, so p99.9
 * of a few-ms ack is exact to a microsecond and a 10 s timeout still fits.
 */
export function latencyHistogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

export function recordMs(histogram, ms) {
  histogram.recordValue(Math.max(1, Math.min(600_000_000, Math.round(ms * 1000))));
}

/** p50/p90/p95/p99/p99.9/max/mean in ms of a histogram; all 0 when it is empty. */
export function latencyPercentiles(histogram) {
  const max = histogram.maxValue / 1000;
  // getValueAtPercentile answers with the top of the value's bucket, which
  // can be a few µs above the exact maximum; no percentile exceeds the max.
  const ms = (q) => Math.min(max, histogram.getValueAtPercentile(q) / 1000);
  const count = histogram.totalCount;
  return {
    count,
    mean: count ? histogram.mean / 1000 : 0,
    p50: ms(50),
    p90: ms(90),
    p95: ms(95),
    p99: ms(99),
    p999: ms(99.9),
    max,
  };
}

/**
 * The q-th percentile (0..100) of a few samples, interpolated between the two
 * nearest ranks as k6's Trend metrics do; undefined for no samples.
 */
export function samplePercentile(values, q) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** count/min/p50/p95/max/last of samples (the soak's /stats figures). */
export function sampleStats(values) {
  if (values.length === 0) return { count: 0 };
  return {
    count: values.length,
    min: Math.min(...values),
    p50: samplePercentile(values, 50),
    p95: samplePercentile(values, 95),
    max: Math.max(...values),
    last: values[values.length - 1],
  };
}

const share = (part, whole) => (whole > 0 ? part / whole : 0);

/**
 * The recorder for one run. `phases` lists the phase labels of the
 * scenario's stages, in order, so the summary shows them in that order and a
 * phase nobody reached still appears (with 0 requests, which its threshold
 * then catches).
 */
export function createRecorder(phases = ['main']) {
  const all = { sent: 0, ok: 0, failed: 0, latency: latencyHistogram() };
  const byPhase = new Map(phases.map((p) => [p, { sent: 0, ok: 0, failed: 0, latency: latencyHistogram() }]));
  const failures = new Map();
  const lag = latencyHistogram();
  const messages = { sent: 0, acked: 0 };
  const stats = { polls: 0, ok: 0, failed: 0, dropped: 0, inQueue: [], oldestAgeSeconds: [], writesPending: [], failures: new Map() };
  let dropped = 0;
  let peakQueued = 0;
  let startedAt;
  let endedAt;
  let abortReason;

  const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);

  return {
    start(at = Date.now()) {
      startedAt = at;
    },
    end(at = Date.now()) {
      endedAt = at;
    },
    abort(reason) {
      abortReason ??= reason; // the first reason is the cause; later ones are consequences
    },
    get abortReason() {
      return abortReason;
    },

    /** One finished request: `ok`, its duration, and why it failed (if it did). */
    request(phase, { ok, ms, reason }) {
      const p = byPhase.get(phase);
      for (const r of [all, p]) {
        if (!r) continue;
        r.sent++;
        if (ok) r.ok++;
        else r.failed++;
        recordMs(r.latency, ms);
      }
      if (!ok) bump(failures, reason ?? 'unknown');
    },
    drop() {
      dropped++;
    },
    lag(ms) {
      recordMs(lag, ms);
    },
    /** A sample of how many requests wait for a free connection in the runner. */
    queued(n) {
      peakQueued = Math.max(peakQueued, n);
    },
    messagesSent(n) {
      messages.sent += n;
    },
    messagesAcked(n) {
      messages.acked += n;
    },

    /** One /stats poll: the edge section when it answered with one, else why not. */
    statsPoll(edge, reason) {
      stats.polls++;
      if (!edge) {
        stats.failed++;
        bump(stats.failures, reason ?? 'unknown');
        return;
      }
      stats.ok++;
      stats.inQueue.push(edge.inQueue);
      stats.oldestAgeSeconds.push(Number(edge.oldestAgeSeconds) || 0);
      if (typeof edge.writesPending === 'number') stats.writesPending.push(edge.writesPending);
    },
    statsDropped() {
      stats.dropped++;
    },

    /** Running totals, for the progress line of a long run. */
    totals() {
      return { sent: all.sent, ok: all.ok, failed: all.failed, dropped, statsPolls: stats.polls };
    },

    /** Everything measured, as plain data (the results JSON's `metrics`). */
    snapshot({ withMessages = false, withStats = false } = {}) {
      const seconds = Math.max(0.001, ((endedAt ?? Date.now()) - (startedAt ?? Date.now())) / 1000);
      const arrivals = all.sent + dropped;
      const out = {
        elapsedSeconds: seconds,
        requests: {
          arrivals,
          sent: all.sent,
          ok: all.ok,
          failed: all.failed,
          dropped,
          failedRate: share(all.failed, all.sent),
          droppedShare: share(dropped, arrivals),
          perSecond: all.sent / seconds,
          okPerSecond: all.ok / seconds,
          failures: Object.fromEntries([...failures].sort((a, b) => b[1] - a[1])),
        },
        latencyMs: latencyPercentiles(all.latency),
        runner: { sendLagMs: latencyPercentiles(lag), peakQueuedForConnection: peakQueued },
      };
      if (byPhase.size > 1) {
        out.phases = Object.fromEntries(
          [...byPhase].map(([name, p]) => [name, { sent: p.sent, ok: p.ok, failed: p.failed, latencyMs: latencyPercentiles(p.latency) }]),
        );
      }
      if (withMessages) out.messages = { ...messages, perSecond: messages.acked / seconds };
      if (withStats) {
        out.stats = {
          polls: stats.polls,
          ok: stats.ok,
          failed: stats.failed,
          dropped: stats.dropped,
          okShare: share(stats.ok, stats.polls),
          failures: Object.fromEntries(stats.failures),
          inQueue: sampleStats(stats.inQueue),
          oldestAgeSeconds: sampleStats(stats.oldestAgeSeconds),
          writesPending: sampleStats(stats.writesPending),
        };
      }
      return out;
    },
  };
}
