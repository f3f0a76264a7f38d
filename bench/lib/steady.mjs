// One steady-state row: wrk posts at full rate (or paced) while the system
// forwards, and the row is measured from the first POST until the last
// acknowledged message is delivered downstream (issue 9):
//
//   ingest req/s        wrk's rate over its own run
//   sustained msg/s     acknowledged ÷ (first POST → last acknowledged message delivered)
//   CPU per message     utime+stime of every thread of the row's daemon processes
//                       (/proc/<pid>/stat) over that same window ÷ acknowledged
//   p50/p99/p99.9 ack   wrk's latency histogram
//   peak RSS            VmHWM of the row's daemon processes, summed
//
// Before the measured run an unmeasured warm-up (wrk for `warmSeconds`) goes
// through the same pipeline and is waited out, so a fresh daemon's first
// seconds (JIT, thread start, files growing) are not in the figures; the
// warm-up's messages are in the exactly-once check all the same.
//
// A system is what a scenario starts:
//   { url, path, pids: {name: pid}, delivered(): count so far (monotonic),
//     arrivals?(): Map uuid → copies or { copies, atMs }, namesAcks: bool,
//     pollMs, promise: what a 2xx promises, downstream: where it delivers }
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareSets, countCopies, describeComparison, uuidsOfAnswers } from '../../load/lib/ledger.mjs';
import { processMeter } from './proc.mjs';
import { runWrk } from './wrk.mjs';

const epochNow = () => performance.timeOrigin + performance.now();

