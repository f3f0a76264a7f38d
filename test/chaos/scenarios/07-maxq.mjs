// The store at --maxq: with the stage down, exactly --maxq POSTs are
// acknowledged and every one beyond gets 503 with Retry-After and a JSON FAIL;
// /readyz says so. When the stage comes up the store drains, the refused
// clients (retrying after Retry-After) get their 200s, and once the edge and
// the receiver are quiet every acked message has arrived exactly once and
// nothing else has.
import { Agent, request } from 'undici';
import { freePort, stats } from '../../helpers/daemon.mjs';
import { result, waitQuiet } from '../lib.mjs';

export const name = 'store at --maxq: 503 + Retry-After, recovery';

export async function run({ quick, log = () => {}, signal, scope }) {
  const maxq = quick ? 500 : 2000;
  const total = Math.round(maxq * 1.6);
  const conns = 8;
  const dir = await scope.tempDir();
  const rcvPort = await freePort();
  const d = await scope.daemon('edge', ['--path', dir, '--ingest', `http://127.0.0.1:${rcvPort}/in`, '--maxq', String(maxq),
    '--interval', '0.2', '--retry-max', '0.5', '--log-level', 'warn']);
  const agent = new Agent({ connections: conns, keepAliveTimeout: 30_000 });
  await scope.defer('agent', () => agent.destroy().catch(() => {}));
  let rcv;
  const acked = new Set();
  const refused = new Map();
  const pending = [];
  let bad503 = 0, errors = 0;
  const post = async (i) => {
    const r = await request(`${d.url}/rx/full/k${i % 4}/maxq`, { method: 'POST', dispatcher: agent, signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tag: `q-${i}`, i }) });
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
  const refusedWhileFull = pending.length;
  const errorsWhileFull = errors;
  const held = (await stats(d.url)).edge.inQueue;
  const ready = await fetch(`${d.url}/readyz`);
  const readyBody = await ready.json().catch(() => ({}));
  log(`  full: ${ackedWhileFull} acked, ${pending.length} refused, held ${held}, readyz ${ready.status} ${readyBody.message}`);
  // Phase 2: the stage comes up; refused clients retry after Retry-After.
  rcv = await scope.receiver({ port: rcvPort });
  const t0 = Date.now();
  let gaveUp = 0;
  await Promise.all(Array.from({ length: conns }, async () => {
    while (pending.length && !signal?.aborted) {
      const i = pending.shift();
      for (let attempt = 0; ; attempt++) {
        if (Date.now() - t0 > 90_000) { gaveUp++; break; }
        let r;
        try { r = await post(i); } catch { errors++; r = { status: 0, retryAfter: 1 }; }
        if (r.status === 200) break;
        await scope.sleep(Math.min(r.retryAfter, 2) * 1000); // as told by Retry-After
      }
    }
  }));
  const recoverMs = Date.now() - t0;
  // Quiescence, not a fixed sleep: nothing held, the edge's counters and the
  // receiver's request count still over several forwarder polls. A duplicate
  // sent late would have arrived by then.
  const quiet = await waitQuiet({ url: d.url, receiver: rcv, timeoutMs: 60_000, signal });
  const received = new Set(rcv.state.counts.keys());
  const missing = [...acked].filter((u) => !received.has(u));
  const extra = [...received].filter((u) => !acked.has(u));
  let duplicated = 0;
  for (const n of rcv.state.counts.values()) duplicated += n - 1;
  const readyAfter = (await fetch(`${d.url}/readyz`)).status;
  return result(name, {
    acked: acked.size, documents: rcv.state.messages.length, lost: missing.length, duplicated,
    refused: Object.fromEntries(refused),
    notes: `--maxq ${maxq}: ${ackedWhileFull} of ${total} acked while the stage was down, ${refusedWhileFull} refused (held ${held}), /readyz ${ready.status}; all ${total} acked ${recoverMs} ms after the stage came up; ${errors} connection errors; quiet at ${JSON.stringify(quiet)}${missing.length ? `; missing e.g. ${missing.slice(0, 3).join(',')}` : ''}`,
    checks: [
      { what: `exactly --maxq (${maxq}) acked while the stage was down (${ackedWhileFull})`, ok: ackedWhileFull === maxq },
      { what: `exactly ${total - maxq} refused while full (${refusedWhileFull}, ${errorsWhileFull} of them connection errors)`, ok: refusedWhileFull === total - maxq && errorsWhileFull === 0 },
      { what: `the store held exactly --maxq (${held})`, ok: held === maxq },
      { what: `every refusal was a 503 with Retry-After and a JSON FAIL (${bad503} not)`, ok: bad503 === 0 && refused.size > 0 },
      { what: '/readyz was 503 while full', ok: ready.status === 503 },
      { what: `every message acked after recovery (${gaveUp} gave up)`, ok: gaveUp === 0 && acked.size === total },
      { what: '/readyz 200 after the drain', ok: readyAfter === 200 },
      { what: `nothing delivered that no 200 acknowledged (${extra.length} extra)`, ok: extra.length === 0 },
      { what: `the receiver rejected no batch (${rcv.state.errors.length})`, ok: rcv.state.errors.length === 0 },
    ],
  });
}
