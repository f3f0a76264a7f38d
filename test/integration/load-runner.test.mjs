// The load runner (load/run.mjs) end to end: real edges (forwarding to a
// port where nothing listens, so every acknowledged message stays stored and
// /stats counts it), the runner as a child process, its exit code, its
// summary and its results file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, freePort, removeDir, runProcess, startDaemon, stats, tempDir } from '../helpers/daemon.mjs';

const RUNNER = join(ROOT, 'load', 'run.mjs');

// Variables the runner reads: the caller's shell must not leak into a test.
const RUNNER_VARS = /^(SPILLWAY_URL|SPILLWAY_LOAD_RESULTS|RATE|BASE_RATE|DURATION|ROUTE|P99_MS|SPIKE_P99_MS|MAX_ERROR_RATE|MAX_DROPPED|TIMEOUT|FLEET|PRODUCER|LABEL|VUS|MAX_VUS|MAX_INFLIGHT|CONNECTIONS|RUNNER_WARMUP|BATCH_LINES|GZIP|SPIKE_FACTOR|STATS_EVERY|STATS_WARMUP|LAG_P95_S|LAG_ABORT_S|MAX_IN_QUEUE)$/;

/** Run `node load/run.mjs ...args` with `env`: { code, signal, stdout, stderr }. */
function runLoad(args, env, timeoutMs = 20_000) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !RUNNER_VARS.test(k)));
  return runProcess(process.execPath, [RUNNER, ...args], { env: { ...base, ...env }, timeoutMs });
}

