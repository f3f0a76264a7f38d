// The load runner's measurements and verdicts (load/lib/metrics.mjs,
// load/lib/summary.mjs): percentiles, threshold evaluation, the summary text
// and the results file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createRecorder, latencyHistogram, latencyPercentiles, recordMs, samplePercentile, sampleStats } from '../../load/lib/metrics.mjs';
import { evaluateThresholds, fileStamp, formatSummary, formatValue, metricAt, shareBelow, threshold, writeResults } from '../../load/lib/summary.mjs';
import { requestThresholds } from '../../load/lib/posting.mjs';

const near = (actual, expected, rel, what) =>
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * rel, `${what}: ${actual} ≉ ${expected}`);

describe('percentiles', () => {
  test('latency histogram: 1..1000 ms', () => {
    const h = latencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) recordMs(h, ms);
    const p = latencyPercentiles(h);
    assert.equal(p.count, 1000);
    near(p.p50, 500, 0.01, 'p50');
    near(p.p90, 900, 0.01, 'p90');
    near(p.p99, 990, 0.01, 'p99');
    near(p.p999, 999, 0.01, 'p99.9');
    near(p.max, 1000, 0.001, 'max');
    near(p.mean, 500.5, 0.01, 'mean');
  });

  test('sub-millisecond latencies keep their precision; an empty histogram is all 0', () => {
    const h = latencyHistogram();
    recordMs(h, 0.25);
    near(latencyPercentiles(h).max, 0.25, 0.01, 'max');
    assert.deepEqual(latencyPercentiles(latencyHistogram()), { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 });
  });

  test('no percentile is above the max (histogram buckets round up)', () => {
    const h = latencyHistogram();
    for (let i = 0; i < 999; i++) recordMs(h, 1.5);
    recordMs(h, 15.234);
    const p = latencyPercentiles(h);
    assert.equal(p.max, 15.234);
    assert.ok(p.p999 <= p.max && p.p99 <= p.p999, JSON.stringify(p));
  });

  test('sample percentiles interpolate between ranks, like k6 Trend metrics', () => {
    assert.equal(samplePercentile([], 95), undefined);
    assert.equal(samplePercentile([7], 95), 7);
    assert.equal(samplePercentile([1, 2, 3, 4, 5], 50), 3);
    assert.equal(samplePercentile([5, 1, 4, 2, 3], 95), 4.8); // rank 3.8 between 4 and 5
    assert.equal(samplePercentile([10, 20], 95), 19.5);
    assert.deepEqual(sampleStats([3, 1, 2]), { count: 3, min: 1, p50: 2, p95: 2.9, max: 3, last: 2 });
    assert.deepEqual(sampleStats([]), { count: 0 });
  });
});

describe('recorder', () => {
  test('counts, shares and per-phase figures', () => {
    const r = createRecorder(['baseline', 'spike', 'recovery']);
    r.start(0);
    for (let i = 0; i < 90; i++) r.request('baseline', { ok: true, ms: 2 });
    for (let i = 0; i < 8; i++) r.request('spike', { ok: false, ms: 100, reason: 'HTTP 503 store is full' });
    r.request('spike', { ok: false, ms: 10_000, reason: 'timeout' });
    r.request('spike', { ok: true, ms: 3 });
    for (let i = 0; i < 25; i++) r.drop();
    r.end(10_000);
    const m = r.snapshot();
    assert.equal(m.elapsedSeconds, 10);
    const q = m.requests;
    assert.deepEqual([q.arrivals, q.sent, q.ok, q.failed, q.dropped], [125, 100, 91, 9, 25]);
    assert.equal(q.failedRate, 0.09);
    assert.equal(q.droppedShare, 0.2);
    assert.equal(q.perSecond, 10);
    assert.deepEqual(q.failures, { 'HTTP 503 store is full': 8, timeout: 1 }, 'most frequent first');
    assert.equal(m.phases.baseline.sent, 90);
    assert.equal(m.phases.spike.failed, 9);
    assert.equal(m.phases.recovery.sent, 0, 'a phase nobody reached is still listed');
    near(m.phases.spike.latencyMs.max, 10_000, 0.001, 'a timeout is in the latency');
    assert.equal(m.messages, undefined);
    assert.equal(m.stats, undefined);
  });

  test('/stats samples and message counts', () => {
    const r = createRecorder();
    r.start(0);
    r.statsPoll({ inQueue: 10, oldestAgeSeconds: 1.5, writesPending: 0 });
    r.statsPoll({ inQueue: 30, oldestAgeSeconds: 2.5, writesPending: 2 });
    r.statsPoll(undefined, 'HTTP 500');
    r.messagesSent(200);
    r.messagesAcked(100);
    r.end(2000);
    const m = r.snapshot({ withMessages: true, withStats: true });
    assert.deepEqual(m.messages, { sent: 200, acked: 100, perSecond: 50 });
    assert.equal(m.stats.polls, 3);
    assert.equal(m.stats.okShare, 2 / 3);
    assert.deepEqual(m.stats.failures, { 'HTTP 500': 1 });
    assert.equal(m.stats.inQueue.max, 30);
    assert.equal(m.stats.oldestAgeSeconds.p50, 2);
    assert.equal(m.phases, undefined, 'one phase: no per-phase section');
  });

  test('the first abort reason is kept', () => {
    const r = createRecorder();
    r.abort('edge.oldestAgeSeconds 400 > LAG_ABORT_S 300');
    r.abort('interrupted (SIGINT)');
    assert.equal(r.abortReason, 'edge.oldestAgeSeconds 400 > LAG_ABORT_S 300');
  });
});

