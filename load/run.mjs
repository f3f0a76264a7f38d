#!/usr/bin/env node
// load/run.mjs — Spillway's own open-model load runner (the k6 scripts'
// scenarios, without k6).
//
//   node load/run.mjs <scenario> [NAME=value ...]
//   npm run load -- <scenario> [NAME=value ...]
//
//   npm run load -- ingest                                   # 1000/s for 1m against http://127.0.0.1:8080
//   SPILLWAY_URL=http://edge-3:8080 RATE=5000 DURATION=10m npm run load -- ingest
//   npm run load -- batch RATE=50 BATCH_LINES=1000
//   npm run load -- spike BASE_RATE=1000 SPIKE_FACTOR=10 DURATION=10m
//   npm run load -- soak RATE=500 DURATION=8h
//
// Scenarios (same semantics, variable names and defaults as k6/*.js):
//   ingest  RATE single ~300 B events/s to /ROUTE/PRODUCER/till-n/LABEL, constant
//   batch   RATE NDJSON batches/s of BATCH_LINES events to /rxb; count must equal lines
//   spike   BASE_RATE → BASE_RATE×SPIKE_FACTOR → BASE_RATE (20/5/25/5/45% of DURATION)
//   soak    RATE/s for DURATION, plus GET /stats every STATS_EVERY after STATS_WARMUP
//
// Open model: arrivals follow a fixed timetable at the stage's rate, each sent
// whether or not earlier ones have been answered. When MAX_INFLIGHT requests
// are outstanding, an arrival is counted as dropped (k6's dropped_iterations).
// A request fails when it errors, times out (TIMEOUT), or is not a 200 with a
// JSON body {"status":"OK",...} (batch: and count = BATCH_LINES).
//
// Settings come from the environment; NAME=value arguments override it.
// Durations: 250ms, 30s, 5m, 1h30m, or bare seconds. An empty value means
// the default.
//
//   variable        meaning                                        default
//   SPILLWAY_URL    target (an edge or all); a path prefix is kept  http://127.0.0.1:8080
//   RATE            arrivals/s (events; batches for batch)         ingest 1000, batch 20, soak 200
//   DURATION        how long to send                               ingest/batch 1m, spike 2m, soak 1h
//   ROUTE           rx (durable ack), rxs (same), rxa (ack on receipt); not batch   rx
//   P99_MS          threshold: p99 latency, ms                     ingest 50, batch 250, spike 50, soak 100
//   MAX_ERROR_RATE  threshold: share of failed requests            0.01
//   MAX_DROPPED     threshold: share of arrivals dropped           0.01 (spike: of all planned)
//   TIMEOUT         per-request timeout                            10s (batch 30s)
//   FLEET           distinct tills (KEY segment; spreads over shards)   1000
//   PRODUCER, LABEL path segments                                  pos, sale
//   MAX_INFLIGHT    requests outstanding before arrivals drop      k6's MAX_VUS default:
//                   (MAX_VUS is read as its default; VUS feeds       max(100, 4 × VUS),
//                   that default the way it does k6's)               VUS = RATE/5 in [20, 1000]
//   CONNECTIONS     keep-alive connections; requests beyond wait    RATE/50 in [16, 128]
//   RUNNER_WARMUP   untimed GET /healthz loops on every connection  1s
//                   before the first arrival (0: none), so the runner's
//                   own JIT and connects are not in the latency
//   batch:  BATCH_LINES (100) events per batch; GZIP (0) 1 = gzip the body
//   spike:  BASE_RATE (RATE, 200); SPIKE_FACTOR (10); SPIKE_P99_MS (250)
//           p99 during ramp-up and peak; P99_MS bounds baseline and recovery
//   soak:   STATS_EVERY (10s); STATS_WARMUP (min(60s, DURATION/10));
//           LAG_P95_S (30) p95 of edge.oldestAgeSeconds; LAG_ABORT_S (300)
//           abort when a sample is above it; MAX_IN_QUEUE (RATE × LAG_P95_S)
//           p95 of edge.inQueue
//   SPILLWAY_LOAD_RESULTS  where the results JSON goes             bench/results
//
// Output: a summary on stdout (requests sent/ok/failed/dropped, achieved
// rate, latency p50/p90/p99/p99.9/max, each threshold with pass/FAIL and the
// measured value), a progress line on stderr every 10 s, and the results as
// JSON in $SPILLWAY_LOAD_RESULTS/load-<scenario>-<UTC timestamp>.json.
//
// Exit codes: 0 every threshold passed; 1 a threshold failed or the run was
// aborted (LAG_ABORT_S, Ctrl-C); 2 bad usage or settings, or the target did
// not answer the start-up probe (one line on stderr, no results file);
// 3 the runner itself failed.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TargetError, createClient, probeTarget } from './lib/http.mjs';
import { runScenario } from './lib/runner.mjs';
import { SettingsError, settingsFrom, targetFrom } from './lib/settings.mjs';
import { formatSummary, writeResults } from './lib/summary.mjs';
import * as batch from './scenarios/batch.mjs';
import * as ingest from './scenarios/ingest.mjs';
import * as soak from './scenarios/soak.mjs';
import * as spike from './scenarios/spike.mjs';

