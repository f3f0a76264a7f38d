// The durability contract of a 200 rests on the options openShards gives
// lmdb-js (src/store/shards.ts): every commit synced before its promise
// resolves. lmdb-js keeps the options it opened an environment with on the
// database object; these are what decide LMDB's env flags (MDB_NOSYNC,
// MDB_NOMETASYNC, MDB_MAPASYNC) and whether the commit's promise waits for
// the sync (overlappingSync off) or resolves before it (on, lmdb-js's
// default on Linux). test/integration/durable-ack.test.mjs watches the
// resulting system calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openShards } from '../../dist/store/shards.js';
import { removeDir, tempDir } from '../helpers/daemon.mjs';

test('openShards opens every shard with syncing commits: noSync and overlappingSync off, no async meta or map', (t) => {
  const dir = tempDir('spillway-shards-');
  const dbs = openShards({ path: dir, name: 'dur', shards: 3 });
  t.after(() => {
    for (const db of dbs) db.close();
    removeDir(dir);
  });
  assert.equal(dbs.length, 3);
  for (const [i, db] of dbs.entries()) {
    assert.equal(db.noSync, false, `shard ${i}: noSync`);
    assert.equal(db.overlappingSync, false, `shard ${i}: overlappingSync`);
    for (const flag of ['noMetaSync', 'mapAsync', 'useWritemap']) {
      assert.ok(db[flag] !== true, `shard ${i}: ${flag} is on`);
    }
  }
});
