// The meta-page check of src/store/lmdb-header.ts, on real LMDB files made
// by the installed lmdb-js: if an lmdb-js upgrade changes the file layout,
// the first test fails here instead of the daemon refusing sound stores.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { open } from 'lmdb';
import { checkLmdbHeader } from '../../dist/store/lmdb-header.js';

let dir;
let sound;
let file;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spillway-lmdb-header-'));
  file = join(dir, 'shard.mdb');
  const db = open({ path: file, noSubdir: true, encoding: 'binary' });
  // Enough records for a tree of depth > 1 and several hundred pages.
  await db.transaction(() => {
    for (let i = 0; i < 5000; i++) db.put(String(i).padStart(19, '0'), Buffer.alloc(200, i % 251));
  });
  await db.close();
  sound = readFileSync(file);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const damage = (bytes, size = bytes.length) => {
  const v = checkLmdbHeader(bytes.subarray(0, 2 * 65536), size);
  return v.ok ? 'ok' : v.damage;
};

describe('LMDB meta-page check', () => {
  test('a sound file made by lmdb-js passes, with its current meta page', () => {
    const v = checkLmdbHeader(sound.subarray(0, 2 * 65536), sound.length);
    assert.equal(v.ok, true, v.damage);
    assert.ok(v.current.lastPage > 10n, `last page ${v.current.lastPage}`);
    assert.equal((v.current.lastPage + 1n) * BigInt(v.current.pageSize), BigInt(sound.length));
  });

  test('a truncated file is named as truncated', () => {
    assert.match(damage(sound, Math.floor(sound.length / 2)), /truncated: meta page \d (has a tree rooted at page \d+|counts \d+ pages in use)/);
    assert.match(damage(sound.subarray(0, 4096), 4096), /truncated/);
  });

  test('a file that ends before last_pg is sound when its trees fit: freed tail pages are never written', () => {
    // What chaos scenario 9 made on a full disk: a meta page naming pages up
    // to N while the file ends one page earlier. LMDB opens it; so must we.
    const current = sound.readBigUInt64LE(152) > sound.readBigUInt64LE(4096 + 152) ? 0 : 1;
    const longer = Buffer.from(sound);
    const lastPage = longer.readBigUInt64LE(current * 4096 + 144);
    longer.writeBigUInt64LE(lastPage + 5n, current * 4096 + 144);
    longer.writeBigUInt64LE((lastPage + 64n) * 4096n, current * 4096 + 40); // its map size still covers it
    assert.equal(damage(longer), 'ok');
  });

  test('garbage in a meta page behind an intact magic is refused', () => {
    // The meta page of the last commit (the higher txnid) holds the tree.
    const current = sound.readBigUInt64LE(152) > sound.readBigUInt64LE(4096 + 152) ? 0 : 1;
    const meta = current * 4096 + 24;
    const broken = Buffer.from(sound);
    broken.writeBigUInt64LE(0xffffn, meta + 72 + 40); // main tree root far past the end
    assert.match(damage(broken), new RegExp(`meta page ${current}: the main tree's root is page 65535, outside pages 2\\.\\.`));
    const deep = Buffer.from(sound);
    deep.writeUInt16LE(900, meta + 72 + 6);
    assert.match(damage(deep), /main tree has a depth of 900/);
    const noRoot = Buffer.from(sound);
    noRoot.writeBigUInt64LE(0xffffffffffffffffn, meta + 72 + 40);
    assert.match(damage(noRoot), /main tree has no root but a depth of/);
    const psize = Buffer.from(sound);
    psize.writeUInt32LE(3000, 24 + 24);
    assert.match(damage(psize), /page size of 3000/);
  });

  test('the second meta page is checked too', () => {
    const broken = Buffer.from(sound);
    broken.writeBigUInt64LE(7n, 4096); // its page header names page 7
    assert.match(damage(broken), /meta page 1: its page header names another page/);
  });

  test('foreign bytes and another LMDB build are refused with what they are', () => {
    assert.match(damage(Buffer.alloc(8192)), /no LMDB magic/);
    const upstream = Buffer.alloc(8192);
    upstream.writeUInt32LE(0xbeefc0de, 16);
    assert.match(damage(upstream), /another build/);
  });

  test('a data version this check does not know is left to lmdb-js', () => {
    const other = Buffer.from(sound);
    other.writeUInt32LE(3, 28);
    assert.equal(damage(other), 'ok');
  });
});
