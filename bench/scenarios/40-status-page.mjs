// The cost of open status pages on /rx: the same wrk load as the ingest
// rows (an edge whose stage is unreachable, --ops-port set) with 0, 1 and
// 1000 sockets open on /status/ws, in interleaved rounds (1 quick, 3 full,
// or SPILLWAY_STATUS_BENCH_ROUNDS), so that a shared machine's drift falls
// on every count alike. The sockets are held by a child
// process of their own (this file run with --hold), which counts the frames
// each receives: a row is only a measure of the pushes if they arrived.
// Also the daemon's CPU and memory with no load, with 0 and with 1000 sockets open.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { freePort, MAIN, removeDir, waitFor } from '../../test/helpers/daemon.mjs';
import { posEventJson } from '../../load/lib/payload.mjs';
import { cpuSeconds, measure, memory } from '../lib/proc.mjs';
import { runWrk } from '../lib/wrk.mjs';

export const title = 'status page: /rx with open status sockets';

/** Hold `n` status sockets open in a child process; resolves once every one has its hello. */
async function holdSockets(ops, n) {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--hold', ops, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(`${n} status sockets open`, () => {
    if (child.exitCode !== null) throw new Error(`the socket holder exited: ${out}`);
    return out.includes('ready');
  }, { timeoutMs: 60_000, everyMs: 50 });
  const mark = () => {
    child.stdin.write('mark\n');
    const before = out.length;
    return waitFor('the holder\'s count', () => out.length > before && out.slice(before).includes('\n') && JSON.parse(out.slice(before).split('\n')[0]));
  };
  return {
    /** Frames received by all sockets so far, and the sockets still open. */
    mark,
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

async function startEdge(dir) {
  const [port, opsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [MAIN, 'edge', '--port', String(port), '--host', '127.0.0.1', '--ops-port', String(opsPort),
    '--path', dir, '--maxq', '100000000', '--ingest', 'http://127.0.0.1:9/in', '--retry-max', '5', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  const ops = `http://127.0.0.1:${opsPort}`;
  await waitFor('the edge', async () => (await fetch(`${ops}/healthz`).catch(() => undefined))?.ok, { timeoutMs: 20_000, everyMs: 50 });
  return {
    url: `http://127.0.0.1:${port}`, ops, pid: child.pid,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function run(ctx) {
  const { seconds, ingestWarmSeconds, connections } = ctx.settings;
  const dir = ctx.dir('status-page');
  const edge = await startEdge(dir);
  const fleet = { fleet: 1000, body: posEventJson(0), url: `${edge.url}/rx/pos/till-{n}/sale` };
  try {
    ctx.log('warm-up (not measured)');
    await runWrk({ seconds: ingestWarmSeconds, connections, dir: ctx.work, ...fleet });
    const once = async (n, name) => {
      ctx.log(name);
      const holder = n > 0 ? await holdSockets(edge.ops, n) : undefined;
      try {
        const before = await holder?.mark();
        const m = await measure(edge.pid, () => runWrk({ seconds, connections, dir: ctx.work, ...fleet }));
        const after = await holder?.mark();
        const { raw, ...r } = m.result;
        const acknowledged = r.requests - r.non2xx;
        const frames = holder ? after.frames - before.frames : 0;
        if (holder && after.open !== n) ctx.fail(`${name}: ${after.open} of ${n} status sockets still open after the load`);
        return {
          kind: 'ingest', ...r, messagesPerSecond: (r.rps * acknowledged) / Math.max(1, r.requests),
          connections, cpuCores: m.cpuCores, cpuPerMessageUs: acknowledged ? (m.cpuCores * m.wallSeconds * 1e6) / acknowledged : undefined,
          peakRssMiB: m.peakRssMiB, anonRssMiB: m.anonRssMiB, bodyBytes: Buffer.byteLength(fleet.body),
          statusSockets: n, framesPerSocketPerSecond: n ? frames / n / m.wallSeconds : 0,
        };
      } finally {
        await holder?.stop();
      }
    };
    // Rounds of 0, 1 and 1000 sockets, interleaved so that a neighbour's load
    // falls on every count alike; each row is its median round (by req/s).
    const rounds = Number(process.env.SPILLWAY_STATUS_BENCH_ROUNDS ?? (ctx.quick ? 1 : 3));
    const counts = [0, 1, 1000];
    const runs = new Map(counts.map((n) => [n, []]));
    for (let i = 0; i < rounds; i++) {
      for (const n of counts) runs.get(n).push(await once(n, `status sockets: ${n} (round ${i + 1} of ${rounds})`));
    }
    const rows = {};
    for (const n of counts) {
      const all = runs.get(n).sort((x, y) => x.rps - y.rps);
      const median = all[Math.floor(all.length / 2)];
      rows[n] = ctx.row(`status page: /rx with ${n} status socket${n === 1 ? '' : 's'}`, { ...median, rounds: all.map((x) => Math.round(x.rps)) });
    }
    for (const n of [1, 1000]) rows[n].ofNoSockets = rows[n].rps / rows[0].rps;
    ctx.log(`req/s by round: ${counts.map((n) => `${n}: ${rows[n].rounds.join(', ')}`).join('; ')}`);

    // The daemon with nothing to do: what the sampler and the pushes cost alone.
    const idle = async (n) => {
      const holder = n > 0 ? await holdSockets(edge.ops, n) : undefined;
      try {
        const c0 = cpuSeconds(edge.pid);
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, seconds * 1000));
        return { cpuCores: (cpuSeconds(edge.pid) - c0) / ((performance.now() - t0) / 1000), anonRssMiB: memory(edge.pid).anonRssMiB };
      } finally {
        await holder?.stop();
      }
    };
    const idle0 = await idle(0);
    const idle1000 = await idle(1000);
    ctx.row('status page: idle daemon', {
      kind: 'status-idle', cpuCoresNoSockets: idle0.cpuCores, cpuCores1000Sockets: idle1000.cpuCores,
      anonRssMiBNoSockets: idle0.anonRssMiB, anonRssMiB1000Sockets: idle1000.anonRssMiB,
    });
    ctx.log(`idle daemon: ${idle0.cpuCores.toFixed(3)} cores and ${idle0.anonRssMiB.toFixed(0)} MiB anonymous RSS with no status socket, ` +
      `${idle1000.cpuCores.toFixed(3)} cores and ${idle1000.anonRssMiB.toFixed(0)} MiB with 1000`);
  } finally {
    await edge.kill();
    removeDir(dir);
  }
}

// ---- run as `node 40-status-page.mjs --hold URL N`: hold N sockets, count their frames.
// Prints "ready" once every socket has its hello; each "mark" line on stdin
// prints {"frames":…, "open":…}; stdin's end closes them all and exits.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--hold') {
  const { WebSocket } = await import('undici');
  const [url, n] = [process.argv[3].replace(/^http/, 'ws') + '/status/ws', Number(process.argv[4])];
  let frames = 0;
  let open = 0;
  let hellos = 0;
  const sockets = [];
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => {
      const ws = new WebSocket(url);
      ws.addEventListener('message', (ev) => {
        if (typeof ev.data === 'string' && ev.data.startsWith('{"type":"hello"')) hellos++;
        else frames++;
      });
      ws.addEventListener('close', () => open--);
      sockets.push(ws);
      return new Promise((resolve, reject) => {
        ws.addEventListener('open', () => resolve(open++), { once: true });
        ws.addEventListener('error', () => reject(new Error('a status socket did not open')), { once: true });
      });
    });
    await Promise.all(batch);
  }
  while (hellos < n) await new Promise((r) => setTimeout(r, 20));
  process.stdout.write('ready\n');
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    for (const line of d.split('\n')) if (line === 'mark') process.stdout.write(`${JSON.stringify({ frames, open })}\n`);
  });
  process.stdin.on('end', () => {
    for (const ws of sockets) ws.close();
    setTimeout(() => process.exit(0), 200);
  });
}
