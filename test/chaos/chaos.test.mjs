// The bounded (quick) chaos set, run by `npm test`: each scenario is one test
// with its ledger in the failure message. Needs the real Elasticsearch: under
// CI an unreachable one fails (never skips), elsewhere it skips.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireElasticsearch } from '../helpers/es.mjs';
import { runScenario, scenarioFiles } from './run.mjs';

for (const file of scenarioFiles()) {
  const label = file.split('/').pop().replace(/\.mjs$/, '');
  test(`chaos (quick): ${label}`, { timeout: 240_000 }, async (t) => {
    if (!(await requireElasticsearch(t))) return;
    const r = await runScenario(file, { quick: true, log: (m) => t.diagnostic(m) });
    t.diagnostic(JSON.stringify(r));
    assert.equal(r.lost, 0, `lost ${r.lost}: ${r.notes}`);
    assert.equal(r.duplicated, 0, `duplicated ${r.duplicated}: ${r.notes}`);
    assert.ok(r.pass, `${r.name}: ${r.notes}`);
  });
}
