// Slow and idle clients: connections that send their headers at 1 byte per
// 100 ms, others that trickle their bodies, and 5000 idle connections (2000
// in quick mode), while a normal client posts one message at a time: all
// its messages get a 200 and its p99 stays under a bound. The p99 counts
// only while every idle and slow connection is still open (and every slow one
// still sending): the server closes an idle connection after about 10 s
// (uWS), so the measured posts stop MEASURE_MS after the first one opened,
// and the check fails if any of them closed before the last measured post.
import net from 'node:net';
import { Agent, request } from 'undici';
import { stats } from '../../helpers/daemon.mjs';
import { result, sleep, waitQuiet } from '../lib.mjs';

export const name = 'slow and idle clients vs a normal client';
export const P99_BOUND_MS = 200; // on the shared 2-core test box
const MEASURE_MS = 7000; // from the first hostile connection: within uWS's 10 s idle timeout
const MIN_MEASURED = 200; // posts, so that p99 is not the max of a handful

function connect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function timedPosts(url, n, agent, gapMs = 0, { stopAt = Infinity, signal } = {}) {
  const lat = [];
  let lastEnd = 0;
  const refused = new Map();
  const acked = new Set();
  for (let i = 0; i < n && Date.now() < stopAt && !signal?.aborted; i++) {
    const t0 = performance.now();
    try {
      const r = await request(`${url}/rx/normal/k/slow/test`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tag: `n-${i}`, i }) });
      const text = await r.body.text();
      if (r.statusCode === 200) acked.add(JSON.parse(text).uuid);
      else refused.set(r.statusCode, (refused.get(r.statusCode) ?? 0) + 1);
    } catch {
      refused.set('error', (refused.get('error') ?? 0) + 1);
    }
    lat.push(performance.now() - t0);
    lastEnd = Date.now();
    if (gapMs) await sleep(gapMs);
  }
  const posts = lat.length;
  lat.sort((a, b) => a - b);
  return { posts, lastEnd, acked, refused, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] };
}

