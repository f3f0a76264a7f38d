// Thresholds and the summary: pass/fail of each bound against the measured
// metrics, the human-readable report for stdout, and the results JSON.
//
// A threshold names its metric by a dotted path into the metrics snapshot
// (metrics.mjs), e.g. `latencyMs.p99` or `phases.spike.latencyMs.p99`, so
// the value a threshold judged is the value in the results file, found at
// the same place.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const COMPARE = {
  '<': (v, limit) => v < limit,
  '<=': (v, limit) => v <= limit,
  '>': (v, limit) => v > limit,
  '>=': (v, limit) => v >= limit,
};

/**
 * A bound: `metric` (dotted path) `op` `limit`. `unit` is for display
 * (ms, s, share, count, ...); `abortOnFail` marks bounds that are also
 * checked while the run goes (soak's LAG_ABORT_S).
 */
export function threshold(label, metric, op, limit, { unit = '', abortOnFail = false } = {}) {
  if (!COMPARE[op]) throw new Error(`unknown threshold operator ${op}`);
  return { label, metric, op, limit, unit, abortOnFail };
}

/**
 * A bound on a share (error rate, dropped share): `< limit`, except that a
 * limit of 0 means "none at all" (`<= 0`), where a strict `< 0` could never
 * pass.
 */
export function shareBelow(label, metric, limit) {
  return threshold(label, metric, limit === 0 ? '<=' : '<', limit, { unit: 'share' });
}

/** The value at a dotted path, or undefined. */
export function metricAt(metrics, path) {
  let v = metrics;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[key];
  }
  return v;
}

/**
 * Each threshold with its measured `value` and `pass`. A metric with no
 * value (no /stats sample answered, no request in a phase) fails: a bound
 * that nothing was measured against has not been met.
 */
export function evaluateThresholds(thresholds, metrics) {
  return thresholds.map((t) => {
    const value = metricAt(metrics, t.metric);
    const measured = typeof value === 'number' && Number.isFinite(value);
    return { ...t, value: measured ? value : null, pass: measured && COMPARE[t.op](value, t.limit) };
  });
}

// ---- text

const num = (v, digits = 2) => {
  if (v === null || v === undefined) return 'n/a';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: Math.min(digits, 1) });
};
const ms = (v) => `${num(v, v < 10 ? 3 : 1)} ms`;

/** A value with its unit: shares as percentages, so 0.004 reads 0.40%. */
export function formatValue(v, unit) {
  if (v === null || v === undefined) return 'no data';
  switch (unit) {
    case 'share':
      return `${(v * 100).toFixed(v > 0 && v < 0.001 ? 4 : 2)}%`;
    case 'ms':
      return ms(v);
    case 's':
      return `${num(v, 1)} s`;
    default:
      return unit ? `${num(v)} ${unit}` : num(v);
  }
}

function latencyLine(l) {
  return `p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}`;
}

function reasons(map) {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return undefined;
  const shown = entries.slice(0, 5).map(([r, n]) => `${r} ×${num(n)}`);
  if (entries.length > 5) shown.push(`(${entries.length - 5} more in the JSON)`);
  return shown.join(', ');
}

/** The report printed at the end of a run (plain text, no colour, so it logs well). */
export function formatSummary(result) {
  const { metrics: m, thresholds } = result;
  const r = m.requests;
  const lines = [];
  lines.push(`spillway load: ${result.scenario} → ${result.target}  (${result.description})`);
  lines.push('');
  lines.push(`  requests   sent ${num(r.sent)}  ok ${num(r.ok)}  failed ${num(r.failed)}  dropped ${num(r.dropped)}  (of ${num(r.arrivals)} arrivals; ${num(result.plannedArrivals)} planned)`);
  lines.push(`  rate       ${num(r.perSecond, 1)}/s sent, ${num(r.okPerSecond, 1)}/s ok, over ${num(m.elapsedSeconds, 1)} s (offered ${num(result.offeredRate, 1)}/s)`);
  if (m.messages) lines.push(`  messages   sent ${num(m.messages.sent)}  acked ${num(m.messages.acked)}  (${num(m.messages.perSecond, 0)}/s)`);
  lines.push(`  latency    ${latencyLine(m.latencyMs)}`);
  for (const [name, p] of Object.entries(m.phases ?? {})) {
    lines.push(`    ${name.padEnd(9)}${num(p.sent)} sent, ${num(p.failed)} failed; ${latencyLine(p.latencyMs)}`);
  }
  const why = reasons(r.failures);
  if (why) lines.push(`  failures   ${why}`);
  if (m.stats) {
    const s = m.stats;
    const trend = (t, unit) => (t.count ? `p50 ${formatValue(t.p50, unit)}  p95 ${formatValue(t.p95, unit)}  max ${formatValue(t.max, unit)}` : 'no samples');
    lines.push(`  /stats     ${num(s.polls)} polls, ${num(s.ok)} answered`);
    lines.push(`    inQueue          ${trend(s.inQueue, '')}`);
    lines.push(`    oldestAgeSeconds ${trend(s.oldestAgeSeconds, 's')}`);
    lines.push(`    writesPending    ${trend(s.writesPending, '')}`);
    const statsWhy = reasons(s.failures);
    if (statsWhy) lines.push(`    failures         ${statsWhy}`);
  }
  lines.push(`  runner     send lag p99 ${ms(m.runner.sendLagMs.p99)}  max ${ms(m.runner.sendLagMs.max)}; ${num(result.concurrency.connections)} connections, at most ${num(result.concurrency.maxInflight)} in flight, peak ${num(m.runner.peakQueuedForConnection)} waiting for a connection`);
  lines.push('');
  lines.push('  thresholds');
  const width = Math.max(...thresholds.map((t) => t.label.length + t.op.length + formatValue(t.limit, t.unit).length + 2), 0);
  for (const t of thresholds) {
    const bound = `${t.label} ${t.op} ${formatValue(t.limit, t.unit)}`;
    lines.push(`    ${t.pass ? 'pass' : 'FAIL'}  ${bound.padEnd(width)}  measured ${formatValue(t.value, t.unit)}`);
  }
  lines.push('');
  if (result.aborted) lines.push(`  ABORTED: ${result.aborted}`);
  const failed = thresholds.filter((t) => !t.pass).length;
  const verdict = [failed ? `${failed} threshold(s) failed` : '', result.aborted ? 'run aborted' : ''].filter(Boolean).join(', ');
  lines.push(result.pass ? '  result: PASS' : `  result: FAIL (${verdict})`);
  return lines.join('\n') + '\n';
}

// ---- JSON

/** UTC time as in scripts/k6.sh's file names: 2026-11-25T14-03-09Z. */
export function fileStamp(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
}

/**
 * Write the results JSON as <dir>/load-<scenario>-<stamp>.json; a second run
 * in the same second gets -2, -3, ... rather than overwriting the first.
 * Returns the path.
 */
export function writeResults(dir, result, date = new Date()) {
  mkdirSync(dir, { recursive: true });
  const base = `load-${result.scenario}-${fileStamp(date)}`;
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? `${base}.json` : `${base}-${n}.json`);
    try {
      writeFileSync(path, JSON.stringify(result, null, 2) + '\n', { flag: 'wx' });
      return path;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
  }
}
