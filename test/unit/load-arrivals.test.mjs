// The load runner's open-model timetable (load/lib/arrivals.mjs): when each
// arrival is due for constant and staged rates, and how the scheduler counts
// arrivals it cannot send.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arrivalTimetable, plannedArrivals, runTimetable, stage, totalDurationMs } from '../../load/lib/arrivals.mjs';
import { spikeStages } from '../../load/scenarios/spike.mjs';

const times = (stages) => [...arrivalTimetable(stages)];
const near = (a, b, eps = 1e-6) => Math.abs(a - b) <= eps;

describe('arrivalTimetable, constant rate', () => {
  test('200/s for 3 s: 600 arrivals, 5 ms apart, from 0 to 2995 ms', () => {
    const t = times([stage(3000, 200)]);
    assert.equal(t.length, 600);
    assert.equal(plannedArrivals([stage(3000, 200)]), 600);
    t.forEach((a, i) => {
      assert.equal(a.index, i);
      assert.ok(near(a.atMs, i * 5), `arrival ${i} at ${a.atMs}`);
      assert.equal(a.phase, 'main');
    });
  });

  test('fractional rates and durations plan the area under the rate, rounded up', () => {
    assert.deepEqual(times([stage(2000, 2.5)]).map((a) => a.atMs), [0, 400, 800, 1200, 1600]);
    assert.equal(plannedArrivals([stage(1000, 2.5)]), 3); // 2.5 arrivals → slots at 0, 400, 800 ms
    assert.equal(times([stage(1000, 2.5)]).length, 3);
    assert.equal(plannedArrivals([stage(1000, 0.1)]), 1, 'a slow rate still sends its first arrival at 0');
  });

  test('products of decimal fractions do not gain or lose an arrival', () => {
    // 0.2 × 120000 ms × 200/s is 4799.999… in floating point.
    assert.equal(plannedArrivals([stage(0.2 * 120_000, 200)]), 4800);
    assert.equal(times([stage(0.2 * 120_000, 200)]).length, 4800);
    assert.equal(times([stage(0.1 * 3000, 1000 / 3)]).length, 100);
  });
});

describe('arrivalTimetable, stages', () => {
  test('consecutive stages continue the timetable; a rate-0 stage only shifts it', () => {
    const t = times([stage(1000, 0, 0, 'quiet'), stage(1000, 4, 4, 'loud'), stage(500, 10, 10, 'louder')]);
    assert.deepEqual(t.map((a) => [a.atMs, a.phase]), [
      [1000, 'loud'], [1250, 'loud'], [1500, 'loud'], [1750, 'loud'],
      [2000, 'louder'], [2100, 'louder'], [2200, 'louder'], [2300, 'louder'], [2400, 'louder'],
    ]);
  });

  test('a linear ramp 0 → 100/s over 1 s: 50 arrivals, the k-th at √(k/50) s', () => {
    const t = times([stage(1000, 0, 100)]);
    assert.equal(t.length, 50);
    t.forEach((a, k) => assert.ok(near(a.atMs, Math.sqrt(k / 50) * 1000, 1e-6), `arrival ${k} at ${a.atMs}`));
  });

  test('a ramp down mirrors a ramp up', () => {
    const up = times([stage(1000, 10, 100)]).map((a) => a.atMs);
    const down = times([stage(1000, 100, 10)]).map((a) => a.atMs);
    assert.equal(up.length, 55);
    assert.equal(down.length, 55);
    // Gaps shrink on the way up and grow on the way down.
    assert.ok(up[1] - up[0] > up[54] - up[53]);
    assert.ok(down[1] - down[0] < down[54] - down[53]);
    for (const list of [up, down]) for (let i = 1; i < list.length; i++) assert.ok(list[i] > list[i - 1] && list[i] < 1000);
  });

  test('spike: the k6 script\'s 20/5/25/5/45% timing and its phases', () => {
    const stages = spikeStages(100_000, 100, 1000);
    assert.equal(totalDurationMs(stages), 100_000);
    assert.deepEqual(stages.map((s) => [s.durationMs, s.fromRate, s.toRate, s.phase]), [
      [20_000, 100, 100, 'baseline'],
      [5_000, 100, 1000, 'spike'],
      [25_000, 1000, 1000, 'spike'],
      [5_000, 1000, 100, 'recovery'],
      [45_000, 100, 100, 'recovery'],
    ]);
    // k6/spike.js PLANNED: 100 × (20 + 45) + 1000 × 25 + 550 × (5 + 5) = 37000
    assert.equal(plannedArrivals(stages), 37_000);
    const t = times(stages);
    assert.equal(t.length, 37_000);
    const count = (phase) => t.filter((a) => a.phase === phase).length;
    assert.equal(count('baseline'), 2000);
    assert.equal(count('spike'), 2750 + 25_000);
    assert.equal(count('recovery'), 2750 + 4500);
    // Phases by time, as k6/spike.js tags them: baseline < 20 s ≤ spike < 50 s ≤ recovery.
    for (const a of t) {
      const expected = a.atMs < 20_000 ? 'baseline' : a.atMs < 50_000 ? 'spike' : 'recovery';
      assert.equal(a.phase, expected, `arrival at ${a.atMs} ms`);
    }
    for (let i = 1; i < t.length; i++) assert.ok(t[i].atMs >= t[i - 1].atMs, 'times never go back');
  });
});