const SCENARIOS = { ingest, batch, spike, soak };
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

class UsageError extends Error {}

function usage() {
  const lines = ['Usage: node load/run.mjs <scenario> [NAME=value ...]   (npm run load -- <scenario> ...)', '', 'Scenarios:'];
  for (const [name, s] of Object.entries(SCENARIOS)) {
    lines.push(`  ${name.padEnd(7)} ${s.about}`);
    for (const [v, meaning, def] of s.variables) lines.push(`      ${v.padEnd(15)} ${meaning} [${def}]`);
  }
  lines.push('', 'Every scenario: SPILLWAY_URL [http://127.0.0.1:8080], FLEET [1000], PRODUCER [pos], LABEL [sale],');
  lines.push('MAX_INFLIGHT [k6 MAX_VUS default], CONNECTIONS [RATE/50 in 16..128], RUNNER_WARMUP [1s],');
  lines.push('SPILLWAY_LOAD_RESULTS [bench/results].');
  lines.push('Exit: 0 all thresholds pass, 1 a threshold failed or the run aborted, 2 bad usage/settings/unreachable target.');
  lines.push('See load/README.md.');
  return lines.join('\n') + '\n';
}

/** The scenario name and the environment with NAME=value arguments applied. */
function parseArgs(argv, env) {
  const merged = { ...env };
  let scenario;
  for (const arg of argv) {
    const assignment = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(arg);
    if (assignment) merged[assignment[1]] = assignment[2];
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg} (settings go in the environment or as NAME=value)`);
    else if (scenario !== undefined) throw new UsageError(`one scenario at a time (got ${scenario} and ${arg})`);
    else scenario = arg;
  }
  if (scenario === undefined) throw new UsageError(`name a scenario: ${Object.keys(SCENARIOS).join(', ')} (--help for more)`);
  if (!Object.hasOwn(SCENARIOS, scenario)) throw new UsageError(`unknown scenario ${scenario}: use ${Object.keys(SCENARIOS).join(', ')}`);
  return { scenario, env: merged };
}

/** The results directory, created and known writable before any load is sent. */
function resultsDir(env) {
  const dir = resolve(env.SPILLWAY_LOAD_RESULTS || join(ROOT, 'bench', 'results'));
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new SettingsError(`SPILLWAY_LOAD_RESULTS=${dir}: cannot write there (${e.code ?? e.message})`);
  }
  return dir;
}

/** Stop on the first Ctrl-C/SIGTERM with a summary; leave at once on the second. */
function interruptSignal() {
  const controller = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM']) {
    process.on(name, () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write(`load: ${name}, finishing the requests in flight (again to quit at once)\n`);
      controller.abort(`interrupted (${name})`);
    });
  }
  return controller.signal;
}

async function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return 0;
  }
  const { scenario, env } = parseArgs(argv, process.env);
  const settings = settingsFrom(env);
  const target = targetFrom(settings);
  const runTag = (process.pid % 46656).toString(36); // keeps txn ids of separate runs apart
  const spec = SCENARIOS[scenario].describe(settings, { runTag });
  const dir = resultsDir(env);

  const client = createClient(target, { connections: spec.concurrency.connections });
  const statsClient = createClient(target, { connections: 1 });
  try {
    await probeTarget(statsClient, target, { needEdge: Boolean(spec.stats) });
    process.stderr.write(`load: ${scenario} → ${target.display}: ${spec.description}\n`);
    const result = await runScenario({
      scenario, spec, target, client, statsClient,
      signal: interruptSignal(),
      onProgress: (ms, t) => process.stderr.write(
        `load: ${Math.round(ms / 1000)}s  answered ${t.sent}  failed ${t.failed}  dropped ${t.dropped}${spec.stats ? `  /stats polls ${t.statsPolls}` : ''}\n`,
      ),
    });
    process.stdout.write(formatSummary(result));
    const path = writeResults(dir, result);
    process.stdout.write(`  results: ${path}\n`);
    return result.pass ? 0 : 1;
  } finally {
    await Promise.all([client.destroy(), statsClient.destroy()]);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError || e instanceof SettingsError || e instanceof TargetError) {
      process.stderr.write(`load: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`load: runner failed: ${e?.stack ?? e}\n`);
    process.exit(3);
  },
);
