// The file output: every acknowledged message is one NDJSON line (rtbeat's
// event), files rotate by size and by time, carry the mode asked for, and
// follow the path pattern.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { test } from 'node:test';
import { removeDir, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { postMany } from '../helpers/load.mjs';
import { listFiles, readEvents } from '../helpers/ndjson-files.mjs';
import { compareSets } from '../helpers/opensearch.mjs';

test('spillway all --output file: every acknowledged message once, rotated by size, mode 0600', { timeout: 180_000 }, async (t) => {
  const dir = tempDir();
  const out = tempDir('spillway-files-');
  const d = await startDaemon('all', [
    '--path', dir, '--output', 'file', '--file-path', `${out}/%{+yyyy}/events-%{+yyyy.MM.dd}.ndjson`,
    '--file-rotate-bytes', '256k', '--file-mode', '0600', '--interval', '0.2',
  ]);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    removeDir(out);
  });
  const load = await postMany(d.url, { total: 10_000, connections: 32 });
  assert.equal(load.acked.size, 10_000);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 120_000 });

  const { uuids, events, torn } = readEvents(out);
  assert.equal(torn, 0);
  assert.deepEqual(compareSets(load.acked, uuids), { missing: [], extra: [], duplicates: [] });
  const e = events[0];
  assert.equal(e.type, 'rtbeat');
  assert.deepEqual(Object.keys(e.rxtxMsg), ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload']);
  assert.equal(e['@timestamp'], e.rxtxMsg.time);

  const files = listFiles(out);
  const year = String(new Date().getUTCFullYear());
  assert.ok(files.length > 3, `rotated by size: ${files.length} files`);
  for (const f of files) {
    assert.equal(f.mode, 0o600, `${f.path} mode ${f.mode.toString(8)}`);
    assert.match(f.path, new RegExp(`/${year}/events-${year}\\.\\d\\d\\.\\d\\d-f\\d-\\d+\\.ndjson$`));
    // A file is closed once it holds the limit: none is much above it.
    assert.ok(f.size < 256 * 1024 + 2 * 1024 * 1024, `${basename(f.path)}: ${f.size} bytes`);
  }
  assert.equal((await stats(d.url)).outputs.file.delivered, 10_000);
});

test('the file output rotates by time', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  const out = tempDir('spillway-files-');
  const d = await startDaemon('all', [
    '--path', dir, '--output', 'file', '--file-path', `${out}/t.ndjson`, '--file-rotate-interval', '0.5',
    '--interval', '0.05', '--forwarders', '1', '--shards', '1',
  ]);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    removeDir(out);
  });
  const acked = new Set();
  // Three messages, each after the previous file is older than the interval.
  for (let i = 0; i < 3; i++) {
    const r = await (await fetch(`${d.url}/rx/p/k/l`, { method: 'POST', body: `{"i":${i}}` })).json();
    acked.add(r.uuid);
    await waitFor('delivered', async () => (await stats(d.url)).edge.inQueue === 0);
    if (i < 2) await new Promise((r) => setTimeout(r, 600)); // older than --file-rotate-interval
  }
  assert.deepEqual(compareSets(acked, readEvents(out).uuids), { missing: [], extra: [], duplicates: [] });
  assert.equal(listFiles(out).length, 3, 'one file per interval');
});
