// The bounded (quick) chaos set, run by `npm test`: each scenario is one test
// with its ledger in the failure message. Needs the real Elasticsearch: under
// CI an unreachable one fails (never skips), elsewhere it skips. A scenario
// that cannot run here (09 without a tmpfs) is a reported skip, a failure
// under CI. A scenario past SCENARIO_MS is stopped (everything it started
// killed) and fails, before node:test's own timeout would move on without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireElasticsearch } from '../helpers/es.mjs';
import { runScenario, scenarioFiles } from './run.mjs';

const SCENARIO_MS = 240_000;

for (const file of scenarioFiles()) {
  const label = file.split('/').pop().replace(/\.mjs$/, '');
  test(`chaos (quick): ${label}`, { timeout: SCENARIO_MS + 60_000 }, async (t) => {
    if (!(await requireElasticsearch(t))) return;
    const r = await runScenario(file, { quick: true, log: (m) => t.diagnostic(m), signal: t.signal, timeoutMs: SCENARIO_MS });
    t.diagnostic(JSON.stringify(r));
    if (r.skipped) {
      assert.ok(!process.env.CI, `${r.name}: under CI a skip is a failure: ${r.skipped}`);
      t.skip(r.skipped);
      return;
    }
    assert.equal(r.lost, 0, `lost ${r.lost}: ${r.notes}`);
    assert.equal(r.duplicated, 0, `duplicated ${r.duplicated}: ${r.notes}`);
    assert.ok(r.pass, `${r.name}: ${r.notes}`);
  });
}
