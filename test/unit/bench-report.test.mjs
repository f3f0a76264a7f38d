// The bench report's target verdicts, from a results object built by hand:
// the arithmetic of "met" and "missed by how much" is pure logic, and so
// is the shape of the tables (steady state, delivery with its feed).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exactlyCell, renderReport, targets } from '../../bench/lib/report.mjs';
import { timelineChart } from '../../bench/lib/timeline.mjs';

const wrk = (rps, p99, extra = {}) => ({ kind: 'ingest', rps, requests: rps * 8, non2xx: 0, socketErrors: 0, messagesPerSecond: rps, latencyMs: { p50: 1, p90: 2, p99, p999: 30, max: 40 }, ...extra });
const steady = (sustained, cpuUs, extra = {}) => ({
  kind: 'steady', rps: sustained * 1.05, sustainedPerSecond: sustained, cpuPerMessageUs: cpuUs, cpuCores: 1, peakRssMiB: 200,
  latencyMs: { p50: 1, p90: 2, p99: 9, p999: 20 }, promise: 'fsync', exactly: { acknowledged: 10, arrived: 10, missingCount: 0, duplicatedCount: 0, extraCount: 0, exact: true }, ...extra,
});
const loader = (docsPerSecond, concurrency, when) => ({ kind: 'loader', concurrency, when, total: 100_000, failed: 0, seconds: 100_000 / docsPerSecond, docsPerSecond, how: 'x' });

function results({ edge = 20_000, edgeCpu = 40, noopCpu = 10, rxs = 2_000, rx = 4_000, ingest = 21_000, halfP99 = 4.2, rxbMsgs = 250_000, all = 18_000, allCpu = 50, fb = 16_000, fbCpu = 36, held = 100_000, peers = true } = {}) {
  const scenarios = {
    'ceiling: do-nothing uWebSockets.js': wrk(100_000, 2.7, { ceiling: true, how: 'warm' }),
    'ceiling: do-nothing uWebSockets.js (134 B)': wrk(100_000, 2.7, { ceiling: true, cpuPerMessageUs: noopCpu, how: 'warm' }),
    'spillway /rx (134 B)': wrk(ingest, 9.6),
    'spillway /rx at about half rate': wrk(ingest / 2, 3, { ofFullRate: 0.5 }),
    'spillway /rxb (1000 × 300 B)': wrk(rxbMsgs / 1000, 50, { messagesPerSecond: rxbMsgs }),
    'steady: spillway edge /rx → counting stage': steady(edge, edgeCpu),
    'steady: spillway edge /rx → counting stage, about half rate': steady(edge / 2, edgeCpu, { latencyMs: { p50: 1, p99: halfP99, p999: 9 }, ofFullRate: 0.5 }),
    'steady: spillway all /rx → Elasticsearch': steady(all, allCpu),
    'ceiling: direct bulk loader ×8 (before)': loader(19_000, 8, 'before'),
    'ceiling: direct bulk loader ×8 (after)': loader(20_000, 8, 'after'),
    'delivery: spillway all': { kind: 'delivery', acked: 100_000, docs: 100_000, exactly: { acknowledged: 100_000, arrived: 100_000, missingCount: 0, duplicatedCount: 0, extraCount: 0, exact: true }, seconds: 5, docsPerSecond: 20_000, feedPerSecond: 90_000, boundBy: 'delivery', feed: '/rxb' },
    'backlog drain': { kind: 'delivery', backlog: true, acked: held, docs: held, seconds: 3, docsPerSecond: 30_000, rssWhileHeldMiB: 300, anonRssWhileHeldMiB: 200, peakRssWhileDrainingMiB: 600, peakAnonRssWhileDrainingMiB: 250 },
  };
  if (peers) {
    scenarios['steady: Go rxtx /rxs → counting stage'] = steady(rxs, 300, { exactly: { unnamed: true, acknowledged: 10, distinct: 10, arrived: 10, duplicatedCount: 0, exact: true } });
    scenarios['steady: Go rxtx /rx → counting stage'] = steady(rx, 280);
    scenarios['steady: Fluent Bit http → Elasticsearch'] = steady(fb, fbCpu);
  }
  return { started: '2026-11-28T00:00:00.000Z', mode: 'quick', machine: { cpus: 2, cpuModel: 'cpu', memGiB: 24, node: 'v20' }, notRun: peers ? {} : { 'steady: Go rxtx /rxs → counting stage': 'go is not installed' }, failures: [], scenarios };
}

const verdict = (rows, target) => rows.find((l) => l.includes(target))?.split('|')[3].trim();

