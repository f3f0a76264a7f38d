// Clients retry with Idempotency-Key across kill -9 of the edge (edge → beat
// → Elasticsearch): each key is retried until it gets a 200; exactly one
// document per key, whose _id is the documented v5 uuid.
import { Agent, request } from 'undici';
import { v5 } from 'uuid';
import { freePort } from '../../helpers/daemon.mjs';
import { rand, result, sleep, waitDocs, waitDrained, mergeRefused } from '../lib.mjs';

export const name = 'Idempotency-Key retries across kill -9 of the edge';
const NS = '5b0e1c4a-8f0b-4d1e-9a43-3f6d2c1b7e90';

export async function run({ quick, log = () => {}, signal, scope }) {
  const keys = quick ? 3000 : 10_000;
  const kills = quick ? 3 : 8;
  const idx = await scope.index();
  const dir = await scope.tempDir();
  const edgePort = await freePort();
  const beatPort = await freePort();
  const run = Math.random().toString(36).slice(2, 8);
  await scope.daemon('beat', ['--index', idx.pattern, '--log-level', 'warn'], { port: beatPort });
  const edgeArgs = ['--path', dir, '--ingest', `http://127.0.0.1:${beatPort}/in`, '--interval', '0.2', '--retry-max', '1', '--log-level', 'warn'];
  let edge = await scope.daemon('edge', edgeArgs, { port: edgePort });
  const agent = new Agent({ connections: 16, keepAliveTimeout: 5000, connect: { timeout: 2000 }, headersTimeout: 20_000, bodyTimeout: 20_000 });
  const expected = new Map(); // idem -> expected uuid
  const acked = new Set();
  const refused = new Map();
  let attempts = 0, errors = 0, wrongUuid = 0, gaveUp = 0, next = 0;
  const deadline = Date.now() + 240_000;
  async function client() {
    while (next < keys && !signal?.aborted) {
      const n = next++;
      const producer = `idem${n % 5}`, key = `k${n % 3}`, idem = `${run}-key-${n}`;
      const uuid = v5(`${producer}\n${key}\n${idem}`, NS);
      expected.set(idem, uuid);
      await sleep(rand(0, 8)); // paced, so the kills land mid-run
      for (;;) {
        if (Date.now() > deadline || signal?.aborted) { gaveUp++; break; }
        attempts++;
        try {
          const r = await request(`http://127.0.0.1:${edgePort}/rx/${producer}/${key}/idem/test`, {
            method: 'POST', dispatcher: agent,
            headers: { 'content-type': 'application/json', 'idempotency-key': idem },
            body: JSON.stringify({ idem, n }),
          });
          const text = await r.body.text();
          if (r.statusCode === 200) {
            const got = JSON.parse(text).uuid;
            if (got !== uuid) wrongUuid++;
            acked.add(got);
            break;
          }
          refused.set(r.statusCode, (refused.get(r.statusCode) ?? 0) + 1);
        } catch {
          errors++;
        }
        await sleep(rand(20, 100));
      }
    }
  }
  const clients = Promise.all(Array.from({ length: 16 }, client));
  let done = false;
  clients.then(() => (done = true));
  await scope.defer('idempotency clients', async () => {
    next = keys;
    await clients.catch(() => {});
    await agent.destroy().catch(() => {});
  });
  let killed = 0;
  while (killed < kills && !done) {
    await scope.sleep(rand(200, 700));
    if (done) break;
    edge.child.kill('SIGKILL');
    await edge.exited;
    killed++;
    await scope.sleep(rand(0, 300));
    edge = await scope.daemon('edge', edgeArgs, { port: edgePort });
    log(`  edge kill ${killed}/${kills}: keys acked ${acked.size}/${keys}`);
  }
  await clients;
  scope.check();
  {
    await waitDrained(edge.url, 180_000, signal);
    const docs = await waitDocs(idx.all, acked, 30_000, undefined, signal);
    // Every key was retried until its 200: a document no 200 covered is one
    // stored and refused (or cut) whose retry did not land on the same uuid.
    const unacked = docs.filter((d) => !acked.has(d.id));
    const perIdem = new Map();
    for (const d of docs) perIdem.set(d.idem, [...(perIdem.get(d.idem) ?? []), d.id]);
    let duplicated = 0, wrongId = 0, lost = 0;
    for (const [idem, ids] of perIdem) {
      duplicated += ids.length - 1;
      if (ids.some((id) => id !== expected.get(idem))) wrongId++;
    }
    for (const idem of expected.keys()) if (!perIdem.has(idem)) lost++;
    return result(name, {
      acked: acked.size, documents: docs.length, lost, duplicated, refused: mergeRefused(refused),
      notes: `${keys} keys, ${attempts} attempts (${attempts - keys} retries, ${errors} cut by a kill), ${killed} edge kills`,
      checks: [
        { what: `every key got a 200 (${gaveUp} gave up)`, ok: gaveUp === 0 && acked.size === keys },
        { what: `the 200's uuid is the documented v5 (${wrongUuid} differ)`, ok: wrongUuid === 0 },
        { what: `each document's _id is the v5 of its key (${wrongId} differ)`, ok: wrongId === 0 },
        { what: 'at least one kill happened mid-run', ok: killed > 0 },
        { what: `every document is one a 200 answered (${unacked.length} stored but never acked${unacked.length ? ` e.g. ${unacked.slice(0, 3).map((d) => d.idem).join(',')}` : ''})`, ok: unacked.length === 0 },
      ],
    });
  }
}
