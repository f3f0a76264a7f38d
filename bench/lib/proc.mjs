// CPU time and peak RSS of a process, from /proc.
import { readFileSync } from 'node:fs';

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
