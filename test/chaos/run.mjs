// The chaos suite: real Spillway processes against the real Elasticsearch.
//   npm run chaos            long mode (every scenario, more kills / more runs)
//   node test/chaos/run.mjs --quick   the bounded set (what chaos.test.mjs runs)
//   --only 01,05             run a subset by file prefix
// Writes bench/results/chaos-<timestamp>.json and .md, prints the table,
// exits 1 if any scenario fails.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { esUp } from '../helpers/es.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

export function scenarioFiles(only) {
  const dir = join(HERE, 'scenarios');
  return readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()
    .filter((f) => !only || only.some((p) => f.startsWith(p)))
    .map((f) => join(dir, f));
}

export async function runScenario(file, { quick, log = console.log }) {
  const mod = await import(pathToFileURL(file).href);
  const t0 = Date.now();
  let r;
  try {
    r = await mod.run({ quick, log });
  } catch (e) {
    r = { name: mod.name ?? file, acked: 0, documents: 0, lost: 0, duplicated: 0, refused: {}, notes: `ERROR: ${e?.stack ?? e}`.slice(0, 2000), pass: false };
  }
  r.seconds = Math.round((Date.now() - t0) / 100) / 10;
  return r;
}

export function table(results) {
  const rows = [
    '| scenario | pass | acked | documents | lost | duplicated | refused | seconds | notes |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |',
  ];
  const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  for (const r of results) {
    const refused = Object.entries(r.refused ?? {}).map(([k, v]) => `${k}×${v}`).join(' ') || '–';
    rows.push(`| ${cell(r.name)} | ${r.pass ? 'PASS' : '**FAIL**'} | ${r.acked} | ${r.documents} | ${r.lost} | ${r.duplicated} | ${refused} | ${r.seconds} | ${cell(r.notes)} |`);
  }
  return rows.join('\n');
}

export async function runSuite({ quick, only, log = console.log }) {
  const results = [];
  for (const f of scenarioFiles(only)) {
    log(`▶ ${f.split('/').pop()}`);
    const r = await runScenario(f, { quick, log });
    log(`  ${r.pass ? 'PASS' : 'FAIL'} ${r.name} (${r.seconds} s): acked ${r.acked}, documents ${r.documents}, lost ${r.lost}, duplicated ${r.duplicated}`);
    results.push(r);
  }
  return results;
}

export function writeReport(results, { quick, started }) {
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `chaos-${stamp}`);
  const meta = { mode: quick ? 'quick' : 'long', started: new Date(started).toISOString(), seconds: Math.round((Date.now() - started) / 1000), node: process.version };
  writeFileSync(`${base}.json`, JSON.stringify({ ...meta, results }, null, 2) + '\n');
  const md = `# Chaos run ${meta.started} (${meta.mode}, ${meta.seconds} s)\n\n${table(results)}\n`;
  writeFileSync(`${base}.md`, md);
  return { base, md };
}

// `node --test test/` also executes every .mjs under test/ as a file: only
// run the suite when started directly, not as such a test child.
if (import.meta.url === pathToFileURL(process.argv[1]).href && !process.env.NODE_TEST_CONTEXT) {
  const quick = process.argv.includes('--quick');
  const oi = process.argv.indexOf('--only');
  const only = oi > 0 ? process.argv[oi + 1].split(',') : undefined;
  if (!(await esUp())) {
    console.error('Elasticsearch is not reachable at 127.0.0.1:9200: start it with `npm run es:start`.');
    process.exit(1);
  }
  const started = Date.now();
  const results = await runSuite({ quick, only });
  const { base, md } = writeReport(results, { quick, started });
  console.log(`\n${md}\nwritten: ${base}.json, ${base}.md`);
  process.exit(results.every((r) => r.pass) ? 0 : 1);
}
