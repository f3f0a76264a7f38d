// The bounded (quick) chaos set, run by `npm test`: each scenario is one test
// with its ledger in the failure message. Needs the real Elasticsearch: under
// CI an unreachable one fails (never skips), elsewhere it skips. A scenario
// that cannot run here (09 without a tmpfs) is a reported skip, a failure
// under CI. A scenario past its time budget (4 min unless it exports its own
// timeoutMs) is stopped, everything it started killed, and fails, before
// node:test's own timeout (a backstop a minute later) would move on without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireElasticsearch } from '../helpers/es.mjs';
import { runScenario, scenarioFiles, scenarioTimeout } from './run.mjs';

for (const file of scenarioFiles()) {
  const label = file.split('/').pop().replace(/\.mjs$/, '');
  const budget = await scenarioTimeout(file, true);
  test(`chaos (quick): ${label}`, { timeout: budget + 60_000 }, async (t) => {
    if (!(await requireElasticsearch(t))) return;
    const r = await runScenario(file, { quick: true, log: (m) => t.diagnostic(m), signal: t.signal, timeoutMs: budget });
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
