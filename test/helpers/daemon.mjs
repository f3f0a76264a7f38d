// Start the real spillway process (dist/cli/main.js) on a free port and
// talk to it over real sockets.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// SPILLWAY_TEST_MAIN: run the tests against another build's entry point
// (e.g. a copy of dist/ with a behaviour broken on purpose, to see a test fail).
export const MAIN = process.env.SPILLWAY_TEST_MAIN ?? join(ROOT, 'dist', 'cli', 'main.js');

export function tempDir(prefix = 'spillway-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Run a program to completion: { code, signal, stdout, stderr }. Killed with
 * SIGKILL after `timeoutMs` (then code is null and signal 'SIGKILL').
 * `options` goes to spawn (env, uid, gid, cwd).
 */
export function runProcess(command, args, { timeoutMs = 20_000, ...options } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Run the CLI to completion (for flag tests): { code, signal, stdout, stderr }. */
export function runCli(args, { env = {}, timeoutMs = 20_000 } = {}) {
  return runProcess(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeoutMs });
}

/** The pid of the only child of process `pid` (Linux /proc), or undefined. */
function onlyChild(pid) {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length === 1 ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Start `spillway <role> ...args` on a free port; resolves once /healthz
 * answers. Returns { port, url, child, pid, stop(signal), kill(), logs() }.
 * `wrap` runs the daemon under another program (e.g. ['strace', '-f', ...]):
 * child is then that program, and pid, stop() and kill() address the daemon.
 */
export async function startDaemon(role, args = [], { env = {}, port, waitMs = 20_000, wrap = [] } = {}) {
  port ??= await freePort();
  const argv = [MAIN, role, '--port', String(port), '--host', '127.0.0.1', ...args];
  const [command, ...pre] = wrap.length ? [...wrap, process.execPath] : [process.execPath];
  const child = spawn(command, [...pre, ...argv], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + waitMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`spillway exited early (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`spillway did not answer /healthz in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = wrap.length ? onlyChild(child.pid) : child.pid;
  if (pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(`cannot find the daemon's pid under ${command}:\n${out}`);
  }
  const running = () => child.exitCode === null && child.signalCode === null;
  const signal = (sig) => {
    try {
      process.kill(pid, sig);
    } catch {}
  };
  return {
    port,
    url,
    child,
    pid,
    exited,
    logs: () => out,
    async stop(sig = 'SIGTERM') {
      if (running()) signal(sig);
      return exited;
    },
    async kill() {
      if (running()) {
        signal('SIGKILL');
        // A wrapper that outlives its daemon is not left behind either.
        if (wrap.length) setTimeout(() => running() && child.kill('SIGKILL'), 5000).unref();
      }
      return exited;
    },
  };
}

export async function waitFor(what, check, { timeoutMs = 60_000, everyMs = 100 } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function stats(url) {
  return (await fetch(`${url}/stats`)).json();
}
