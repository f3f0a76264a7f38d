/**
 * The sharded LMDB store: one environment (one file) per shard, named
 * <path>/<name>-NN.mdb. Keys are seq strings, values msgpack records, so key
 * order is seq order and the oldest message is always the first key.
 *
 * Every thread that touches the store (main, writers, forwarders) calls
 * openShards(); lmdb-js shares one environment per file inside a process.
 *
 * Durability: overlappingSync is off, so LMDB's commit itself syncs the data
 * and meta pages to disk, and an async write's promise resolves only after
 * that synced commit; see docs/durability.md (and decisions.md for the
 * measured reason: 0.33 ms per commit against 1.8 ms with overlappingSync
 * plus awaiting `flushed`).
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { checkLmdbHeader } from './lmdb-header.js';
import type { RecordFields } from './message.js';

export type Shard = RootDatabase<Buffer, string>;

export interface StoreLocation {
  path: string;
  name: string;
  shards: number;
}

export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

export function shardFile(loc: StoreLocation, index: number): string {
  return join(loc.path, `${loc.name}-${String(index).padStart(2, '0')}.mdb`);
}

/**
 * Create the directory and check it is writable; a clear error otherwise.
 * Components are created one at a time: Node 20's recursive mkdir loops
 * forever where mkdir answers ENOENT under an existing parent (/proc).
 */
export function prepareDirectory(path: string): void {
  const missing: string[] = [];
  let dir = resolve(path);
  try {
    while (!isDirectory(dir)) {
      missing.unshift(dir);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    for (const d of missing) mkdirSync(d);
    accessSync(path, constants.W_OK | constants.R_OK);
  } catch (e) {
    throw new StoreOpenError(`--path ${path} is not a writable directory: ${(e as Error).message}`);
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Refuse, before lmdb-js maps it, a file that is not an LMDB environment or
 * whose meta pages are damaged or point past its end (lmdb-header.ts): the
 * native open does not fail cleanly on such a file (it faults and takes the
 * process down), and the file must never be overwritten.
 */
function checkShardFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StoreOpenError(`${file} cannot be read: ${(e as Error).message}`);
  }
  try {
    const size = statSync(file).size;
    if (size === 0) return; // created but never initialised: LMDB sets it up
    // Two meta pages of the largest page size LMDB allows.
    const head = Buffer.alloc(Math.min(size, 2 * 65536));
    const n = readSync(fd, head, 0, head.length, 0);
    const verdict = checkLmdbHeader(head.subarray(0, n), size);
    if (!verdict.ok) {
      const what = verdict.foreign ? 'is not an LMDB shard' : 'is a damaged LMDB shard';
      throw new StoreOpenError(
        `${file} ${what} (${verdict.damage}); it is not touched: ` +
          'move it away (its messages cannot be read safely), or point --path/--name elsewhere',
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A shard whose values lmdb-js decodes itself (msgpack, read straight from
 * the memory map): for the forwarders, which read every record once and
 * would otherwise copy each into a Buffer only to unpack it.
 */
export type DecodedShard = RootDatabase<RecordFields, string>;

/**
 * Refuse to start when shard files beyond `--shards` hold messages: started
 * with fewer shards than a store was written with, those messages would sit
 * in files no thread opens, never delivered and never reported. A file past
 * the count that is empty (drained before the change) is no obstacle.
 */
export function refuseStrandedShards(loc: StoreLocation): void {
  const pattern = new RegExp(`^${loc.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d{2,})\\.mdb$`);
  const stranded: string[] = [];
  for (const entry of readdirSync(loc.path)) {
    const m = pattern.exec(entry);
    if (!m || Number(m[1]) < loc.shards) continue;
    const file = join(loc.path, entry);
    checkShardFile(file);
    const db = open<Buffer, string>({ path: file, noSubdir: true, encoding: 'binary', readOnly: true });
    try {
      const n = entryCount(db);
      if (n > 0) stranded.push(`${entry} (${n} messages)`);
    } finally {
      db.close();
    }
  }
  if (stranded.length > 0) {
    throw new StoreOpenError(
      `--shards ${loc.shards} leaves messages in ${stranded.join(', ')} that no forwarder would read; ` +
        `start with the --shards the store was written with until it drains, then change it`,
    );
  }
}

export function openShards(loc: StoreLocation): Shard[];
export function openShards(loc: StoreLocation, opts: { decode: true }): DecodedShard[];
export function openShards(loc: StoreLocation, opts: { decode?: boolean } = {}): Shard[] | DecodedShard[] {
  const shards: Shard[] = [];
  for (let i = 0; i < loc.shards; i++) {
    const file = shardFile(loc, i);
    try {
      checkShardFile(file);
      const db = open<Buffer, string>({
        path: file,
        noSubdir: true,
        // Writers store msgpack they encode themselves (encodeRecord); a
        // decoding reader lets lmdb-js unpack the same bytes in place.
        encoding: opts.decode ? 'msgpack' : 'binary',
        // The durability contract of a 200 (docs/durability.md): every commit
        // is synced before its promise resolves.
        noSync: false,
        overlappingSync: false,
        // Reads are of whole records that are then deleted; no value cache.
        cache: false,
      });
      shards.push(db);
    } catch (e) {
      for (const db of shards) db.close();
      if (e instanceof StoreOpenError) throw e;
      throw new StoreOpenError(
        `${file} cannot be opened as an LMDB shard (${(e as Error).message}); ` +
          'it is not touched: move it away if it is not a Spillway store',
      );
    }
  }
  return shards;
}

/** The highest seq held in any shard, or undefined for an empty store. */
export function highestSeq(shards: readonly Shard[]): string | undefined {
  let best: string | undefined;
  for (const db of shards) {
    for (const key of db.getKeys({ reverse: true, limit: 1 })) {
      if (best === undefined || key > best) best = key;
    }
  }
  return best;
}

export function entryCount(db: Shard): number {
  return (db.getStats() as { entryCount: number }).entryCount;
}

/** Bytes of pages the shard uses (what --max-bytes compares against). */
export function usedBytes(db: Shard): number {
  const s = db.getStats() as {
    pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number;
  };
  return s.pageSize * (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages);
}
