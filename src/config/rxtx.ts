/**
 * What rxtx's command line means in Spillway: the defaults of `spillway rxtx`
 * (the alias that behaves as the Go rxtx does), how rxtx's -path prefix maps
 * to Spillway's data directory, and the detection of an rxtx bbolt queue left
 * at that prefix (Spillway does not read bbolt; see docs/migrating.md).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Config } from './options.js';

/** rxtx.go's flag defaults, used by `spillway rxtx` in place of Spillway's. */
export const RXTX_DEFAULTS: Partial<Record<keyof Config, unknown>> = {
  port: 8080,
  path: './',
  interval: 60,
  batch: 100,
  maxq: 100_000,
};

/** bbolt's meta page magic (little-endian uint32 after the 16-byte page header). */
const BBOLT_MAGIC = 0xed0cdaed;

/**
 * rxtx opens `<path>rxtx.db`, joining -path and the file name by string
 * concatenation. Spillway treats --path as a directory (a trailing slash is
 * optional) and keeps its shard files in it. The places an rxtx queue for
 * this -path may be: rxtx's own (the concatenation) and, when -path has no
 * trailing slash, the file inside the directory as well.
 */
export function rxtxDataFiles(path: string): string[] {
  const files = [`${path}rxtx.db`];
  if (!path.endsWith('/')) files.push(`${path}/rxtx.db`);
  return files;
}

export interface RxtxData {
  file: string;
  bytes: number;
  bbolt: boolean;
}

/** An rxtx queue file at the -path prefix, if there is one. */
export function findRxtxData(path: string): RxtxData | undefined {
  for (const file of rxtxDataFiles(path)) {
    let st;
    try {
      st = statSync(file);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    let bbolt = false;
    try {
      const fd = openSync(file, 'r');
      try {
        const head = Buffer.alloc(20);
        if (readSync(fd, head, 0, 20, 0) === 20) bbolt = head.readUInt32LE(16) === BBOLT_MAGIC;
      } finally {
        closeSync(fd);
      }
    } catch {}
    return { file, bytes: st.size, bbolt };
  }
  return undefined;
}

/** The one warning line for an rxtx queue file found at start. */
export function rxtxDataWarning(d: RxtxData): string {
  return (
    `found rxtx's ${d.bbolt ? 'bbolt ' : ''}queue file ${d.file} (${d.bytes} bytes): Spillway does not read it, ` +
    'so messages still queued in it are not forwarded; drain it with the Go rxtx until rxtx_messages_in_queue is 0, ' +
    'then remove the file (docs/migrating.md)'
  );
}

/** The directory Spillway uses for an rxtx -path, and a warning when rxtx would have used another place. */
export function rxtxPathDirectory(path: string): { dir: string; warning?: string } {
  if (path === '' || path.endsWith('/')) return { dir: path === '' ? '.' : path.replace(/\/+$/, '') || '/' };
  return {
    dir: path,
    warning:
      `-path ${path} has no trailing slash: rxtx would have written ${path}rxtx.db beside it; ` +
      `Spillway keeps its shard files inside the directory ${path}/`,
  };
}
