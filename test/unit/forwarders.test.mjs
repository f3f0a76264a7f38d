// Forwarders: a forwarder thread that dies is started again with the same
// shards, and stop() ends the threads. The thread here is a stand-in script
// that reports and exits; the real forwarder's delivery is proven by the
// integration and chaos suites.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { Forwarders } from '../../dist/forward/forwarders.js';
import { removeDir, tempDir } from '../helpers/daemon.mjs';

test('a forwarder thread that exits is restarted with the same shards', { timeout: 30_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => removeDir(dir));
  const script = join(dir, 'dies.mjs');
  // Reports which shards it was given, then dies as an uncaught failure would.
  writeFileSync(script, `import { parentPort, workerData } from 'node:worker_threads';
parentPort.postMessage({ type: 'failed', shard: workerData.shards[0], count: 0, reason: 'started ' + workerData.shards.join(',') });
setTimeout(() => process.exit(1), 20);
`);
  const reports = [];
  const errors = [];
  const log = { error: (obj, msg) => errors.push({ obj, msg }), warn() {}, info() {} };
  const config = { forwarders: 2, shards: 4 };
  const f = new Forwarders(config, log, (m) => reports.push(m), pathToFileURL(script));
  let stopped = false;
  t.after(() => stopped || f.stop(Date.now()));
  const end = Date.now() + 20_000;
  const starts = (shards) => reports.filter((r) => r.reason === `started ${shards}`).length;
  while (starts('0,2') < 2 || starts('1,3') < 2) {
    if (Date.now() > end) throw new Error(`no restart seen: ${JSON.stringify(reports)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await f.stop(Date.now() + 100);
  stopped = true;
  assert.ok(reports.filter((r) => r.reason === 'started 0,2').length >= 2, 'thread 0 restarted too');
  assert.ok(errors.some((e) => /exited; restarting it/.test(e.msg) && e.obj.code === 1), JSON.stringify(errors));
  // After stop(), nothing is restarted.
  const seen = reports.length;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(reports.length, seen, 'no thread started after stop()');
});
