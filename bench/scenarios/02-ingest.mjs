// Ingest alone: one edge whose stage is unreachable, so its forwarders idle
// in backoff and each row is the cost of accepting and durably storing.
// Rows: the 134 B steady-state body and the 300 B event from a fleet of 1000
// terminals, one hot key, about half the full rate, light load, 8 KB bodies,
// and /rxb batches.
import { removeDir, startDaemon, stats } from '../../test/helpers/daemon.mjs';
import { compactPosEventJson, largeEventJson, ndjsonOf, posEventJson } from '../../load/lib/payload.mjs';
import { measure } from '../lib/proc.mjs';
import { runWrk } from '../lib/wrk.mjs';

export const title = 'ingest only (stage unreachable)';

export async function run(ctx) {
  const { seconds, ingestWarmSeconds, connections } = ctx.settings;
  const dir = ctx.dir('ingest');
  const edge = await startDaemon('edge', ['--path', dir, '--maxq', '100000000', '--ingest', 'http://127.0.0.1:9/in', '--retry-max', '5', '--log-level', 'warn']);
  try {
    const wrkRow = async (name, opts) => {
      ctx.log(name);
      const load = () => runWrk({ seconds, connections, dir: ctx.work, ...opts, url: edge.url + opts.path });
      // The clock (and the CPU window) ends when wrk ends, inside the sampler.
      const m = await ctx.sampled(edge.url, name, () => measure(edge.child.pid, load));
      const { raw, ...r } = m.result;
      const perRequest = opts.messagesPerRequest ?? 1;
      const acknowledged = (r.requests - r.non2xx) * perRequest;
      return ctx.row(name, {
        // wrk's req/s counts refusals too; messages/s counts only acknowledged requests.
        kind: 'ingest', ...r, messagesPerSecond: (r.rps * (r.requests - r.non2xx)) / Math.max(1, r.requests) * perRequest,
        connections: opts.connections ?? connections, cpuCores: m.cpuCores,
        cpuPerMessageUs: acknowledged ? (m.cpuCores * m.wallSeconds * 1e6) / acknowledged : undefined,
        peakRssMiB: m.peakRssMiB, anonRssMiB: m.anonRssMiB, bodyBytes: Buffer.byteLength(opts.body) / perRequest,
      });
    };
    // A fresh daemon's first seconds are slower (JIT, worker start, the store
    // files growing); warm it up unmeasured, as the ceiling is.
    ctx.log('warm-up (not measured)');
    await runWrk({ seconds: ingestWarmSeconds, connections, dir: ctx.work, url: `${edge.url}/rx/pos/till-{n}/sale`, fleet: 1000, body: posEventJson(0) });
    const fleet = { path: '/rx/pos/till-{n}/sale', fleet: 1000 };
    await wrkRow('spillway /rx (134 B)', { ...fleet, body: compactPosEventJson(0) });
    const full = await wrkRow('spillway /rx (300 B)', { ...fleet, body: posEventJson(0) });
    await wrkRow('spillway /rx one hot key', { path: '/rx/pos/till/sale', body: posEventJson(0) });
    // The p99 target is "at half that rate": the same connections, each
    // pausing between requests (wrk's delay(), whole ms) so the total comes
    // to about half the rate just measured: a first guess, then one correction.
    const target = full.rps / 2;
    let delayMs = Math.max(1, Math.round((connections / target) * 1000 - full.latencyMs.p50 / 2));
    let half = await wrkRow('spillway /rx at about half rate', { ...fleet, body: posEventJson(0), delayMs });
    if (Math.abs(half.rps / target - 1) > 0.1) {
      const latency = (connections / half.rps) * 1000 - delayMs;
      delayMs = Math.max(1, Math.round((connections / target) * 1000 - latency));
      half = await wrkRow('spillway /rx at about half rate', { ...fleet, body: posEventJson(0), delayMs });
    }
    Object.assign(half, { delayMs, ofFullRate: half.rps / full.rps });
    await wrkRow('spillway /rx light load', { ...fleet, body: posEventJson(0), connections: 4 });
    await wrkRow('spillway /rx (8 KB)', { path: '/rx/iot/sensor-{n}/reading', fleet: 1000, body: largeEventJson(0) });
    await wrkRow('spillway /rxb (100 × 300 B)', { ...fleet, path: '/rxb/pos/till-{n}/sale', body: ndjsonOf(100), messagesPerRequest: 100, connections: 16 });
    await wrkRow('spillway /rxb (1000 × 300 B)', { ...fleet, path: '/rxb/pos/till-{n}/sale', body: ndjsonOf(1000), messagesPerRequest: 1000, connections: 8 });
    full.daemonAckMs = (await stats(edge.url)).edge.ackLatencyMs;
  } finally {
    await edge.kill();
    removeDir(dir);
  }
}