describe('thresholds', () => {
  const metrics = {
    requests: { failedRate: 0.002, droppedShare: 0, dropped: 0 },
    latencyMs: { p99: 12.5 },
    phases: { spike: { sent: 0, latencyMs: { p99: 0 } } },
    stats: { oldestAgeSeconds: { count: 0 } },
  };

  test('metricAt follows dotted paths', () => {
    assert.equal(metricAt(metrics, 'latencyMs.p99'), 12.5);
    assert.equal(metricAt(metrics, 'phases.spike.sent'), 0);
    assert.equal(metricAt(metrics, 'phases.nope.sent'), undefined);
    assert.equal(metricAt(metrics, 'latencyMs.p99.deeper'), undefined);
  });

  test('each bound is judged on the measured value', () => {
    const r = evaluateThresholds(requestThresholds({ p99Ms: 10, maxErrorRate: 0.01, maxDropped: 0.01 }), metrics);
    assert.deepEqual(r.map((t) => [t.label, t.value, t.pass]), [
      ['failed requests', 0.002, true],
      ['latency p99', 12.5, false],
      ['dropped arrivals', 0, true],
    ]);
    const loose = evaluateThresholds(requestThresholds({ p99Ms: 12.6, maxErrorRate: 0.002, maxDropped: 0.01 }), metrics);
    assert.deepEqual(loose.map((t) => t.pass), [false, true, true], '< is strict: 0.002 < 0.002 fails');
  });

  test('a bound of 0 on a share means none at all, and passes with none', () => {
    assert.equal(evaluateThresholds([shareBelow('dropped', 'requests.droppedShare', 0)], metrics)[0].pass, true);
    assert.equal(evaluateThresholds([shareBelow('failed', 'requests.failedRate', 0)], metrics)[0].pass, false);
  });

  test('a metric nothing was measured for fails', () => {
    const [t] = evaluateThresholds([threshold('lag p95', 'stats.oldestAgeSeconds.p95', '<', 30, { unit: 's' })], metrics);
    assert.equal(t.value, null);
    assert.equal(t.pass, false);
    assert.equal(evaluateThresholds([threshold('spike sent', 'phases.spike.sent', '>', 0)], metrics)[0].pass, false);
  });

  test('formatValue shows shares as percentages and units', () => {
    assert.equal(formatValue(0.004, 'share'), '0.40%');
    assert.equal(formatValue(0.00001, 'share'), '0.0010%');
    assert.equal(formatValue(0, 'share'), '0.00%');
    assert.equal(formatValue(12.5, 'ms'), '12.5 ms');
    assert.equal(formatValue(2.5, 's'), '2.5 s');
    assert.equal(formatValue(6000, ''), '6,000');
    assert.equal(formatValue(null, 'ms'), 'no data');
  });
});

describe('summary and results file', () => {
  function result(pass) {
    const r = createRecorder();
    r.start(0);
    for (let i = 0; i < 600; i++) r.request('main', { ok: true, ms: 1 + (i % 10) });
    r.end(3000);
    const metrics = r.snapshot();
    const thresholds = evaluateThresholds(requestThresholds({ p99Ms: pass ? 50 : 0.001, maxErrorRate: 0.01, maxDropped: 0.01 }), metrics);
    return {
      scenario: 'ingest', target: 'http://127.0.0.1:8080', description: 'POST /rx/pos/till-N/sale, 200/s for 3s',
      concurrency: { connections: 16, maxInflight: 160 }, plannedArrivals: 600, offeredRate: 200,
      aborted: null, pass: thresholds.every((t) => t.pass), thresholds, metrics,
    };
  }

  test('the text names counts, rate, percentiles and each threshold with its value', () => {
    const text = formatSummary(result(true));
    assert.match(text, /sent 600 {2}ok 600 {2}failed 0 {2}dropped 0/);
    assert.match(text, /200(\.0)?\/s sent/);
    assert.match(text, /p50 [\d.]+ ms {2}p90 [\d.]+ ms {2}p99 [\d.]+ ms {2}p99\.9 [\d.]+ ms {2}max [\d.]+ ms/);
    assert.match(text, /pass {2}failed requests < 1\.00% +measured 0\.00%/);
    assert.match(text, /pass {2}latency p99 < 50 ms +measured [\d.]+ ms/);
    assert.match(text, /result: PASS/);
    const failed = formatSummary(result(false));
    assert.match(failed, /FAIL {2}latency p99 < 0\.001 ms +measured [\d.]+ ms/);
    assert.match(failed, /result: FAIL \(1 threshold\(s\) failed\)/);
  });

  test('file name stamp as scripts/k6.sh writes it', () => {
    assert.equal(fileStamp(new Date('2026-11-25T14:03:09.123Z')), '2026-11-25T14-03-09Z');
  });

  test('results JSON: load-<scenario>-<stamp>.json, never overwriting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-load-unit-'));
    try {
      const when = new Date('2026-11-25T14:03:09Z');
      const first = writeResults(join(dir, 'made'), result(true), when);
      const second = writeResults(join(dir, 'made'), result(false), when);
      assert.equal(first, join(dir, 'made', 'load-ingest-2026-11-25T14-03-09Z.json'));
      assert.equal(second, join(dir, 'made', 'load-ingest-2026-11-25T14-03-09Z-2.json'));
      assert.equal(JSON.parse(readFileSync(first, 'utf8')).pass, true);
      assert.equal(JSON.parse(readFileSync(second, 'utf8')).pass, false);
      assert.equal(readdirSync(join(dir, 'made')).length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
