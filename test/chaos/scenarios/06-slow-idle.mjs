// Slow and idle clients: connections that send their headers at 1 byte per
// 100 ms, others that trickle their bodies, and 5000 idle connections (2000
// in quick mode), while a normal client posts one message at a time: all
// its messages get a 200 and its p99 stays under a bound.
import net from 'node:net';
import { Agent, request } from 'undici';
import { freePort, removeDir, startDaemon, stats, tempDir } from '../../helpers/daemon.mjs';
import { startReceiver } from '../../helpers/receiver.mjs';
import { result, sleep } from '../lib.mjs';

export const name = 'slow and idle clients vs a normal client';
export const P99_BOUND_MS = 200; // on the shared 2-core test box

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

async function timedPosts(url, n, agent, gapMs = 0) {
  const lat = [];
  const refused = new Map();
  const acked = new Set();
  for (let i = 0; i < n; i++) {
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
    if (gapMs) await sleep(gapMs);
  }
  lat.sort((a, b) => a - b);
  return { acked, refused, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] };
}

export async function run({ quick, log = () => {} }) {
  const n = quick ? 800 : 3000;
  const idle = quick ? 2000 : 5000; // the issue asks for 5,000 in the long run
  const dir = tempDir('spillway-chaos-');
  const rcvPort = await freePort();
  const rcv = await startReceiver({ port: rcvPort });
  const d = await startDaemon('edge', ['--path', dir, '--ingest', rcv.url, '--interval', '0.2', '--log-level', 'warn']);
  const sockets = [];
  const timers = [];
  const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  try {
    const baseline = await timedPosts(d.url, Math.min(300, n), agent);
    // The idle connections, opened 200 at a time.
    for (let i = 0; i < idle; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, idle - i) }, () => connect(d.port)));
      sockets.push(...batch.filter(Boolean));
    }
    const idleOpened = sockets.length;
    // 5 connections sending headers 1 byte / 100 ms, 5 trickling a body.
    let slowClosed = 0, slowOk = 0;
    for (let k = 0; k < 10; k++) {
      const s = await connect(d.port);
      if (!s) continue;
      sockets.push(s);
      s.once('close', () => slowClosed++);
      let got = '';
      s.on('data', (c) => { got += c; if (/^HTTP\/1\.1 200/.test(got)) slowOk++; });
      const body = JSON.stringify({ slow: k, pad: 'x'.repeat(20) });
      const head = `POST /rx/slow/k${k}/trickle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      let bytes = k < 5 ? head + body : body;
      if (k >= 5) s.write(head);
      let pos = 0;
      timers.push(setInterval(() => {
        if (pos < bytes.length && !s.destroyed) s.write(bytes[pos++]);
      }, 100));
    }
    await sleep(500);
    const tl = Date.now();
    // Paced so the run outlasts the server's idle timeouts and the slow senders' headers.
    const loaded = await timedPosts(d.url, n, agent, quick ? 12 : 10);
    const loadedMs = Date.now() - tl;
    const alive = sockets.filter((s) => !s.destroyed).length;
    // Give the normal messages time to reach the receiver.
    const until = Date.now() + 30_000;
    const delivered = () => [...loaded.acked].filter((u) => rcv.state.counts.has(u)).length;
    while (delivered() < loaded.acked.size && Date.now() < until) await sleep(200);
    let duplicated = 0;
    for (const u of loaded.acked) duplicated += Math.max(0, (rcv.state.counts.get(u) ?? 0) - 1);
    const s = await stats(d.url);
    const fmt = (x) => x.toFixed(1);
    return result(name, {
      acked: loaded.acked.size, documents: delivered(), lost: loaded.acked.size - delivered(), duplicated,
      refused: Object.fromEntries(loaded.refused),
      notes: `normal client ${n} posts over ${(loadedMs / 1000).toFixed(1)} s: p50 ${fmt(loaded.p50)} ms, p99 ${fmt(loaded.p99)} ms, max ${fmt(loaded.max)} ms (baseline without hostile clients p99 ${fmt(baseline.p99)} ms); ${idleOpened} idle + 10 slow connections opened, ${alive} still open at the end (slow ones closed by the server: ${slowClosed}, slow ones answered 200: ${slowOk}); daemon held ${s.edge.inQueue}`,
      checks: [
        { what: `all ${n} posts got a 200`, ok: loaded.acked.size === n },
        { what: `p99 ${fmt(loaded.p99)} ms under ${P99_BOUND_MS} ms`, ok: loaded.p99 < P99_BOUND_MS },
        { what: `${idle} idle connections were opened`, ok: idleOpened >= idle },
        { what: 'the daemon is alive', ok: d.child.exitCode === null },
      ],
    });
  } finally {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await agent.destroy().catch(() => {});
    await d.kill();
    await rcv.close();
    removeDir(dir);
  }
}
