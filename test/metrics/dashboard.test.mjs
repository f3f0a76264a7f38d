// deploy/grafana/spillway-fleet.json and deploy/prometheus/spillway-alerts.yml
// name only metrics a running daemon exposes (all mode: the edge's and the
// stage's), the dashboard is well formed (unique panel ids, 24-column grid,
// every query on the datasource variable), and every PromQL expression of the
// dashboard parses (promtool promql format; required under CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, tempDir, removeDir, ROOT } from '../helpers/daemon.mjs';
import { parseExposition } from './prom-text.mjs';
import { promtoolOrNote, promtool } from './promtool.mjs';

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'spillway-fleet.json'), 'utf8'));
const rules = readFileSync(join(ROOT, 'deploy', 'prometheus', 'spillway-alerts.yml'), 'utf8');
const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

/** Metric names in a PromQL text (ours only: rxtx_, rtbeat_, spillway_), histogram suffixes removed. */
const metricNames = (expr) => [...expr.matchAll(/\b((?:rxtx|rtbeat|spillway)_[a-z0-9_]+)/g)].map((m) => m[1]);

test('the dashboard is well formed', () => {
  assert.equal(dashboard.uid, 'spillway-fleet');
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids unique');
  for (const p of dashboard.panels) {
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
    const refs = (p.targets ?? []).map((t) => t.refId);
    assert.equal(new Set(refs).size, refs.length, `${p.title}: refIds unique`);
  }
  assert.ok(targets.length > 20);
  for (const t of targets) assert.equal(t.datasource.uid, '${datasource}', `${t.panel} ${t.refId}`);
  const vars = dashboard.templating.list.map((v) => v.name);
  assert.deepEqual(vars, ['datasource', 'job', 'instance']);
  // The fleet view's figures: every edge, backlog, oldest age, refusals, outputs.
  const all = targets.map((t) => t.expr).join('\n');
  for (const m of ['rxtx_messages_in_queue', 'rxtx_oldest_message_age_seconds', 'rxtx_refused_requests', 'spillway_output_up', 'rxtx_ack_latency_seconds_bucket']) {
    assert.ok(all.includes(m), `dashboard uses ${m}`);
  }
});

test('every metric the dashboard and the alerts name is on /metrics', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  const out = tempDir();
  t.after(() => {
    removeDir(dir);
    removeDir(out);
  });
  const d = await startDaemon('all', ['--path', dir, '--output', 'file', '--file-path', join(out, 'o.ndjson'), '--log-level', 'warn']);
  t.after(() => d.kill());
  const families = parseExposition(await (await fetch(d.url + '/metrics')).text());
  const known = (name) => families.has(name) ||
    ['_bucket', '_sum', '_count'].some((s) => name.endsWith(s) && families.get(name.slice(0, -s.length))?.type === 'histogram');
  const named = new Set([...targets.flatMap((x) => metricNames(x.expr)), ...metricNames(rules)]);
  assert.ok(named.size > 15, [...named].join(' '));
  const missing = [...named].filter((n) => !known(n));
  assert.deepEqual(missing, [], 'named but not exposed');
});

test('every dashboard query parses as PromQL', (t) => {
  const tool = promtoolOrNote(t);
  if (!tool) return;
  for (const x of targets) {
    const expr = x.expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*').replaceAll('$instance', '.*');
    const r = promtool(tool, ['promql', 'format', '--experimental', expr]);
    assert.equal(r.status, 0, `${x.panel} ${x.refId}: ${expr}\n${r.output}`);
  }
});
