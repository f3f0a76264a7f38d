// Unit tests for src/metrics/latency.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Latency, QUANTILES } from '../../dist/metrics/latency.js';

const near = (actual, expected, rel, what) =>
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * rel, `${what}: ${actual} ≉ ${expected}`);

describe('Latency', () => {
  test('an empty histogram reports zero', () => {
    const s = new Latency().snapshot();
    assert.equal(s.count, 0);
    for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) assert.equal(s[k], 0, k);
  });

  test('percentiles of 1..1000 ms', () => {
    const l = new Latency();
    for (let ms = 1; ms <= 1000; ms++) l.recordMs(ms);
    const s = l.snapshot();
    assert.equal(s.count, 1000);
    near(s.p50, 500, 0.01, 'p50');
    near(s.p90, 900, 0.01, 'p90');
    near(s.p99, 990, 0.01, 'p99');
    near(s.p999, 999, 0.01, 'p999');
    near(s.max, 1000, 0.001, 'max');
  });

  test('percentiles are ordered p50 ≤ p90 ≤ p99 ≤ p999 ≤ max', () => {
    const l = new Latency();
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 10_000; i++) l.recordMs(rand() ** 3 * 5000);
    const s = l.snapshot();
    assert.ok(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max, JSON.stringify(s));
    assert.ok(s.max <= 5000 * 1.001);
  });

  test('reported in milliseconds with microsecond resolution', () => {
    const l = new Latency();
    l.recordMs(0.25);
    const s = l.snapshot();
    assert.equal(s.count, 1);
    near(s.max, 0.25, 0.01, 'max');
    near(s.p50, 0.25, 0.01, 'p50');
  });

  test('values are clamped to [1 µs, 10 min], never thrown on', () => {
    const l = new Latency();
    l.recordMs(0);
    l.recordMs(-5);
    l.recordMs(1e12);
    const s = l.snapshot();
    assert.equal(s.count, 3);
    near(s.max, 600_000, 0.001, 'max clamped to 10 minutes');
    near(s.p50, 0.001, 0.01, 'tiny values count as 1 µs');
  });

  test('a single slow request shows in max and p999 but not p50', () => {
    const l = new Latency();
    for (let i = 0; i < 999; i++) l.recordMs(2);
    l.recordMs(3000);
    const s = l.snapshot();
    near(s.p50, 2, 0.01, 'p50');
    near(s.p99, 2, 0.01, 'p99');
    near(s.max, 3000, 0.001, 'max');
  });

  test('start() measures elapsed time', async () => {
    const l = new Latency();
    const stop = l.start();
    await new Promise((r) => setTimeout(r, 20));
    stop();
    const s = l.snapshot();
    assert.equal(s.count, 1);
    assert.ok(s.max >= 15 && s.max < 2000, `${s.max} ms`);
  });

  test('QUANTILES names every percentile with its Prometheus quantile', () => {
    assert.deepEqual(QUANTILES.map(([k]) => k), ['p50', 'p90', 'p99', 'p999', 'max']);
    for (const [, q] of QUANTILES) assert.ok(Number(q) > 0 && Number(q) <= 1, q);
    const s = new Latency().snapshot();
    for (const [k] of QUANTILES) assert.ok(k in s, k);
  });

  describe('lastSecond', () => {
    // A clock the test moves by hand, in ms.
    const clock = (t = 1_000_000) => { const c = () => t; c.set = (v) => (t = v); return c; };

    test('reports the previous whole second, not the current one nor the total', () => {
      const now = clock(5_000_000);
      const l = new Latency(now);
      for (let i = 0; i < 10; i++) l.recordMs(100);
      assert.equal(l.lastSecond().count, 0, 'the second in progress is not reported');
      now.set(5_001_200);
      l.recordMs(2);
      const last = l.lastSecond();
      assert.equal(last.count, 10);
      near(last.p99, 100, 0.01, 'p99 of the last second');
      assert.equal(l.snapshot().count, 11, 'the total keeps everything');
    });

    test('a quiet gap reports an empty last second, not stale figures', () => {
      const now = clock(7_000_000);
      const l = new Latency(now);
      l.recordMs(50);
      now.set(7_003_500);
      assert.deepEqual(l.lastSecond(), { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
      assert.equal(l.snapshot().count, 1);
    });

    test('reading does not reset it: two readers see the same second', () => {
      const now = clock(9_000_000);
      const l = new Latency(now);
      l.recordMs(3);
      l.recordMs(4);
      now.set(9_001_000);
      assert.deepEqual(l.lastSecond(), l.lastSecond());
      assert.equal(l.lastSecond().count, 2);
    });
  });
});
