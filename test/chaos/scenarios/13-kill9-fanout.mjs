// kill -9 of `spillway all` while it fans out to Elasticsearch, OpenSearch and
// files, several times under load, restarting on the same --path: every
// acknowledged message in every output; Elasticsearch and OpenSearch each
// hold every stored message exactly once (create, _id = uuid) and the same
// set; the files hold that set too, at least once: their second copies are
// counted and stay within the bound docs/outputs.md gives (per crash, the
// batches in flight or within the window: shards × (inflight + window) ×
// batch). Needs the local OpenSearch (scripts/opensearch.sh) besides
// Elasticsearch: without it the scenario is a skip (a failure under CI).
import { freePort, stats } from '../../helpers/daemon.mjs';
import { readEvents } from '../../helpers/ndjson-files.mjs';
import { allIds, OS_URL, osTestIndex, osUp } from '../../helpers/opensearch.mjs';
import { ES_URL } from '../../helpers/es.mjs';
import { ledger, rand, result, unackedCheck, waitDocs, waitDrained, mergeRefused } from '../lib.mjs';

export const name = 'kill -9 of all during a fan-out to elasticsearch, opensearch and file';
const OUTPUTS = ['elasticsearch', 'opensearch', 'file'];
export const timeoutMs = { quick: 300_000, long: 1_200_000 };

export async function run({ quick, log = () => {}, signal, scope }) {
  if (!(await osUp())) {
    const why = `OpenSearch is not reachable at ${OS_URL} (npm run opensearch:start)`;
    return result(name, { skipped: why, notes: why });
  }
  const kills = quick ? 3 : 10;
  const SHARDS = 4;
  const INFLIGHT = 2;
  const WINDOW = 4;
  const BATCH = 500;
  const esIdx = await scope.index();
  const osIdx = osTestIndex('spillway-chaos');
  await scope.defer(`delete ${osIdx.all} on OpenSearch`, () => osIdx.cleanup());
  const dir = await scope.tempDir();
  const out = await scope.tempDir('spillway-chaos-files-');
  const port = await freePort();
  const args = [
    '--path', dir, '--shards', String(SHARDS), '--inflight', String(INFLIGHT), '--output-window', String(WINDOW), '--batch', String(BATCH),
    '--interval', '0.2', '--retry-max', '1', '--log-level', 'warn',
    '--output', 'elasticsearch,opensearch,file',
    '--es', ES_URL, '--index', esIdx.pattern, '--opensearch', OS_URL, '--opensearch-index', osIdx.pattern,
    '--file-path', `${out}/events.ndjson`, '--file-rotate-bytes', '1MiB',
  ];
  let d;
  let up = null;
  // Single /rx messages only: every stored message is named by the uuid of its 200.
  const load = scope.load(() => up, { connections: 16, run: 'kf', maxMs: 240_000 });
  const exits = [];
  for (let k = 0; k < kills; k++) {
    d = await scope.daemon('all', args, { port });
    up = d.url;
    const before = load.acked.size;
    // Mid-fan-out: once this life has acknowledged a few hundred messages
    // and every output has delivered some of them, then a random 0–1.5 s more.
    const t0 = Date.now();
    for (;;) {
      const o = load.acked.size - before >= 300 ? (await stats(d.url).catch(() => undefined))?.outputs : undefined;
      if (o && OUTPUTS.every((k) => o[k]?.delivered > 0)) break;
      if (Date.now() - t0 > 60_000) break; // kill anyway: the checks below still hold
      await scope.sleep(50);
    }
    await scope.sleep(rand(0, 1500));
    up = null;
    d.child.kill('SIGKILL');
    exits.push((await d.exited).signal);
    log(`  kill ${k + 1}/${kills}: acked so far ${load.acked.size}`);
  }
  d = await scope.daemon('all', args, { port });
  up = d.url;
  await scope.sleep(1000);
  const { acked, ackedTags, cutTags, refused, errors, errorCodes } = await load.stop();
  await waitDrained(d.url, 240_000, signal);

  // Elasticsearch: the chaos ledger (lost, duplicated, stored without a 200).
  const docs = await waitDocs(esIdx.all, acked, 30_000, undefined, signal);
  const l = ledger(docs, acked, ackedTags);
  const stored = new Set(docs.map((x) => x.id));
  // OpenSearch: every stored message exactly once.
  const osIds = await allIds(osIdx.all, OS_URL);
  const osSet = new Set(osIds);
  const osMissing = [...stored].filter((u) => !osSet.has(u)).length;
  const osExtra = [...osSet].filter((u) => !stored.has(u)).length;
  const osDup = osIds.length - osSet.size;
  // Files: every stored message at least once; second copies counted.
  const files = readEvents(out, { keep: 0 });
  const fileSet = new Set(files.uuids);
  const fileMissing = [...stored].filter((u) => !fileSet.has(u)).length;
  const fileExtra = [...fileSet].filter((u) => !stored.has(u)).length;
  const fileDup = files.uuids.length - fileSet.size;
  const fileBound = kills * SHARDS * (INFLIGHT + WINDOW) * BATCH;
  const lost = Math.max(l.lost, [...acked].filter((u) => !osSet.has(u) || !fileSet.has(u)).length);
  return result(name, {
    acked: l.messagesAcked, documents: l.documents, lost, duplicated: l.duplicated + osDup,
    refused: mergeRefused(refused),
    notes: `${acked.size} acknowledged; ${kills} kills; ${errors} requests failed (${JSON.stringify(errorCodes)}), ${cutTags.size} cut in flight; ${l.unacked} stored but never acked; opensearch: ${osIds.length} documents, ${osDup} second copies; files: ${files.uuids.length} lines, ${fileDup} second copies (at least once; bound ${fileBound}), ${files.torn} torn lines`,
    checks: [
      unackedCheck(l, cutTags),
      { what: `opensearch holds what elasticsearch holds (${osMissing} missing, ${osExtra} extra)`, ok: osMissing === 0 && osExtra === 0 },
      { what: `the files hold what elasticsearch holds (${fileMissing} missing, ${fileExtra} extra)`, ok: fileMissing === 0 && fileExtra === 0 },
      { what: `the files' second copies within the bound (${fileDup} ≤ ${fileBound})`, ok: fileDup <= fileBound },
      { what: `torn lines only where a kill cut a write (${files.torn} ≤ ${kills})`, ok: files.torn <= kills },
      { what: 'every kill was a SIGKILL', ok: exits.every((s) => s === 'SIGKILL') },
      { what: 'load was acknowledged', ok: acked.size >= kills * 300 },
    ],
  });
}