describe('runTimetable', () => {
  test('sends on schedule without waiting for answers', async () => {
    const sentAt = [];
    const t0 = performance.now();
    const r = await runTimetable(arrivalTimetable([stage(300, 100)]), {
      maxInflight: 1000,
      // Each answer takes 200 ms: a closed-model client with a few workers would fall behind.
      send: () => {
        sentAt.push(performance.now() - t0);
        return new Promise((resolve) => setTimeout(resolve, 200));
      },
    });
    assert.deepEqual(r, { planned: 30, sent: 30, dropped: 0 });
    assert.equal(sentAt.length, 30);
    assert.ok(sentAt[29] < 290 + 60, `the last arrival left at ${sentAt[29]} ms, not ~290 ms`);
    assert.ok(performance.now() - t0 >= 290 + 200 - 5, 'the run ends when the last answer is in');
  });

  test('arrivals beyond MAX_INFLIGHT are counted as dropped, not sent late or skipped silently', async () => {
    const dropped = [];
    const release = [];
    const r = await runTimetable(arrivalTimetable([stage(100, 500)]), {
      maxInflight: 5,
      send: () => new Promise((resolve) => release.push(resolve)),
      onDrop: (a) => {
        dropped.push(a.index);
        if (dropped.length === 45) release.forEach((f) => f()); // let the run end
      },
    });
    assert.deepEqual(r, { planned: 50, sent: 5, dropped: 45 });
    assert.deepEqual(dropped, Array.from({ length: 45 }, (_, i) => i + 5));
  });

  test('a slot frees when an answer comes, and later arrivals use it', async () => {
    const r = await runTimetable(arrivalTimetable([stage(200, 100)]), {
      maxInflight: 1,
      send: () => new Promise((resolve) => setTimeout(resolve, 35)), // answered before every 4th slot
    });
    assert.equal(r.planned, 20);
    assert.equal(r.sent + r.dropped, 20);
    assert.ok(r.sent >= 4 && r.sent <= 7, `sent ${r.sent}`);
  });

  test('an abort stops sending; requests in flight still finish', async () => {
    const controller = new AbortController();
    let finished = 0;
    const r = await runTimetable(arrivalTimetable([stage(10_000, 100)]), {
      maxInflight: 1000,
      signal: controller.signal,
      send: (a) => {
        if (a.index === 9) controller.abort();
        return new Promise((resolve) => setTimeout(() => resolve(finished++), 50));
      },
    });
    assert.equal(r.sent, 10);
    assert.equal(finished, 10);
  });

  test('a send that throws is one request, not the end of the run', async () => {
    const r = await runTimetable(arrivalTimetable([stage(50, 200)]), {
      maxInflight: 100,
      send: (a) => {
        if (a.index % 2) throw new Error('boom');
        return Promise.reject(new Error('async boom'));
      },
    });
    assert.deepEqual(r, { planned: 10, sent: 10, dropped: 0 });
  });
});
