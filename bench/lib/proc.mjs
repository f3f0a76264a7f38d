// CPU time and peak RSS of a process, from /proc.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers/daemon.mjs';

const TICKS = 100; // USER_HZ on Linux

export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  // RssFile is mostly LMDB's memory map (page cache the kernel can reclaim);
  // RssAnon is the process's own memory (heaps, buffers).
  return { rssMiB: kb('VmRSS') / 1024, peakRssMiB: kb('VmHWM') / 1024, anonRssMiB: kb('RssAnon') / 1024, fileRssMiB: kb('RssFile') / 1024 };
}

/** Measure CPU (cores used on average) of `pid` while `fn` runs. */
export async function measure(pid, fn) {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  return { result, cpuCores: (cpuSeconds(pid) - c0) / wall, ...memory(pid) };
}

/** The local Elasticsearch's pid (scripts/es.sh pid), or undefined. */
export function elasticsearchPid() {
  try {
    return Number(execFileSync('bash', [join(ROOT, 'scripts', 'es.sh'), 'pid'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A CPU meter over several processes: start() now, read() later gives the
 * cores each used on average in between. `self` counts this process
 * (process.cpuUsage), for work done in the bench itself (the direct loader).
 */
export function cpuMeter(pids) {
  const named = Object.entries(pids).filter(([, pid]) => pid);
  const c0 = Object.fromEntries(named.map(([k, pid]) => [k, pid === 'self' ? selfSeconds() : cpuSeconds(pid)]));
  const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    return Object.fromEntries(named.map(([k, pid]) => {
      const now = pid === 'self' ? selfSeconds() : cpuSeconds(pid);
      return [k, Math.round(((now - c0[k]) / wall) * 100) / 100];
    }));
  };
}

function selfSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
