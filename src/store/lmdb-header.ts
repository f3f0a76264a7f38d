/**
 * A check of an LMDB file's two meta pages, in JavaScript, before lmdb-js
 * maps the file. LMDB trusts its meta pages: a root page number past the end
 * of a truncated file, or garbage in a meta page that still carries the
 * magic, makes the native code fault (SIGBUS, SIGSEGV) and the whole daemon
 * die without a word, again at every restart. Checked here, the same damage
 * is a clear start-up error naming the file, which is left untouched.
 *
 * What it cannot see: LMDB has no page checksums, so a data page damaged in
 * place behind a sound meta page is not detected before it is read.
 *
 * Layout (the LMDB that lmdb-js 3 builds, dependencies/lmdb/.../mdb.c): a
 * 24-byte page header (pgno u64 first, flags u16 at 18), then MDB_meta:
 * magic u32, version u32, address u64, mapsize u64, two MDB_db of 48 bytes
 * (free pages, main), last_pg u64, txnid u64. MDB_db: pad u32 (the page
 * size, in the first one), flags u16, depth u16, branch, leaf and overflow
 * page counts, entries and root, each u64.
 */

const LMDB_MAGIC = 0xbeefc0de;
const PAGE_HEADER = 24;
const P_META = 0x08;
const P_INVALID = 0xffffffffffffffffn;
/** The data version lmdb-js 3 writes; another version has a layout this does not know. */
const KNOWN_VERSION = 2;
const MAX_DEPTH = 64;

interface Tree {
  root: bigint;
  /** Branch, leaf and overflow pages. */
  pages: bigint;
}

export interface MetaPage {
  txnid: bigint;
  lastPage: bigint;
  pageSize: number;
  trees: { free: Tree; main: Tree };
}

/**
 * Sound (with the current meta page when the layout is known), or what is
 * wrong: `foreign` when the file is not LMDB of this build at all, else damaged.
 */
export type HeaderVerdict = { ok: true; current?: MetaPage } | { ok: false; foreign: boolean; damage: string };

/**
 * `head`: the first bytes of the file (at least two pages of the largest
 * page size, 2 × 64 KiB, or the whole file if shorter); `fileSize` in bytes.
 */
export function checkLmdbHeader(head: Buffer, fileSize: number): HeaderVerdict {
  if (head.length < PAGE_HEADER + 8 || head.readUInt32LE(PAGE_HEADER) !== LMDB_MAGIC) {
    // Upstream LMDB's page header is 16 bytes: such a file is LMDB, but not
    // in the layout of the LMDB that lmdb-js builds.
    if (head.length >= 20 && head.readUInt32LE(16) === LMDB_MAGIC) {
      return { ok: false, foreign: true, damage: 'an LMDB file of another build (16-byte page header), which lmdb-js cannot open' };
    }
    return { ok: false, foreign: true, damage: 'no LMDB magic in its first page' };
  }
  // Another LMDB build's layout: lmdb-js itself refuses a version it does not know.
  if (head.readUInt32LE(PAGE_HEADER + 4) !== KNOWN_VERSION) return { ok: true };

  const pageSize = head.readUInt32LE(PAGE_HEADER + 24);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    return { ok: false, foreign: false, damage: `its first meta page gives a page size of ${pageSize}` };
  }
  if (fileSize < 2 * pageSize || head.length < 2 * pageSize) {
    return { ok: false, foreign: false, damage: `it is truncated: ${fileSize} bytes, less than its two meta pages of ${pageSize}` };
  }
  // The file may legitimately end before last_pg: pages allocated at the end
  // and freed in the same transaction are never written (mdb.c says so, and
  // chaos scenario 9 makes such a file on a full disk). Every page a tree
  // uses was written, though, so a tree's root or its page count past the
  // end of the file means the file lost pages it needs.
  const filePages = BigInt(Math.floor(fileSize / pageSize));
  const metas: MetaPage[] = [];
  for (const index of [0, 1]) {
    const meta = readMeta(head, index, pageSize);
    if (typeof meta === 'string') return { ok: false, foreign: false, damage: `meta page ${index}: ${meta}` };
    const past = [meta.trees.free, meta.trees.main].find((t) => t.root !== P_INVALID && t.root >= filePages);
    if (past) {
      return { ok: false, foreign: false, damage: `it is truncated: meta page ${index} has a tree rooted at page ${past.root}, but the file ends at page ${filePages - 1n}` };
    }
    const inUse = 2n + meta.trees.free.pages + meta.trees.main.pages; // the two meta pages and both trees
    if (inUse > filePages) {
      return { ok: false, foreign: false, damage: `it is truncated: meta page ${index} counts ${inUse} pages in use, but the file holds ${filePages}` };
    }
    metas.push(meta);
  }
  return { ok: true, current: metas[0]!.txnid >= metas[1]!.txnid ? metas[0] : metas[1] };
}

function readMeta(head: Buffer, index: number, pageSize: number): MetaPage | string {
  const page = index * pageSize;
  if (head.readBigUInt64LE(page) !== BigInt(index)) return 'its page header names another page';
  if ((head.readUInt16LE(page + 18) & P_META) === 0) return 'its page header does not mark a meta page';
  const m = page + PAGE_HEADER;
  if (head.readUInt32LE(m) !== LMDB_MAGIC) return 'no LMDB magic';
  if (head.readUInt32LE(m + 4) !== KNOWN_VERSION) return `data version ${head.readUInt32LE(m + 4)}, the other page has ${KNOWN_VERSION}`;
  if (head.readUInt32LE(m + 24) !== pageSize) return `page size ${head.readUInt32LE(m + 24)}, the other page has ${pageSize}`;
  const lastPage = head.readBigUInt64LE(m + 120);
  if (lastPage < 1n) return `last page ${lastPage}; the two meta pages alone are 0 and 1`;
  const mapSize = head.readBigUInt64LE(m + 16);
  if (mapSize < (lastPage + 1n) * BigInt(pageSize)) return `its map size ${mapSize} is smaller than its pages in use`;
  const trees: Tree[] = [];
  for (const [db, name] of [[0, 'free-page'], [1, 'main']] as const) {
    const at = m + 24 + db * 48;
    const depth = head.readUInt16LE(at + 6);
    const root = head.readBigUInt64LE(at + 40);
    const pages = head.readBigUInt64LE(at + 8) + head.readBigUInt64LE(at + 16) + head.readBigUInt64LE(at + 24);
    trees.push({ root, pages });
    if (root === P_INVALID) {
      if (depth !== 0) return `the ${name} tree has no root but a depth of ${depth}`;
      continue;
    }
    if (root < 2n || root > lastPage) return `the ${name} tree's root is page ${root}, outside pages 2..${lastPage}`;
    if (depth < 1 || depth > MAX_DEPTH) return `the ${name} tree has a depth of ${depth}`;
    if (pages > lastPage + 1n) return `the ${name} tree counts ${pages} pages, more than the ${lastPage + 1n} in use`;
  }
  return { txnid: head.readBigUInt64LE(m + 128), lastPage, pageSize, trees: { free: trees[0]!, main: trees[1]! } };
}
