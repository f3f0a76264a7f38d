// Changing --shards over a store that still holds messages: fewer shards would
// strand the messages of the files past the count, so the daemon refuses to
// start; once those files are drained the change is allowed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, runCli, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { post, waitQuiet } from '../helpers/edge-client.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import { shardFor } from '../../dist/store/shard.js';

test('--shards lowered over held messages exits 2 naming the stranded files; allowed once drained', { timeout: 120_000 }, async (t) => {
  const dir = tempDir();
  const rcv = await startReceiver();
  const started = [];
  t.after(async () => {
    for (const d of started) await d.kill();
    await rcv.close();
    removeDir(dir);
  });
  // A stage that is down: everything stays held.
  const held = await startDaemon('edge', ['--path', dir, '--shards', '4', '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'error']);
  started.push(held);
  for (let i = 0; i < 64; i++) assert.equal((await post(held.url, `/rx/p/key-${i}/l`, JSON.stringify({ i }))).status, 200);
  await held.stop();
  const perShard = [0, 0, 0, 0];
  for (let i = 0; i < 64; i++) perShard[shardFor('p', `key-${i}`, 4)]++;
  assert.ok(perShard[2] + perShard[3] > 0, `messages in shards 2 and 3: ${perShard}`);

  const refused = await runCli(['edge', '--path', dir, '--shards', '2', '--ingest', 'http://127.0.0.1:9/in', '--port', '0']);
  assert.equal(refused.code, 2, refused.stderr + refused.stdout);
  const line = refused.stderr.trim().split('\n').pop();
  assert.match(line, /--shards 2 leaves messages in rxtx-02\.mdb \(\d+ messages\), rxtx-03\.mdb \(\d+ messages\)/);
  assert.ok(line.includes(`rxtx-02.mdb (${perShard[2]} messages)`) && line.includes(`rxtx-03.mdb (${perShard[3]} messages)`), line);

  // Drained with the shards it was written with, the store may then shrink.
  const drain = await startDaemon('edge', ['--path', dir, '--shards', '4', '--ingest', rcv.url, '--interval', '0.1', '--log-level', 'error']);
  started.push(drain);
  await waitFor('drained', async () => (await stats(drain.url)).edge.inQueue === 0, { timeoutMs: 30_000 });
  await waitQuiet(drain.url, [rcv]);
  await drain.stop();
  assert.equal(rcv.state.counts.size, 64, 'every held message delivered');
  assert.ok([...rcv.state.counts.values()].every((n) => n === 1), 'each once');
  const fewer = await startDaemon('edge', ['--path', dir, '--shards', '2', '--ingest', rcv.url, '--log-level', 'error']);
  started.push(fewer);
  assert.equal((await post(fewer.url, '/rx/p/after/l', '{"a":1}')).status, 200);
});
