// The store at --maxq: with the stage down, POSTs beyond --maxq get 503 with
// Retry-After and a JSON FAIL; /readyz says so. When the stage comes up the
// store drains, the refused clients (retrying after Retry-After) get their
// 200s, and every acked message arrives exactly once.
import { Agent, request } from 'undici';
import { freePort, removeDir, startDaemon, stats, tempDir } from '../../helpers/daemon.mjs';
import { startReceiver } from '../../helpers/receiver.mjs';
import { result, sleep } from '../lib.mjs';

export const name = 'store at --maxq: 503 + Retry-After, recovery';

export async function run({ quick, log = () => {} }) {
  const maxq = quick ? 500 : 2000;
  const total = Math.round(maxq * 1.6);
  const conns = 8;
  const dir = tempDir('spillway-chaos-');
  const rcvPort = await freePort();
  const d = await startDaemon('edge', ['--path', dir, '--ingest', `http://127.0.0.1:${rcvPort}/in`, '--maxq', String(maxq),
    '--interval', '0.2', '--retry-max', '0.5', '--log-level', 'warn']);
  const agent = new Agent({ connections: conns, keepAliveTimeout: 30_000 });
  let rcv;
  const acked = new Set();
  const refused = new Map();
  const pending = [];
  let bad503 = 0, errors = 0;
  const post = async (i) => {
    const r = await request(`${d.url}/rx/full/k${i % 4}/maxq`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tag: `q-${i}`, i }) });
    const text = await r.body.text();
    if (r.statusCode === 200) acked.add(JSON.parse(text).uuid);
    else {
      refused.set(r.statusCode, (refused.get(r.statusCode) ?? 0) + 1);
      let j;
      try { j = JSON.parse(text); } catch {}
      if (r.statusCode !== 503 || !r.headers['retry-after'] || j?.status !== 'FAIL' || typeof j.message !== 'string') bad503++;
    }
    return { status: r.statusCode, retryAfter: Number(r.headers['retry-after'] ?? 1) };
  };
  try {
    // Phase 1: the stage is down; fill past --maxq.
    let next = 0;
    await Promise.all(Array.from({ length: conns }, async () => {
      while (next < total) {
        const i = next++;
        try {
          const r = await post(i);
          if (r.status !== 200) pending.push(i);
        } catch { errors++; pending.push(i); }
      }
    }));
    const ackedWhileFull = acked.size;
    const held = (await stats(d.url)).edge.inQueue;
    const ready = await fetch(`${d.url}/readyz`);
    const readyBody = await ready.json().catch(() => ({}));
    log(`  full: ${ackedWhileFull} acked, ${pending.length} refused, held ${held}, readyz ${ready.status} ${readyBody.message}`);
    // Phase 2: the stage comes up; refused clients retry after Retry-After.
    rcv = await startReceiver({ port: rcvPort });
    const t0 = Date.now();
    let gaveUp = 0;
    await Promise.all(Array.from({ length: conns }, async () => {
      while (pending.length) {
        const i = pending.shift();
        for (let attempt = 0; ; attempt++) {
          if (Date.now() - t0 > 90_000) { gaveUp++; break; }
          let r;
          try { r = await post(i); } catch { errors++; r = { status: 0, retryAfter: 1 }; }
          if (r.status === 200) break;
          await sleep(Math.min(r.retryAfter, 2) * 1000);
        }
      }
    }));
    const recoverMs = Date.now() - t0;
    const until = Date.now() + 60_000;
    const delivered = () => [...acked].filter((u) => rcv.state.counts.has(u)).length;
    while (delivered() < acked.size && Date.now() < until) await sleep(200);
    await sleep(600);
    let duplicated = 0;
    for (const n of rcv.state.counts.values()) duplicated += n - 1;
    const readyAfter = (await fetch(`${d.url}/readyz`)).status;
    return result(name, {
      acked: acked.size, documents: rcv.state.messages.length, lost: acked.size - delivered(), duplicated,
      refused: Object.fromEntries(refused),
      notes: `--maxq ${maxq}: ${ackedWhileFull} of ${total} acked while the stage was down (held ${held}), /readyz ${ready.status}; all ${total} acked ${recoverMs} ms after the stage came up; ${errors} connection errors`,
      checks: [
        { what: `no more than --maxq acked while full (${ackedWhileFull})`, ok: ackedWhileFull <= maxq && ackedWhileFull >= maxq * 0.9 },
        { what: `every refusal was a 503 with Retry-After and a JSON FAIL (${bad503} not)`, ok: bad503 === 0 && refused.size > 0 },
        { what: '/readyz was 503 while full', ok: ready.status === 503 },
        { what: `every message acked after recovery (${gaveUp} gave up)`, ok: gaveUp === 0 && acked.size === total },
        { what: '/readyz 200 after the drain', ok: readyAfter === 200 },
        { what: 'nothing unacknowledged was delivered', ok: rcv.state.counts.size === acked.size },
      ],
    });
  } finally {
    await agent.destroy().catch(() => {});
    await d.kill();
    await rcv?.close();
    removeDir(dir);
  }
}
