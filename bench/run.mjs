#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only <word>] [-- --sweep]
//
// Spillway measured side by side with its ceilings and its peers in one run,
// on one machine, with one load tool. Each scenario is one file in
// bench/scenarios/ (run in the order of their names); each adds rows to the
// results. Writes bench/results/<timestamp>.json and .md (with SVG charts)
// and prints the report. Exits non-zero when the bench crashes, when a
// message is lost or duplicated, or (under CI) when a peer cannot be built;
// never on speed.
//
// To grow it: add bench/scenarios/NN-name.mjs exporting `title` and
// `run(ctx)` (bench/lib/context.mjs says what ctx holds); shared pieces
// live in bench/lib/ and load/lib/ (payloads, the POST loop and the
// exactly-once ledger).
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { removeDir, ROOT } from '../test/helpers/daemon.mjs';
import { esScript, esUp } from '../test/helpers/es.mjs';
import { createContext } from './lib/context.mjs';
import { renderReport } from './lib/report.mjs';
import { ensureWrk } from './lib/wrk.mjs';
import { sweep, sweepMarkdown } from './sweep.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const sweepOnly = argv.includes('--sweep');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
const SCENARIOS = join(ROOT, 'bench', 'scenarios');
const RESULTS = join(ROOT, 'bench', 'results');

async function main(ctx) {
  ensureWrk();
  if (!(await esUp())) {
    const r = await esScript('start');
    if (!r.ok) throw new Error(`Elasticsearch did not start:\n${r.output}`);
  }
  const stamp = ctx.results.started.replace(/[:.]/g, '-');
  mkdirSync(RESULTS, { recursive: true });
  if (sweepOnly) {
    const grid = await sweep({ seconds: quick ? 4 : 8, deliveryN: quick ? 50_000 : 200_000, log: ctx.log });
    writeFileSync(join(RESULTS, `sweep-${stamp}.json`), JSON.stringify({ machine: ctx.results.machine, ...grid }, null, 2));
    const md = sweepMarkdown(grid);
    writeFileSync(join(RESULTS, `sweep-${stamp}.md`), md);
    console.log(md);
    return;
  }

  const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.mjs')).sort();
  const t0 = performance.now();
  for (const file of files) {
    const scenario = await import(pathToFileURL(join(SCENARIOS, file)).href);
    if (only && !file.includes(only) && !scenario.title.includes(only)) continue;
    ctx.log(`== ${scenario.title} (${file})`);
    const s0 = performance.now();
    try {
      await scenario.run(ctx);
    } catch (e) {
      // A scenario that crashes fails the bench, after the others have run
      // and the report is written (each scenario stops what it started).
      ctx.fail(`${file} crashed: ${e.stack ?? e}`);
    }
    ctx.results.scenarioSeconds[file] = Math.round((performance.now() - s0) / 100) / 10;
  }
  ctx.results.benchSeconds = Math.round((performance.now() - t0) / 1000);
  ctx.results.machine.loadAverageAtEnd = loadavg()[0];
  ctx.results.finished = new Date().toISOString();

  const { markdown, svg, timelineSvg } = renderReport(ctx.results);
  writeFileSync(join(RESULTS, `${stamp}.json`), JSON.stringify(ctx.results, null, 2));
  writeFileSync(join(RESULTS, `${stamp}.svg`), svg);
  if (timelineSvg) writeFileSync(join(RESULTS, `${stamp}-timeline.svg`), timelineSvg);
  const linked = (base) => markdown.replace('CHART', join(base, `${stamp}.svg`)).replace('TIMELINE', join(base, `${stamp}-timeline.svg`));
  writeFileSync(join(RESULTS, `${stamp}.md`), linked(''));
  console.log(linked(join('bench', 'results')));
}

const ctx = createContext({ quick, only });
main(ctx)
  .then(() => {
    removeDir(ctx.work);
    if (ctx.results.failures.length) {
      console.error(`[bench] FAILED:\n- ${ctx.results.failures.join('\n- ')}`);
      process.exit(1);
    }
  })
  .catch((e) => {
    console.error('[bench] FAILED:', e.stack ?? e);
    removeDir(ctx.work);
    process.exit(1);
  });