export async function run({ quick, log = () => {}, signal, scope }) {
  const n = quick ? 1500 : 3000; // at most: the measured posts stop at MEASURE_MS
  const idle = quick ? 2000 : 5000; // the issue asks for 5,000 in the long run
  const dir = await scope.tempDir();
  const rcv = await scope.receiver();
  const d = await scope.daemon('edge', ['--path', dir, '--ingest', rcv.url, '--interval', '0.2', '--log-level', 'warn']);
  const idleSockets = [];
  const slowSockets = [];
  const timers = [];
  const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  await scope.defer('sockets and agent', async () => {
    for (const t of timers) clearInterval(t);
    for (const s of [...idleSockets, ...slowSockets]) s.destroy();
    await agent.destroy().catch(() => {});
  });
  const baseline = await timedPosts(d.url, Math.min(300, n), agent, 0, { signal });
  // The idle connections, opened 200 at a time; each remembers when it closed.
  const firstOpen = Date.now();
  for (let i = 0; i < idle; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, idle - i) }, () => connect(d.port)));
    for (const s of batch.filter(Boolean)) {
      s.once('close', () => (s.closedAt ??= Date.now()));
      idleSockets.push(s);
    }
  }
  const idleOpened = idleSockets.length;
  const openedMs = Date.now() - firstOpen;
  // 5 connections sending headers 1 byte / 100 ms, 5 trickling a body (padded
  // so both kinds are still sending when the measured posts end).
  let slowOk = 0;
  for (let k = 0; k < 10; k++) {
    const s = await connect(d.port);
    if (!s) continue;
    slowSockets.push(s);
    s.once('close', () => (s.closedAt ??= Date.now()));
    let got = '';
    s.on('data', (c) => {
      got += c;
      if (!s.answeredAt && /^HTTP\/1\.1 \d{3}/.test(got)) {
        s.answeredAt = Date.now();
        if (/^HTTP\/1\.1 200/.test(got)) slowOk++;
      }
    });
    const body = JSON.stringify({ slow: k, pad: 'x'.repeat(150) });
    const head = `POST /rx/slow/k${k}/trickle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const bytes = k < 5 ? head + body : body;
    if (k >= 5) s.write(head);
    let pos = 0;
    timers.push(setInterval(() => {
      if (pos < bytes.length && !s.destroyed) s.write(bytes[pos++]);
    }, 100));
  }
  await scope.sleep(300);
  const tl = Date.now();
  const loaded = await timedPosts(d.url, n, agent, quick ? 5 : 3, { stopAt: firstOpen + MEASURE_MS, signal });
  const loadedMs = loaded.lastEnd - tl;
  // Which hostile connections were gone, or no longer slow, before the last measured post ended.
  const idleGone = idleSockets.filter((s) => s.closedAt !== undefined && s.closedAt <= loaded.lastEnd).length;
  const slowGone = slowSockets.filter((s) => (s.closedAt !== undefined && s.closedAt <= loaded.lastEnd) || (s.answeredAt !== undefined && s.answeredAt <= loaded.lastEnd)).length;
  // Every acked normal message forwarded exactly once, nothing else but the slow ones.
  await waitQuiet({ url: d.url, receiver: rcv, timeoutMs: 60_000, signal });
  const received = new Set(rcv.state.counts.keys());
  const missing = [...loaded.acked].filter((u) => !received.has(u));
  let duplicated = 0;
  for (const c of rcv.state.counts.values()) duplicated += c - 1;
  const extra = rcv.state.messages.filter((m) => m.producer !== 'slow' && !loaded.acked.has(m.uuid) && !baseline.acked.has(m.uuid)).length;
  const later = { idleOpen: idleSockets.filter((s) => !s.destroyed).length, slowClosed: slowSockets.filter((s) => s.closedAt !== undefined).length };
  const st = await stats(d.url);
  const fmt = (x) => x.toFixed(1);
  return result(name, {
    acked: loaded.acked.size, documents: loaded.acked.size - missing.length, lost: missing.length, duplicated,
    refused: Object.fromEntries(loaded.refused),
    notes: `normal client ${loaded.posts} posts over ${(loadedMs / 1000).toFixed(1)} s with ${idleOpened} idle (opened in ${openedMs} ms) + ${slowSockets.length} slow connections open: p50 ${fmt(loaded.p50)} ms, p99 ${fmt(loaded.p99)} ms, max ${fmt(loaded.max)} ms (baseline without them p99 ${fmt(baseline.p99)} ms); during it ${idleGone} idle and ${slowGone} slow connections closed or finished; after: ${later.idleOpen} idle still open, ${later.slowClosed} slow closed by the server, ${slowOk} slow answered 200; daemon held ${st.edge.inQueue}`,
    checks: [
      { what: `every measured post got a 200 (${loaded.acked.size} of ${loaded.posts})`, ok: loaded.acked.size === loaded.posts },
      { what: `at least ${MIN_MEASURED} posts measured while every hostile connection was open (${loaded.posts})`, ok: loaded.posts >= MIN_MEASURED },
      { what: `p99 ${fmt(loaded.p99)} ms under ${P99_BOUND_MS} ms`, ok: loaded.p99 < P99_BOUND_MS },
      { what: `${idle} idle connections were opened (${idleOpened})`, ok: idleOpened >= idle },
      { what: `every idle connection still open at the last measured post (${idleGone} closed)`, ok: idleGone === 0 },
      { what: `all 10 slow connections open and still sending at the last measured post (${slowSockets.length} opened, ${slowGone} closed or answered)`, ok: slowSockets.length === 10 && slowGone === 0 },
      { what: `nothing forwarded that the normal client did not get a 200 for, but the slow ones (${extra} extra)`, ok: extra === 0 },
      { what: 'the daemon is alive', ok: d.child.exitCode === null },
    ],
  });
}
