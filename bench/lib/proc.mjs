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
  return { result, wallSeconds: wall, cpuCores: (cpuSeconds(pid) - c0) / wall, ...memory(pid) };
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

/**
 * CPU seconds of a row's processes (all threads of each: /proc/<pid>/stat
 * counts every thread's utime and stime) between start and read(): read()
 * gives { seconds: { name: cpu-seconds }, total, wall } over the window from
 * this call, or from `since` (performance.now() ms) when given.
 */
export function processMeter(pids) {
  const named = Object.entries(pids).filter(([, pid]) => pid);
  const c0 = Object.fromEntries(named.map(([k, pid]) => [k, cpuSecondsOrZero(pid)]));
  return {
    read() {
      const seconds = Object.fromEntries(named.map(([k, pid]) => [k, cpuSecondsOrZero(pid) - c0[k]]));
      return { seconds, total: Object.values(seconds).reduce((a, b) => a + b, 0) };
    },
    /** Peak RSS (VmHWM) of each process, MiB, and their sum. */
    peakRss() {
      const each = Object.fromEntries(named.map(([k, pid]) => [k, memoryOrZero(pid).peakRssMiB]));
      return { each, total: Object.values(each).reduce((a, b) => a + b, 0) };
    },
  };
}

function cpuSecondsOrZero(pid) {
  try {
    return pid === 'self' ? selfSeconds() : cpuSeconds(pid);
  } catch {
    return 0; // the process is gone
  }
}

function memoryOrZero(pid) {
  try {
    return memory(pid);
  } catch {
    return { peakRssMiB: 0 };
  }
}