describe('bench report targets (issue 9)', () => {
  test('a missed ratio says by how much', () => {
    const rows = targets(results({ edge: 15_000, edgeCpu: 60, ingest: 20_000, all: 15_000, fb: 16_000, fbCpu: 30 }));
    assert.equal(verdict(rows, 'CPU per durable'), '**missed**, by 1.5× (needs 1.5× less CPU)');
    assert.equal(verdict(rows, '10× the Go rxtx /rxs'), '**missed**, at 7.5× of 10×');
    assert.equal(verdict(rows, '4× the Go rxtx /rx'), '**missed**, at 3.8× of 4×');
    assert.equal(verdict(rows, '90% of the ingest-only'), '**missed**, by 15 points');
    assert.equal(verdict(rows, 'direct loader'), '**missed**, by 15 points');
    assert.equal(verdict(rows, 'sustained ≥ Fluent Bit'), '**missed**, at 94% of it');
    assert.equal(verdict(rows, '1.5× Fluent Bit'), '**missed**, by 1.1×');
    assert.equal(verdict(rows, '/rxb'), '**missed**, at 50% of it');
  });

  test('met targets say met', () => {
    const rows = targets(results({ edge: 40_000, edgeCpu: 39, ingest: 41_000, rxs: 3_000, rx: 9_000, all: 19_000, allCpu: 50, fb: 16_000, fbCpu: 36, rxbMsgs: 600_000 }));
    for (const t of ['CPU per durable', '10× the Go rxtx /rxs', '4× the Go rxtx /rx', '90% of the ingest-only', 'half the full rate', 'direct loader', 'sustained ≥ Fluent Bit', '1.5× Fluent Bit', '/rxb']) {
      assert.equal(verdict(rows, t), 'met', t);
    }
  });

  test('the ceiling is the better loader run, and a miss never rounds to zero points', () => {
    // 17,990 of the better 20,000 is 89.95%: a miss, by 1 point.
    assert.equal(verdict(targets(results({ all: 17_990 })), 'direct loader'), '**missed**, by 1 point');
    assert.equal(verdict(targets(results({ all: 18_000 })), 'direct loader'), 'met');
  });

  test('p99 at half rate comes from the steady row, and a miss says by how many ms', () => {
    const rows = targets(results({ halfP99: 7.5 }));
    assert.match(rows.find((l) => l.includes('half the full rate')), /steady, forwarding/);
    assert.equal(verdict(rows, 'half the full rate'), '**missed**, by 2.50 ms');
  });

  test('peers not run: their targets are not measured, never met', () => {
    const rows = targets(results({ peers: false }));
    assert.equal(verdict(rows, '10× the Go rxtx /rxs'), 'not measured');
    assert.equal(verdict(rows, 'all mode vs Fluent Bit'), 'not measured');
    assert.equal(verdict(rows, '10-million backlog'), 'not measured');
    assert.equal(verdict(targets(results({ held: 10_000_000 })), '10-million backlog'), 'met');
  });

  test('the report has the steady table, what each 2xx promises, the feed beside delivery, and how ceilings ran', () => {
    const { markdown, svg } = renderReport(results());
    assert.match(markdown, /## Steady state/);
    assert.match(markdown, /\| spillway edge \/rx → counting stage \| fsync \| 21,000 \| 20,000 \|/);
    assert.match(markdown, /counts match \(10 acknowledged, 10 distinct arrived; nothing names the messages\)/);
    assert.match(markdown, /\| delivery: spillway all \| 100,000 \| 100,000 \| yes \| 5\.0 \| 20,000 \| 90,000 \| delivery \| 100% \|/);
    assert.match(markdown, /## How each ceiling was run/);
    assert.match(markdown, /## Targets \(issue 9\)/);
    assert.match(markdown, /anonymous 250 MiB/);
    assert.match(svg, /^<svg /);
  });

  test('a lost or duplicated message is bold in its row', () => {
    assert.equal(exactlyCell({ exactly: { missingCount: 1, duplicatedCount: 2, extraCount: 3, exact: false } }), '**1 lost**, **2 duplicated** (+3 unacknowledged: requests wrk cut short)');
  });
});

describe('bench timeline chart', () => {
  const sample = (t, scenario, stored, forwarded, p99) => ({ t, scenario, storedPerSecond: stored, forwardedPerSecond: forwarded, ackP99Ms: p99 });
  const samples = [
    sample(1, 'a', 100, 0, 2), sample(2, 'a', 120, 0, 3),
    sample(5, 'b', 50, 40, undefined), sample(6, 'b', 60, 45, 4),
  ];
  const paths = (svg) => [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]);

  test('three lines, each broken where the scenario changes', () => {
    const svg = timelineChart(samples);
    const [stored, forwarded, p99] = paths(svg);
    assert.equal(stored.match(/M/g).length, 2);
    assert.equal(forwarded.match(/M/g).length, 2);
    // p99 is missing at t=5, so scenario b's line starts at t=6 alone.
    assert.equal(p99.match(/M/g).length, 2);
    assert.equal(p99.match(/L/g).length, 1);
    assert.match(svg, />a<\/text>/);
    assert.match(svg, />b<\/text>/);
  });

  test('no samples, no chart; the report then links none', () => {
    assert.equal(timelineChart([]), undefined);
    const { markdown, timelineSvg } = renderReport({ ...results(), timeline: [] });
    assert.equal(timelineSvg, undefined);
    assert.doesNotMatch(markdown, /TIMELINE/);
    assert.match(renderReport({ ...results(), timeline: samples }).markdown, /!\[throughput and latency over time\]\(TIMELINE\)/);
  });
});
