// The bench report's target verdicts, from a results object built by hand:
// the arithmetic of "met" and "missed by how much" is pure logic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderReport, targets } from '../../bench/lib/report.mjs';
import { timelineChart } from '../../bench/lib/timeline.mjs';

const wrk = (rps, p99, extra = {}) => ({ rps, requests: rps * 8, non2xx: 0, socketErrors: 0, messagesPerSecond: rps, latencyMs: { p50: 1, p90: 2, p99, max: 20 }, ...extra });

function results({ rxRps = 30_000, halfP99 = 4.2, rxbMsgs = 250_000, allDocs = 30_000, held = 100_000 } = {}) {
  return {
    started: '2026-11-28T00:00:00.000Z', mode: 'quick', machine: { cpus: 2, cpuModel: 'cpu', memGiB: 24, node: 'v20' },
    notRun: { 'peer: Go rxtx': 'not served' },
    scenarios: {
      'ceiling: do-nothing uWebSockets.js': wrk(100_000, 2.7),
      'spillway /rx (300 B)': wrk(rxRps, 9.6),
      'spillway /rx at about half rate': wrk(rxRps / 2, halfP99, { ofFullRate: 0.5 }),
      'spillway /rxb (1000 × 300 B)': wrk(rxbMsgs / 1000, 50, { messagesPerSecond: rxbMsgs }),
      'ceiling: direct bulk loader': { total: 100_000, failed: 0, seconds: 2, docsPerSecond: 40_000 },
      'delivery: spillway all': { acked: 100_000, docs: 100_000, delivered: true, seconds: 3, docsPerSecond: allDocs },
      'backlog drain': { acked: held, docs: held, delivered: true, seconds: 3, docsPerSecond: 30_000, rssWhileHeldMiB: 300, anonRssWhileHeldMiB: 200, peakRssWhileDrainingMiB: 600, peakAnonRssWhileDrainingMiB: 250 },
    },
  };
}

const verdict = (rows, target) => rows.find((l) => l.includes(target))?.split('|')[3].trim();

describe('bench report targets', () => {
  test('a missed ratio says by how many points', () => {
    const rows = targets(results());
    assert.equal(verdict(rows, '/rx durable'), '**missed**, by 40 points');
    assert.equal(verdict(rows, 'all-mode delivery'), '**missed**, by 15 points');
    assert.equal(verdict(rows, '/rxb'), '**missed**, at 50% of it');
  });

  test('met targets say met', () => {
    const rows = targets(results({ rxRps: 75_000, rxbMsgs: 600_000, allDocs: 38_000 }));
    assert.equal(verdict(rows, '/rx durable'), 'met');
    assert.equal(verdict(rows, '/rxb'), 'met');
    assert.equal(verdict(rows, 'all-mode delivery'), 'met');
    assert.equal(verdict(rows, 'half that rate'), 'met');
  });

  test('a miss of one point is singular, and a miss never rounds to zero', () => {
    assert.equal(verdict(targets(results({ allDocs: 35_700 })), 'all-mode delivery'), '**missed**, by 1 point');
    assert.equal(verdict(targets(results({ allDocs: 35_990 })), 'all-mode delivery'), '**missed**, by 1 point');
  });

  test('p99 above 5 ms at half rate is missed by the excess', () => {
    assert.equal(verdict(targets(results({ halfP99: 7.5 })), 'half that rate'), '**missed**, by 2.50 ms');
  });

  test('the Go rxtx peer and a small backlog are not measured, never met', () => {
    const rows = targets(results());
    assert.equal(verdict(rows, 'Go rxtx'), 'not measured');
    assert.equal(verdict(rows, '10-million backlog'), 'not measured');
    assert.equal(verdict(targets(results({ held: 10_000_000 })), '10-million backlog'), 'met');
  });

  test('the full report carries the targets and the peak anonymous RSS while draining', () => {
    const { markdown, svg } = renderReport(results());
    assert.match(markdown, /## Targets \(issue 4\)/);
    assert.match(markdown, /anonymous 250 MiB/);
    assert.match(svg, /^<svg /);
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