const shown = (r) => `exit ${r.code} ${r.signal ?? ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** The one results file in `dir`, parsed, with its name. */
function onlyResult(dir, scenario) {
  const files = readdirSync(dir);
  assert.equal(files.length, 1, `expected one results file, found ${files.join(', ') || 'none'}`);
  assert.match(files[0], new RegExp(`^load-${scenario}-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.json$`));
  return JSON.parse(readFileSync(join(dir, files[0]), 'utf8'));
}

/** An edge that stores and never delivers (its stage URL refuses connections). */
async function storingEdge(dirs) {
  const dir = tempDir('spillway-load-edge-');
  dirs.push(dir);
  return startDaemon('edge', ['--path', dir, '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'warn']);
}

describe('load runner against a real edge', () => {
  const dirs = [];
  const daemons = [];
  let edge;

  /** A fresh, empty results directory for one run. */
  const resultsDir = () => {
    const d = tempDir('spillway-load-results-');
    dirs.push(d);
    return d;
  };

  before(async () => {
    edge = await storingEdge(dirs);
    daemons.push(edge);
  });

  after(async () => {
    for (const d of daemons) await d.kill();
    for (const d of dirs) removeDir(d);
  });

  test('ingest: 200/s for 3 s is 600 requests, all stored by the edge, exit 0', async () => {
    const out = resultsDir();
    const received = (await stats(edge.url)).edge.received;
    // P99_MS is loose on purpose: this test is about the runner, and other
    // test files may share the CPU (the failing path has its own test).
    const r = await runLoad(['ingest'], { SPILLWAY_URL: edge.url, RATE: '200', DURATION: '3s', P99_MS: '500', SPILLWAY_LOAD_RESULTS: out });
    assert.equal(r.code, 0, shown(r));

    const result = onlyResult(out, 'ingest');
    const q = result.metrics.requests;
    assert.equal(result.plannedArrivals, 600);
    assert.equal(q.sent, 600, shown(r));
    assert.equal(q.ok, 600);
    assert.equal(q.failed, 0, JSON.stringify(q.failures));
    assert.equal(q.dropped, 0);
    assert.ok(result.metrics.elapsedSeconds >= 3 && result.metrics.elapsedSeconds < 5, `elapsed ${result.metrics.elapsedSeconds}`);
    assert.ok(q.perSecond > 150 && q.perSecond <= 201, `achieved ${q.perSecond}/s`);
    const l = result.metrics.latencyMs;
    assert.equal(l.count, 600);
    assert.ok(l.p50 > 0 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, JSON.stringify(l));
    assert.equal(result.pass, true);
    assert.deepEqual(result.thresholds.map((t) => [t.label, t.pass]), [['failed requests', true], ['latency p99', true], ['dropped arrivals', true]]);
    assert.equal(result.settings.RATE, 200);
    assert.equal(result.target, edge.url);

    // The edge acknowledged and stored exactly what was sent: /stats counts it.
    const s = (await stats(edge.url)).edge;
    assert.equal(s.received - received, 600, 'edge.received did not grow by the 600 requests');
    assert.ok(s.inQueue >= 600, `edge.inQueue ${s.inQueue}: the messages are not held`);

    assert.match(r.stdout, /sent 600 {2}ok 600 {2}failed 0 {2}dropped 0/);
    assert.match(r.stdout, /latency +p50 [\d.]+ ms {2}p90 [\d.]+ ms {2}p99 [\d.]+ ms {2}p99\.9 [\d.]+ ms {2}max [\d.]+ ms/);
    assert.match(r.stdout, /pass {2}latency p99 < 500 ms +measured [\d.]+ ms/);
    assert.match(r.stdout, /result: PASS/);
  });

  test('batch: 5 batches/s of 100 lines for 2 s, every line counted', async () => {
    const out = resultsDir();
    const received = (await stats(edge.url)).edge.received;
    const r = await runLoad(['batch'], { SPILLWAY_URL: edge.url, RATE: '5', BATCH_LINES: '100', DURATION: '2s', P99_MS: '2000', SPILLWAY_LOAD_RESULTS: out });
    assert.equal(r.code, 0, shown(r));
    const result = onlyResult(out, 'batch');
    assert.deepEqual([result.metrics.requests.sent, result.metrics.requests.failed, result.metrics.requests.dropped], [10, 0, 0]);
    assert.deepEqual(result.metrics.messages.sent, 1000);
    assert.deepEqual(result.metrics.messages.acked, 1000, 'the acks\' count fields do not add up to the lines sent');
    assert.equal((await stats(edge.url)).edge.received - received, 1000);
    assert.match(r.stdout, /messages +sent 1,000 {2}acked 1,000/);
  });

  test('spike: baseline, spike and recovery phases each measured', async () => {
    const out = resultsDir();
    const r = await runLoad(['spike'], {
      SPILLWAY_URL: edge.url, BASE_RATE: '40', SPIKE_FACTOR: '5', DURATION: '2s', P99_MS: '500', SPIKE_P99_MS: '500',
      RUNNER_WARMUP: '0', SPILLWAY_LOAD_RESULTS: out,
    });
    assert.equal(r.code, 0, shown(r));
    const result = onlyResult(out, 'spike');
    // 40/s × (0.4 + 0.9 s) + 200/s × 0.5 s + 120/s × 0.2 s of ramps = 52 + 100 + 24
    assert.equal(result.plannedArrivals, 176);
    assert.equal(result.metrics.requests.sent, 176);
    const p = result.metrics.phases;
    assert.deepEqual([p.baseline.sent, p.spike.sent, p.recovery.sent], [16, 112, 48]);
    assert.ok(result.thresholds.every((t) => t.pass));
    assert.match(r.stdout, /spike +112 sent, 0 failed/);
  });

  test('a threshold that cannot be met (P99_MS=0.001) exits 1, with the results written', async () => {
    const out = resultsDir();
    const r = await runLoad(['ingest'], { SPILLWAY_URL: edge.url, RATE: '50', DURATION: '1s', P99_MS: '0.001', RUNNER_WARMUP: '0', SPILLWAY_LOAD_RESULTS: out });
    assert.equal(r.code, 1, shown(r));
    const result = onlyResult(out, 'ingest');
    assert.equal(result.pass, false);
    const p99 = result.thresholds.find((t) => t.metric === 'latencyMs.p99');
    assert.equal(p99.pass, false);
    assert.ok(p99.value > 0.001);
    assert.ok(result.thresholds.filter((t) => t !== p99).every((t) => t.pass), 'only the latency bound failed');
    assert.equal(result.metrics.requests.failed, 0);
    assert.match(r.stdout, /FAIL {2}latency p99 < 0\.001 ms/);
  });

  test('soak: /stats sampled every second after the warm-up; backlog thresholds pass', async () => {
    // Its own edge, so the backlog it sees is this run's and not the earlier tests'.
    const fresh = await storingEdge(dirs);
    daemons.push(fresh);
    const out = resultsDir();
    const r = await runLoad(['soak'], {
      SPILLWAY_URL: fresh.url, RATE: '100', DURATION: '4s', STATS_EVERY: '1s', STATS_WARMUP: '1s', P99_MS: '500', SPILLWAY_LOAD_RESULTS: out,
    });
    assert.equal(r.code, 0, shown(r));
    const result = onlyResult(out, 'soak');
    assert.equal(result.metrics.requests.sent, 400);
    const s = result.metrics.stats;
    assert.deepEqual([s.polls, s.ok, s.failed], [3, 3, 0], 'polls at 1, 2 and 3 s');
    assert.ok(s.inQueue.min > 0 && s.inQueue.max <= 400, `inQueue ${JSON.stringify(s.inQueue)}`);
    assert.ok(s.inQueue.last > s.inQueue.min, 'the backlog grows: nothing is delivered');
    assert.ok(s.oldestAgeSeconds.max > 0.5 && s.oldestAgeSeconds.max < 30, `oldest ${JSON.stringify(s.oldestAgeSeconds)}`);
    const labels = result.thresholds.map((t) => t.label);
    for (const l of ['oldest held message p95', 'oldest held message max', 'messages held (inQueue) p95', '/stats answered with an edge section']) {
      assert.ok(labels.includes(l), `no threshold "${l}"`);
    }
    assert.ok(result.thresholds.every((t) => t.pass));
    assert.match(r.stdout, /oldestAgeSeconds p50 [\d.]+ s/);
  });

  test('soak aborts at once when the oldest held message passes LAG_ABORT_S, exit 1', async () => {
    const out = resultsDir();
    const t0 = Date.now();
    // The shared edge holds everything the earlier tests sent, seconds old by now.
    const r = await runLoad(['soak'], {
      SPILLWAY_URL: edge.url, RATE: '50', DURATION: '30s', STATS_EVERY: '1s', STATS_WARMUP: '1s', LAG_ABORT_S: '0.5',
      RUNNER_WARMUP: '0', SPILLWAY_LOAD_RESULTS: out,
    });
    assert.equal(r.code, 1, shown(r));
    assert.ok(Date.now() - t0 < 10_000, 'the run did not stop early');
    const result = onlyResult(out, 'soak');
    assert.match(result.aborted, /edge\.oldestAgeSeconds [\d.]+ > LAG_ABORT_S 0\.5/);
    assert.ok(result.metrics.requests.sent < 1500, `sent ${result.metrics.requests.sent} of 1500 planned`);
    assert.equal(result.thresholds.find((t) => t.metric === 'stats.oldestAgeSeconds.max').pass, false);
    assert.match(r.stdout, /ABORTED: edge\.oldestAgeSeconds/);
  });

  test('bad settings exit 2 with one line naming the variable, and write nothing', async () => {
    const cases = [
      [['ingest'], { RATE: 'abc' }, /RATE=abc/],
      [['ingest'], { DURATION: '5x' }, /DURATION=5x/],
      [['ingest'], { RATE: '-5' }, /RATE=-5/],
      [['ingest'], { ROUTE: 'rxb' }, /ROUTE=rxb/],
      [['batch'], { BATCH_LINES: 'lots' }, /BATCH_LINES=lots/],
      [['soak'], { DURATION: '5s', STATS_WARMUP: '5s' }, /STATS_WARMUP/],
      [['ingest', 'RATE=abc'], {}, /RATE=abc/],
      [['nosuch'], {}, /unknown scenario nosuch/],
      [[], {}, /name a scenario/],
      [['ingest', '--rate=5'], {}, /unknown option --rate=5/],
    ];
    for (const [args, env, pattern] of cases) {
      const out = resultsDir();
      const r = await runLoad(args, { SPILLWAY_URL: edge.url, SPILLWAY_LOAD_RESULTS: join(out, 'results'), ...env });
      const what = `${args.join(' ')} ${JSON.stringify(env)}`;
      assert.equal(r.code, 2, `${what}: ${shown(r)}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${what}: stderr is not one line:\n${r.stderr}`);
      assert.match(lines[0], pattern, what);
      assert.ok(!existsSync(join(out, 'results')), `${what}: the results directory was created`);
      assert.equal(r.stdout, '', what);
    }
  });

  test('an unreachable SPILLWAY_URL exits 2 at the probe, before any load, and writes nothing', async () => {
    const out = resultsDir();
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runLoad(['ingest'], { SPILLWAY_URL: url, SPILLWAY_LOAD_RESULTS: out });
    assert.equal(r.code, 2, shown(r));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot reach ${url.replace(/[.]/g, '\\.')} \\(ECONNREFUSED\\); set SPILLWAY_URL`));
    assert.deepEqual(readdirSync(out), []);
  });

  test('--help lists every scenario and exits 0', async () => {
    const r = await runLoad(['--help'], {});
    assert.equal(r.code, 0, shown(r));
    for (const name of ['ingest', 'batch', 'spike', 'soak', 'SPIKE_FACTOR', 'LAG_ABORT_S', 'BATCH_LINES', 'MAX_INFLIGHT']) {
      assert.match(r.stdout, new RegExp(name));
    }
  });
});
