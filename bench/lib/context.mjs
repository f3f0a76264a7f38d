// What every scenario gets from the runner: the run's settings (quick or
// full), a scratch directory, the results it adds rows to, the /stats
// sampler for the timeline, and the rules for peers and for failures.
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT, tempDir } from '../../test/helpers/daemon.mjs';
import { sampleStats } from './timeline.mjs';

/** Settings of a quick (CI) and a full run. */
export function settingsFor(quick) {
  return quick
    ? { seconds: 5, steadySeconds: 8, warmSeconds: 1, ingestWarmSeconds: 2, connections: 64, deliveryN: 100_000, backlogN: 100_000, loaderWarmN: 20_000 }
    : { seconds: 30, steadySeconds: 20, warmSeconds: 3, ingestWarmSeconds: 5, connections: 64, deliveryN: 1_000_000, backlogN: 10_000_000, loaderWarmN: 100_000 };
}

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverageAtStart: loadavg()[0] };
}

export function createContext({ quick, only }) {
  const origin = performance.now();
  const results = {
    started: new Date().toISOString(), mode: quick ? 'quick' : 'full', machine: machine(),
    scenarios: {}, notRun: {}, failures: [], timeline: [], scenarioSeconds: {},
  };
  const ctx = {
    quick,
    only,
    ci: Boolean(process.env.CI),
    settings: settingsFor(quick),
    work: tempDir('spillway-bench-'),
    root: ROOT,
    results,
    log: (...a) => console.error('[bench]', ...a),
    /** Add a row. */
    row(name, value) {
      results.scenarios[name] = value;
      return value;
    },
    notRun(name, reason) {
      results.notRun[name] = reason;
      ctx.log(`not run: ${name}: ${reason}`);
    },
    /** A lost or duplicated message, or (under CI) a peer that cannot be built: the bench fails at the end. */
    fail(reason) {
      results.failures.push(reason);
      ctx.log(`FAILURE: ${reason}`);
    },
    /** Run `fn` while sampling `url`'s /stats into the timeline as `name`. */
    async sampled(url, name, fn) {
      const stop = sampleStats(url, name, results.timeline, origin);
      try {
        return await fn();
      } finally {
        await stop();
      }
    },
    dir: (name) => join(ctx.work, name),
  };
  return ctx;
}
