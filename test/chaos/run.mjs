// The chaos suite: real Spillway processes against the real Elasticsearch.
//   npm run chaos            long mode (every scenario, more kills / more runs)
//   node test/chaos/run.mjs --quick   the bounded set (what chaos.test.mjs runs)
//   --only 01,05             run a subset by file prefix
// Writes bench/results/chaos-<timestamp>.json and .md, prints the table,
// exits 1 if any scenario fails.
import { setMaxListeners } from 'node:events';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { esUp } from '../helpers/es.mjs';
import { abortReason, createScope } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

export function scenarioFiles(only) {
  const dir = join(HERE, 'scenarios');
  return readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()
    .filter((f) => !only || only.some((p) => f.startsWith(p)))
    .map((f) => join(dir, f));
}

/**
 * Run one scenario: `run({ quick, log, signal, scope })`. It stops after
 * `timeoutMs` or when `signal` aborts: the scenario's signal aborts, its scope
 * kills everything it started (daemons, private Elasticsearch nodes, mounts,
 * load), and the result is a failure that says so, returned only once the
 * scenario's own code has unwound (or 30 s later), so that nothing of it runs
 * beside the next one. Whatever happens, its scope is closed and checked for
 * leaks before this returns.
 */
export const DEFAULT_TIMEOUT_MS = { quick: 240_000, long: 1_200_000 };

/** A scenario's time budget: its own `export const timeoutMs = { quick, long }`, else the default. */
export async function scenarioTimeout(file, quick) {
  const mod = await import(pathToFileURL(file).href);
  const mode = quick ? 'quick' : 'long';
  return mod.timeoutMs?.[mode] ?? DEFAULT_TIMEOUT_MS[mode];
}

// node:test moves on as soon as its own timeout fires, without waiting for
// the test's function: the next scenario waits here until the previous one
// has stopped and cleaned up.
let previousRun = Promise.resolve();

export async function runScenario(file, opts) {
  const prior = previousRun;
  let release;
  previousRun = new Promise((resolve) => (release = resolve));
  try {
    await prior;
    return await runOne(file, opts);
  } finally {
    release();
  }
}

async function runOne(file, { quick, log = console.log, signal, timeoutMs }) {
  const mod = await import(pathToFileURL(file).href);
  timeoutMs ??= await scenarioTimeout(file, quick);
  const name = mod.name ?? file;
  const t0 = Date.now();
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // every load request and sleep of the scenario listens to it
  const onOuter = () => ac.abort(signal.reason);
  if (signal?.aborted) onOuter();
  else signal?.addEventListener('abort', onOuter, { once: true });
  const timer = setTimeout(() => ac.abort(new Error(`scenario timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  const scope = createScope({ signal: ac.signal, log });
  const running = Promise.resolve().then(() => mod.run({ quick, log, signal: ac.signal, scope }));
  const aborted = new Promise((resolve) => {
    if (ac.signal.aborted) resolve();
    else ac.signal.addEventListener('abort', resolve, { once: true });
  });
  const failed = (why) => ({ name, acked: 0, documents: 0, lost: 0, duplicated: 0, refused: {}, notes: why.slice(0, 2000), pass: false });
  let r;
  try {
    r = await Promise.race([running, aborted.then(() => failed(`STOPPED: ${abortReason(ac.signal)}; everything it started was killed`))]);
  } catch (e) {
    r = failed(`ERROR: ${e?.stack ?? e}`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onOuter);
    if (ac.signal.aborted) {
      // Stop what it started first: its awaits then fail fast and it unwinds.
      await scope.close();
      const unwound = await Promise.race([running.then(() => true, () => true), new Promise((res) => setTimeout(res, 30_000, false))]);
      if (!unwound) r.notes += '; its code had not unwound 30 s after the stop';
    }
    await scope.close();
  }
  const leaks = scope.leaks();
  if (leaks.length) {
    r.pass = false;
    r.notes = `${r.notes}${r.notes ? '; ' : ''}LEAKS: ${leaks.join('; ')}`;
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
    rows.push(`| ${cell(r.name)} | ${r.skipped ? 'SKIP' : r.pass ? 'PASS' : '**FAIL**'} | ${r.acked} | ${r.documents} | ${r.lost} | ${r.duplicated} | ${refused} | ${r.seconds} | ${cell(r.notes)} |`);
  }
  return rows.join('\n');
}

export async function runSuite({ quick, only, log = console.log, signal }) {
  const results = [];
  for (const f of scenarioFiles(only)) {
    if (signal?.aborted) break;
    log(`▶ ${f.split('/').pop()}`);
    const r = await runScenario(f, { quick, log, signal });
    log(`  ${r.skipped ? 'SKIP' : r.pass ? 'PASS' : 'FAIL'} ${r.name} (${r.seconds} s): acked ${r.acked}, documents ${r.documents}, lost ${r.lost}, duplicated ${r.duplicated}`);
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
  // Ctrl-C / SIGTERM: stop the running scenario through its scope (daemons,
  // private Elasticsearch nodes, mounts), then report what ran.
  const ac = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => ac.abort(new Error(`${sig} received`)));
  const results = await runSuite({ quick, only, signal: ac.signal });
  const { base, md } = writeReport(results, { quick, started });
  console.log(`\n${md}\nwritten: ${base}.json, ${base}.md`);
  // A skip (a scenario that could not run here) fails only under CI.
  process.exit(results.every((r) => r.pass || (r.skipped && !process.env.CI)) ? 0 : 1);
}