/** Wait until `check()` is truthy; polls every `everyMs`; throws after `timeoutMs` with `what`. */
export async function until(what, check, { timeoutMs, everyMs = 25 }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function readAcks(file) {
  return uuidsOfAnswers(readFileSync(file, 'utf8'));
}

/**
 * Run one steady row against `system`. `load` = { seconds, connections,
 * body, fleet, delayMs }. Returns the row object (kind 'steady').
 */
export async function steadyRow(ctx, name, system, { seconds, warmSeconds, connections = 64, body, fleet = 1000, delayMs = 0, drainTimeoutMs = 600_000 }) {
  const wrkOpts = { url: system.url + system.path, body, fleet, connections, dir: ctx.work, delayMs };
  // The system's ledger spans every row run on it (a half-rate row after a
  // full-rate one): what arrived downstream is compared with all of it.
  system.ledger ??= { acked: new Set(), unnamed: 0, wrkRuns: 0 };
  const { acked } = system.ledger;
  let unnamed = system.ledger.unnamed;
  const pollMs = system.pollMs ?? 25;

  // ---- warm-up, waited out
  if (warmSeconds > 0) {
    const before = await system.delivered();
    const file = join(ctx.work, `acks-warm-${Math.random().toString(36).slice(2)}.txt`);
    await runWrk({ ...wrkOpts, seconds: warmSeconds, acksFile: file });
    system.ledger.wrkRuns++;
    const w = readAcks(file);
    for (const u of w.named) acked.add(u);
    unnamed += w.unnamed;
    const want = before + w.named.length + w.unnamed;
    await until(`${name}: the warm-up to be delivered`, async () => (await system.delivered()) >= want, { timeoutMs: drainTimeoutMs, everyMs: 100 });
  }

  // ---- measured run
  const base = await system.delivered();
  const meter = processMeter(system.pids);
  // Elasticsearch's CPU over the same window, beside (not in) the daemon's: a
  // row that makes Elasticsearch work harder shows it here.
  const esMeter = system.esPid ? processMeter({ elasticsearch: system.esPid }) : undefined;
  const file = join(ctx.work, `acks-${Math.random().toString(36).slice(2)}.txt`);
  const startEpoch = epochNow();
  const t0 = performance.now();
  const run = async () => {
    const r = await runWrk({ ...wrkOpts, seconds, acksFile: file });
    system.ledger.wrkRuns++;
    const ingestSeconds = (performance.now() - t0) / 1000;
    const a = readAcks(file);
    const measuredAcked = a.named.length + a.unnamed;
    // The clock stops when the last acknowledged message is delivered: the
    // first poll that sees the count; the CPU is read at that same moment.
    await until(`${name}: ${measuredAcked} messages to be delivered`, async () => (await system.delivered()) - base >= measuredAcked, { timeoutMs: drainTimeoutMs, everyMs: pollMs });
    const seenAt = performance.now();
    const cpu = meter.read();
    const esCpu = esMeter?.read();
    return { r, a, measuredAcked, ingestSeconds, seenAt, cpu, esCpu };
  };
  const { r, a, measuredAcked, ingestSeconds, seenAt, cpu, esCpu } = system.sampleStatsOf ? await ctx.sampled(system.sampleStatsOf, name, run) : await run();
  for (const u of a.named) acked.add(u);
  unnamed += a.unnamed;
  system.ledger.unnamed = unnamed;
  // Each wrk run may cut `connections` requests short, answered but never read.
  const extraAllowed = system.ledger.wrkRuns * connections;
  const peak = meter.peakRss();

  // ---- exactly once: the set acknowledged against the set that arrived
  let exactly;
  let windowMs = seenAt - t0;
  let clock = `first POST → first ${pollMs} ms poll that saw the last message delivered`;
  if (system.arrivals) {
    let arrivals = await system.arrivals();
    // A count can reach its target early when an unacknowledged extra (a
    // request wrk cut short) arrived: wait for the acknowledged set itself.
    if (system.namesAcks) {
      const missingNow = () => [...acked].some((u) => !arrivals.has(u));
      const deadline = performance.now() + 60_000;
      while (missingNow() && performance.now() < deadline) {
        await new Promise((res) => setTimeout(res, 250));
        arrivals = await system.arrivals();
      }
    }
    const copies = new Map([...arrivals].map(([u, v]) => [u, typeof v === 'number' ? v : v.copies]));
    if (system.namesAcks) {
      exactly = compareSets(acked, copies, { extraAllowed });
      let last = 0;
      let stamped = 0;
      for (const u of a.named) {
        const at = arrivals.get(u)?.atMs;
        if (at === undefined) continue;
        stamped++;
        if (at > last) last = at;
      }
      if (stamped === a.named.length && stamped > 0) {
        // The stage stamped each first arrival: the exact end of the window.
        windowMs = last - startEpoch;
        clock = 'first POST → the stage\'s arrival stamp of the last acknowledged message';
      }
    } else {
      // The answers name no message (rxtx answers {"status":"OK"}): compare counts, and count repeats.
      const dup = [...copies.values()].filter((n) => n > 1).length;
      const acknowledged = acked.size + unnamed;
      const missingCount = Math.max(0, acknowledged - copies.size);
      const extraCount = Math.max(0, copies.size - acknowledged);
      exactly = {
        unnamed: true, acknowledged, arrived: [...copies.values()].reduce((x, y) => x + y, 0),
        distinct: copies.size, duplicatedCount: dup, missingCount, extraCount,
        exact: missingCount === 0 && dup === 0 && extraCount <= extraAllowed,
      };
    }
  } else {
    // Nothing names the messages downstream (Fluent Bit's documents): compare counts.
    const arrived = await system.delivered();
    const acknowledged = acked.size + unnamed;
    const extraCount = Math.max(0, arrived - acknowledged);
    exactly = { unnamed: true, acknowledged, arrived, missingCount: Math.max(0, acknowledged - arrived), duplicatedCount: 0, extraCount, exact: arrived >= acknowledged && extraCount <= extraAllowed };
  }
  const seconds_ = windowMs / 1000;
  const wallSeconds = (seenAt - t0) / 1000;
  return {
    kind: 'steady',
    downstream: system.downstream,
    promise: system.promise,
    rps: r.rps,
    requests: r.requests,
    non2xx: r.non2xx,
    socketErrors: r.socketErrors,
    latencyMs: r.latencyMs,
    acked: measuredAcked,
    ingestSeconds,
    seconds: seconds_,
    sustainedPerSecond: measuredAcked / seconds_,
    clock,
    cpuSeconds: cpu.seconds,
    cpuCores: cpu.total / wallSeconds,
    cpuPerMessageUs: (cpu.total / measuredAcked) * 1e6,
    elasticsearchCores: esCpu ? esCpu.total / wallSeconds : undefined,
    peakRssMiB: peak.total,
    peakRssEachMiB: peak.each,
    delayMs: delayMs || undefined,
    exactly,
    exactlyOnce: exactly ? (exactly.unnamed ? `${exactly.exact ? 'counts match' : 'counts differ'} (answers name no message)` : describeComparison(exactly)) : 'not checked',
    ...(system.describe ? { system: system.describe } : {}),
  };
}

/** Exactly-once verdict of a row for the bench's exit code: undefined when fine, else why. */
export function lossOrDuplicate(name, row, { spillwayAnswers }) {
  const e = row.exactly;
  if (!e || !spillwayAnswers) return undefined;
  if (e.missingCount || e.duplicatedCount || !e.exact) return `${name}: ${describeComparison(e)} (of ${e.acknowledged} acknowledged)`;
  return undefined;
}

export { countCopies };
