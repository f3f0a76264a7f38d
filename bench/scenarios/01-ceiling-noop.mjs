// The HTTP ceiling: a do-nothing uWebSockets.js server (bench/noop-server.mjs)
// that reads the body and answers Spillway's 200, under the same wrk load as
// the /rx rows, warmed up first as the Spillway rows are. Its CPU per request
// is the yardstick of the "CPU per message ≤ 4×" target.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { compactPosEventJson, posEventJson } from '../../load/lib/payload.mjs';
import { measure } from '../lib/proc.mjs';
import { runWrk } from '../lib/wrk.mjs';

export const title = 'ceiling: do-nothing uWebSockets.js';

async function noopServer(root) {
  const child = spawn(process.execPath, [join(root, 'bench', 'noop-server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const exited = new Promise((r) => child.once('exit', r));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => (child.kill('SIGKILL'), exited) };
}

export async function run(ctx) {
  const { seconds, ingestWarmSeconds: warmSeconds, connections } = ctx.settings;
  const noop = await noopServer(ctx.root);
  try {
    for (const [name, body] of [['ceiling: do-nothing uWebSockets.js', posEventJson(0)], ['ceiling: do-nothing uWebSockets.js (134 B)', compactPosEventJson(0)]]) {
      const load = (s) => runWrk({ url: `${noop.url}/rx/pos/till-{n}/sale`, fleet: 1000, body, seconds: s, connections, dir: ctx.work });
      await load(warmSeconds); // unmeasured, as long as the ingest rows' edge is warmed up
      const m = await measure(noop.pid, () => load(seconds));
      const { raw, ...r } = m.result;
      ctx.row(name, {
        kind: 'ingest', ceiling: true, ...r, messagesPerSecond: r.rps, connections, bodyBytes: Buffer.byteLength(body),
        cpuCores: m.cpuCores, cpuPerMessageUs: (m.cpuCores * m.wallSeconds * 1e6) / Math.max(1, r.requests),
        peakRssMiB: m.peakRssMiB, anonRssMiB: m.anonRssMiB,
        how: `wrk, 2 threads, ${connections} connections, ${seconds} s after a ${warmSeconds} s unmeasured warm-up; fleet of 1000 paths`,
      });
    }
  } finally {
    await noop.stop();
  }
}
