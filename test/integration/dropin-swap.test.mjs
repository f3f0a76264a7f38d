// A real rxtx deployment swapped in place, one binary at a time, with the
// same command line and the same config file (issue 16):
//   1. the Go rxtx posting into the Go rtbeat (both built from ../shared/peers);
//   2. the Go rtbeat stopped and replaced by `spillway beat -c` the same
//      rtbeat.yml, on the same port, while rxtx keeps taking messages;
//   3. the Go rxtx stopped (once drained) and replaced by `spillway edge` with
//      the same flags (-port -path -ingest -interval -batch -maxq), on the
//      same port and the same -path (where rxtx.db stays, and is reported).
// A client posts to the edge's port throughout, retrying a message until it
// gets a 200. Every acknowledged message is in Elasticsearch exactly once at
// the end (compared by the id in its payload: rtbeat's documents have ids of
// their own). Under CI a peer that cannot be built, or a missing
// Elasticsearch, fails the test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAIN, removeDir, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { count, ES_URL, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { buildPeer, requirePeer, startRtbeat, startRxtx, startVersionProxy } from '../helpers/peers.mjs';

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SPILLWAY_') || k.startsWith('ES_')) delete env[k];
  return env;
}

/** `spillway ...args` exactly as given; resolves once /healthz answers on `port`. */
async function spawnSpillway(args, port, waitMs = 30_000) {
  const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-512 * 1024)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-512 * 1024)));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + waitMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`spillway ${args.join(' ')} exited (${child.exitCode}):\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`spillway ${args.join(' ')} did not answer /healthz in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    url, exited, logs: () => out,
    async stop(sig = 'SIGTERM') {
      if (running()) child.kill(sig);
      return exited;
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };
}

/**
 * One client posting to `url`/rx one message at a time, each with a unique id
 * in its payload, resending the same message until it gets a 200 (connection
 * refused and 503 are retried). pause() waits for the request in flight.
 */
function poster(url, run) {
  const acked = [];
  const attempts = { refused: 0, other: 0 };
  let paused = false;
  let stopped = false;
  let idle;
  let wake;
  const loop = (async () => {
    let n = 0;
    while (!stopped) {
      if (paused) {
        idle?.();
        await new Promise((r) => (wake = r));
        continue;
      }
      const id = `${run}-${n}`;
      try {
        const r = await fetch(`${url}/rx/swap/${run}/dropin/test`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, n }),
          signal: AbortSignal.timeout(10_000),
        });
        await r.text();
        if (r.status === 200) {
          acked.push(id);
          n++;
          await new Promise((res) => setTimeout(res, 5));
          continue;
        }
        attempts.other++;
      } catch {
        attempts.refused++;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    idle?.();
  })();
  return {
    acked, attempts,
    pause: () => new Promise((r) => ((idle = r), (paused = true))),
    resume: () => ((paused = false), wake?.()),
    stop: async () => {
      stopped = true;
      paused = false;
      wake?.();
      await loop;
    },
    /** Wait until `k` more messages are acknowledged. */
    more: (k, what) => {
      const target = acked.length + k;
      return waitFor(`${what}: ${k} more acknowledged messages`, () => acked.length >= target, { timeoutMs: 60_000, everyMs: 20 });
    },
  };
}

/** Payload ids of every document, with how often each occurs. */
async function indexedIds(indices) {
  await fetch(`${ES_URL}/${indices}/_refresh`, { method: 'POST' });
  const seen = new Map();
  let r = await fetch(`${ES_URL}/${indices}/_search?scroll=1m`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ size: 5000, _source: ['rxtxMsg.payload.id'], sort: ['_doc'] }),
  }).then((x) => x.json());
  assert.ok(r.hits, `search failed: ${JSON.stringify(r).slice(0, 300)}`);
  while (r.hits.hits.length) {
    for (const h of r.hits.hits) {
      const id = h._source?.rxtxMsg?.payload?.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    r = await fetch(`${ES_URL}/_search/scroll`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scroll: '1m', scroll_id: r._scroll_id }),
    }).then((x) => x.json());
  }
  return seen;
}

