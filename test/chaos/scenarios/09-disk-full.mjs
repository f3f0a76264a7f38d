// Disk full under the store: the edge's --path on a 3 MiB tmpfs, the beat
// down. POSTs fill the disk and then get 503 with Retry-After and a JSON
// FAIL; the daemon does not crash; when the beat comes up the store drains,
// every acked message is in Elasticsearch exactly once (and nothing refused
// is), and new POSTs succeed again (a client retrying after Retry-After).
// Needs root to mount a tmpfs; elsewhere it reports itself skipped (the test
// wrapper skips it, and fails it under CI).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stats, waitFor } from '../../helpers/daemon.mjs';
import { ledger, result, unackedCheck, waitDocs } from '../lib.mjs';

export const name = 'disk full under the store (3 MiB tmpfs)';

export async function run({ log = () => {}, signal, scope }) {
  let mnt;
  try {
    mnt = await scope.tmpfs('3m');
  } catch (e) {
    if (e.code !== 'NO_TMPFS') throw e;
    return result(name, { skipped: `not run: ${e.message}`, notes: `not run: ${e.message}` });
  }
  const dir = join(mnt, 'data');
  mkdirSync(dir);
  const rcvPort = await freePort();
  const idx = await scope.index();
  const edgeArgs = ['--path', dir, '--ingest', `http://127.0.0.1:${rcvPort}/in`, '--shards', '2', '--log-level', 'error'];
  const d = await scope.daemon('edge', [...edgeArgs, '--interval', '0.2', '--retry-max', '0.5']);
  const acked = new Set();
  const refused = new Map();
  let bad503 = 0;
  const post = async (i) => {
    const r = await fetch(`${d.url}/rx/disk/k${i % 3}/full`, { method: 'POST', body: JSON.stringify({ i, pad: 'x'.repeat(400) }), signal });
    const j = await r.json().catch(() => undefined);
    if (r.status === 200) acked.add(j.uuid);
    else {
      refused.set(r.status, (refused.get(r.status) ?? 0) + 1);
      if (r.status !== 503 || !r.headers.get('retry-after') || j?.status !== 'FAIL') bad503++;
    }
    return r.status;
  };
  let full = 0;
  for (let i = 0; i < 50_000 && full < 20; i++) if ((await post(i)) === 503) full++;
  const heldWhenFull = (await stats(d.url)).edge.inQueue;
  log(`  disk full after ${acked.size} acks (${heldWhenFull} held)`);
  await scope.daemon('beat', ['--index', idx.pattern, '--log-level', 'error'], { port: rcvPort });
  await waitFor('drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 120_000, everyMs: 200 });
  // Freed pages are reused once no reader holds them: retry as a client told Retry-After would.
  let after = 0;
  for (let attempt = 0; attempt < 20 && after !== 200; attempt++) {
    after = await post(1_000_000 + attempt);
    if (after !== 200) await scope.sleep(500);
  }
  await waitFor('last message', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 30_000 });
  const survived = d.child.exitCode === null && d.child.signalCode === null;
  // No corruption: the files written up to a full disk reopen cleanly.
  await d.kill();
  const reopened = await scope.daemon('edge', edgeArgs);
  const heldAfterReopen = (await stats(reopened.url)).edge.inQueue;
  await reopened.kill();
  const docs = await waitDocs(idx.all, acked, 30_000, undefined, signal);
  const l = ledger(docs, acked);
  return result(name, {
    acked: acked.size, documents: l.documents, lost: l.lost, duplicated: l.duplicated,
    refused: Object.fromEntries(refused),
    notes: `${acked.size} acked before the disk filled, then ${refused.get(503) ?? 0} × 503; drained; a POST after the drain answered ${after}${l.lost ? `; lost e.g. ${l.lostSample.join(',')}` : ''}`,
    checks: [
      unackedCheck(l),
      { what: 'the disk filled (503s seen)', ok: full > 0 },
      { what: `every refusal a 503 with Retry-After and JSON FAIL (${bad503} not)`, ok: bad503 === 0 },
      { what: 'the daemon kept running', ok: survived },
      { what: 'writes succeed again after the drain', ok: after === 200 },
      { what: `the store reopens after a kill -9, empty (${heldAfterReopen} held)`, ok: heldAfterReopen === 0 },
    ],
  });
}