test('swap in place: Go rxtx → Go rtbeat, then spillway beat -c the same rtbeat.yml, then spillway edge with the same flags: no message lost', { timeout: 600_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  const rxtxBin = await requirePeer(t, () => buildPeer('rxtx'));
  if (!rxtxBin) return;
  const rtbeatBin = await requirePeer(t, () => buildPeer('rtbeat'));
  if (!rtbeatBin) return;

  const idx = testIndex('dropin-swap');
  const base = idx.all.replace(/-\*$/, '');
  const rtDir = tempDir('dropin-swap-rtbeat-');
  const rxDir = tempDir('dropin-swap-rxtx-');
  const cleanups = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    removeDir(rtDir);
    removeDir(rxDir);
    await idx.cleanup();
  });
  // rtbeat (libbeat) asks GET / for the version; a proxy answers it. Ours, so it outlives rtbeat.
  const proxy = await startVersionProxy({ target: ES_URL });
  cleanups.push(() => proxy.close());

  // ---- 1. the Go pair
  const rtbeat = await startRtbeat({ bin: rtbeatBin, esUrl: proxy.url, index: base, dir: rtDir, timeoutSeconds: 30, shutdownTimeoutSeconds: 10 });
  cleanups.push(() => rtbeat.kill());
  cleanups.push(() => rtbeat.deleteTemplate(ES_URL));
  const rxtx = await startRxtx({ bin: rxtxBin, ingest: `${rtbeat.url}/in`, interval: 1, batch: 100, maxq: 100000, dir: rxDir });
  cleanups.push(() => rxtx.kill());
  const edgeUrl = `http://127.0.0.1:${rxtx.port}`;
  const client = poster(edgeUrl, `swap${Date.now().toString(36)}`);
  cleanups.push(() => client.stop());
  await client.more(100, 'Go rxtx → Go rtbeat');
  await waitFor('the Go pair delivers', async () => (await count(idx.all)) >= 50, { timeoutMs: 60_000, everyMs: 250 });

  // ---- 2. rtbeat → spillway beat -c rtbeat.yml (same file, same port); rxtx keeps taking messages
  const r1 = await rtbeat.stop();
  assert.ok(r1.code === 0 || r1.signal === 'SIGTERM', `rtbeat stopped: ${JSON.stringify(r1)}`);
  await client.more(50, 'rxtx while no stage answers');
  const beat = await spawnSpillway(['beat', '-c', rtbeat.config, '-e'], rtbeat.port);
  cleanups.push(() => beat.kill());
  assert.equal((await stats(beat.url)).role, 'beat');
  await client.more(100, 'Go rxtx → spillway beat');

  // ---- 3. rxtx → spillway edge with the same flags. rxtx answers /rx before it writes,
  // so the client pauses and rxtx drains before it is stopped.
  await client.pause();
  await rxtx.waitDrained({ received: client.acked.length, timeoutMs: 120_000 });
  await rxtx.stop();
  assert.deepEqual(rxtx.args.filter((a) => a.startsWith('-')), ['-port', '-path', '-ingest', '-interval', '-batch', '-maxq']);
  const edge = await spawnSpillway(['edge', ...rxtx.args], rxtx.port);
  cleanups.push(() => edge.kill());
  client.resume();
  await client.more(150, 'spillway edge → spillway beat');
  await client.stop();
  const warned = edge.logs().split('\n').some((l) => l.includes('"level":40') && l.includes(`${rxDir}/rxtx.db`));
  assert.ok(warned, `spillway edge reports rxtx's queue file at -path:\n${edge.logs().slice(0, 2000)}`);

  // ---- every acknowledged message, exactly once
  const sent = new Set(client.acked);
  await waitFor(`${sent.size} documents`, async () => (await count(idx.all)) >= sent.size, { timeoutMs: 120_000, everyMs: 250 });
  await waitFor('the edge is empty', async () => (await stats(edge.url)).edge.inQueue === 0, { timeoutMs: 60_000 });
  const seen = await indexedIds(idx.all);
  const missing = [...sent].filter((id) => !seen.has(id));
  const extra = [...seen.keys()].filter((id) => !sent.has(id));
  const twice = [...seen].filter(([, k]) => k > 1).map(([id]) => id);
  t.diagnostic(`acknowledged ${sent.size}; retries: ${JSON.stringify(client.attempts)}`);
  assert.deepEqual(missing, [], `${missing.length} acknowledged messages not indexed`);
  assert.deepEqual(extra, [], 'documents that were never acknowledged');
  assert.deepEqual(twice, [], 'documents indexed twice');
  assert.equal((await edge.stop()).code, 0);
  assert.equal((await beat.stop()).code, 0);
});
