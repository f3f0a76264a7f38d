// The real reference peers — the Go rxtx (edge), the Go rtbeat (stage) and a
// prebuilt Fluent Bit — built from ../shared/peers and run as child processes
// on free ports. One module for the interop tests and the bench.
//
//   PEERS_DIR                 where build.sh and fluent-bit/ are
//   PeerUnavailable           thrown (with a one-line .reason) when a peer cannot be built or run here
//   buildPeer(name)           'rxtx' | 'rtbeat' → absolute path of the binary (build.sh caches it)
//   fluentBitPath()           → path of the prebuilt fluent-bit (checks its libraries with ldd)
//   startRxtx(opts)           → { url, port, pid, child, dir, stop(), kill(), metrics(), waitDrained(), logs() }
//   startVersionProxy(opts)   → { url, port, close() }  GET / answers a version document, the rest passes through
//   startRtbeat(opts)         → { url, port, pid, child, dir, esUrl, index, template, stop(), kill(), restart(), metrics(), logs(), deleteTemplate() }
//   startFluentBit(opts)      → { url, port, pid, child, dir, index, stop(), kill(), logs() }
//   requirePeer(t, fn)        run fn; a PeerUnavailable fails under CI, skips the test elsewhere
//
// Every process started here is killed by its stop()/kill(), and with SIGKILL
// when this process exits (or dies of SIGINT/SIGTERM/SIGHUP): no orphans.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, ROOT } from './daemon.mjs';
import { ES_URL } from './es.mjs';

const CANDIDATES = [process.env.SPILLWAY_PEERS_DIR, join(ROOT, '..', 'shared', 'peers'), '/work/shared/peers'].filter(Boolean).map((d) => resolve(d));

/** The first of $SPILLWAY_PEERS_DIR, <repo>/../shared/peers, /work/shared/peers that has build.sh. */
export const PEERS_DIR = CANDIDATES.find((d) => existsSync(join(d, 'build.sh'))) ?? CANDIDATES[0];

/** Where build.sh caches binaries (same rule as the script); the build lock lives there too. */
export const PEERS_CACHE = process.env.SPILLWAY_PEERS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'spillway-peers');

export class PeerUnavailable extends Error {
  constructor(reason) {
    super(`peer unavailable: ${reason}`);
    this.name = 'PeerUnavailable';
    this.reason = reason;
  }
}

const isCI = () => Boolean(process.env.CI);
const tail = (text, n = 1) => String(text).trim().split('\n').slice(-n).join(' | ');

// ---------------------------------------------------------------------------
// Children: every process started here, killed on exit.

const children = new Set();
let hooked = false;

function killAllNow() {
  for (const c of children) {
    try {
      // A build runs in its own process group (flock → bash → go → compilers): kill all of it.
      if (c.spillwayGroup) process.kill(-c.pid, 'SIGKILL');
      else c.kill('SIGKILL');
    } catch {}
  }
  children.clear();
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const onSignal = () => {
      killAllNow();
      // Keep the default behaviour (die of the signal) unless someone else handles it.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/** Spawn and track; collect the last 256 KiB of stdout+stderr; line callback optional. */
function launch(bin, args, { cwd, env, onLine } = {}) {
  const child = spawn(bin, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const state = { out: '', partial: '' };
  const onData = (d) => {
    const s = d.toString();
    state.out = (state.out + s).slice(-256 * 1024);
    if (onLine) {
      const lines = (state.partial + s).split('\n');
      state.partial = lines.pop();
      for (const l of lines) onLine(l);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.on('error', () => {}); // spawn errors surface as exit
  return { child, exited, logs: () => state.out };
}

const alive = (child) => child.exitCode === null && child.signalCode === null;

/** SIGTERM (or `signal`), then SIGKILL after graceMs; resolves { code, signal } when gone. */
async function terminate(p, signal = 'SIGTERM', graceMs = 10_000) {
  if (alive(p.child)) p.child.kill(signal);
  if (signal !== 'SIGKILL') {
    const timer = setTimeout(() => alive(p.child) && p.child.kill('SIGKILL'), graceMs);
    const r = await p.exited;
    clearTimeout(timer);
    return r;
  }
  return p.exited;
}

/** Poll `check` until truthy; throw with the process's log tail if it exits or time runs out. */
async function waitReady(what, p, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(p.child)) {
      const r = await p.exited;
      throw new Error(`${what} exited before it was ready (code ${r.code}, signal ${r.signal}):\n${tail(p.logs(), 30)}`);
    }
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > until) {
      p.child.kill('SIGKILL');
      throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${tail(p.logs(), 30)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const answers = (url) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.body?.cancel().then(() => r.ok), () => false);

const listening = (port) =>
  new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });

/** Prometheus text → { name: value } (labels kept in the key; last sample wins). */
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?)\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function scrape(url) {
  const r = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  return parseMetrics(await r.text());
}

function ownDir(dir, prefix) {
  if (dir) {
    mkdirSync(dir, { recursive: true });
    return { dir: resolve(dir), cleanup: () => {} };
  }
  const d = mkdtempSync(join(tmpdir(), prefix));
  return { dir: d, cleanup: () => rmSync(d, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------
// Build

const builds = new Map();

/**
 * Build `rxtx` or `rtbeat` with $PEERS_DIR/build.sh (which caches the binary
 * and rebuilds only when the source changes; rtbeat takes minutes the first
 * time) and return the binary's absolute path. Concurrent callers (tests and
 * bench at once) are serialized with flock on the cache's lock file.
 * Throws PeerUnavailable with a one-line reason (exit 3: go is missing).
 */
export function buildPeer(name) {
  if (name !== 'rxtx' && name !== 'rtbeat') return Promise.reject(new Error(`buildPeer: unknown peer '${name}' (rxtx or rtbeat)`));
  if (!builds.has(name)) {
    const p = build(name);
    builds.set(name, p);
    p.catch(() => builds.delete(name));
  }
  return builds.get(name);
}

async function build(name) {
  const script = join(PEERS_DIR, 'build.sh');
  if (!existsSync(script)) throw new PeerUnavailable(`${name}: no build.sh in ${CANDIDATES.join(', ')} (set SPILLWAY_PEERS_DIR)`);
  let cmd = 'bash';
  let args = [script, name];
  try {
    mkdirSync(PEERS_CACHE, { recursive: true });
    execFileSync('flock', ['--version'], { stdio: 'ignore' });
    cmd = 'flock';
    args = [join(PEERS_CACHE, '.build.lock'), 'bash', script, name];
  } catch {}
  const r = await new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env, detached: true });
    child.spillwayGroup = true;
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-64 * 1024);
      if (process.env.SPILLWAY_PEERS_VERBOSE) process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 20 * 60_000);
    child.on('error', (e) => res({ code: null, stdout, stderr: `${stderr}\n${e.message}` }));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
  });
  if (r.code === 3) throw new PeerUnavailable(`${name}: go is not installed (build.sh exit 3)`);
  if (r.code !== 0) throw new PeerUnavailable(`${name}: build.sh failed (${r.signal ?? `exit ${r.code}`}): ${tail(r.stderr) || 'no output'}`);
  const bin = r.stdout.trim().split('\n').pop();
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new PeerUnavailable(`${name}: build.sh printed '${bin}', which is not an executable`);
  }
  return resolve(bin);
}

/**
 * The prebuilt Fluent Bit 5.1.1 in $PEERS_DIR/fluent-bit/, after `ldd`
 * finds all its libraries (libsqlite3-0, libyaml-0-2, libssl3 on Debian 12).
 */
export function fluentBitPath() {
  const bin = join(PEERS_DIR, 'fluent-bit', 'fluent-bit');
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new PeerUnavailable(`fluent-bit: no executable at ${bin}`);
  }
  let out;
  try {
    out = execFileSync('ldd', [bin], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (e.code === 'ENOENT') return bin; // no ldd: let the start tell
    throw new PeerUnavailable(`fluent-bit: ldd failed: ${tail(e.stderr ?? e.message)}`);
  }
  const missing = out.split('\n').filter((l) => /not found/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
  if (missing.length) throw new PeerUnavailable(`fluent-bit: missing libraries ${missing.join(', ')} (apt-get install -y libsqlite3-0 libyaml-0-2 libssl3)`);
  return bin;
}

// ---------------------------------------------------------------------------
// rxtx

/**
 * Start the Go rxtx on a free port, storing in `dir` (a temp dir, removed on
 * stop/kill, when not given) and sending batches to `ingest`. Resolves once
 * /metrics answers. Routes: POST /rx|/rxs|/rxa/P/K/L... (the 200 body is
 * {"status":"OK"}, no uuid).
 *
 * Extras beside the agreed API:
 *   metrics()        its /metrics as { name: value }
 *   waitDrained({ received, timeoutMs })  once rxtx has counted `received`
 *                    messages, wait for a send cycle that starts after that
 *                    and finds the queue empty (its QueueState log line and
 *                    rxtx_messages_in_queue both 0), i.e. everything written
 *                    was sent and acknowledged by the ingest URL.
 *   ticks()          how many send cycles it has logged
 * env: extra environment (e.g. TZ: Go stamps message times in local time).
 */
export async function startRxtx({ ingest, interval = 1, batch = 5000, maxq = 10_000_000, dir, port, bin, env, readyMs = 20_000 } = {}) {
  if (!ingest) throw new Error('startRxtx: ingest URL required');
  bin ??= await buildPeer('rxtx');
  const store = ownDir(dir, 'rxtx-peer-');
  let lastPortError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const p0 = port ?? (await freePort());
    const queue = { ticks: 0, last: undefined, waiters: new Set() };
    const onLine = (line) => {
      if (!line.includes('"QueueState"') || !line.includes('"TotalRecords"')) return;
      try {
        const j = JSON.parse(line);
        queue.ticks++;
        queue.last = j.TotalRecords;
        for (const w of queue.waiters) w();
      } catch {}
    };
    // -path is joined to "rxtx.db" by string concatenation: it needs the trailing slash.
    const args = ['-port', String(p0), '-path', store.dir.endsWith('/') ? store.dir : `${store.dir}/`, '-ingest', ingest,
      '-interval', String(interval), '-batch', String(batch), '-maxq', String(maxq)];
    const p = launch(bin, args, { cwd: store.dir, env, onLine });
    const url = `http://127.0.0.1:${p0}`;
    try {
      await waitReady('rxtx', p, () => answers(`${url}/metrics`), readyMs);
    } catch (e) {
      if (port === undefined && /address already in use/.test(p.logs())) {
        lastPortError = e;
        continue;
      }
      store.cleanup();
      throw e;
    }
    const handle = {
      url, port: p0, pid: p.child.pid, child: p.child, dir: store.dir, exited: p.exited, args,
      logs: p.logs,
      ticks: () => queue.ticks,
      metrics: () => scrape(url),
      async waitDrained({ received, timeoutMs = 120_000 } = {}) {
        const until = Date.now() + timeoutMs;
        const left = () => Math.max(0, until - Date.now());
        let m;
        if (received !== undefined) {
          for (;;) {
            m = await scrape(url);
            if ((m.rxtx_total_messages_received ?? 0) >= received) break;
            if (!left()) throw new Error(`rxtx counted ${m.rxtx_total_messages_received} of ${received} messages`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        // A cycle that starts after this point and finds nothing queued.
        const from = queue.ticks;
        for (;;) {
          if (queue.ticks > from && queue.last === 0) {
            m = await scrape(url);
            if (m.rxtx_messages_in_queue === 0) return m;
          }
          if (!alive(p.child)) throw new Error(`rxtx exited while draining:\n${tail(p.logs(), 20)}`);
          if (!left()) throw new Error(`rxtx did not drain in ${timeoutMs} ms (queue ${queue.last}, gauge ${m?.rxtx_messages_in_queue})`);
          await new Promise((r) => {
            const w = () => (queue.waiters.delete(w), clearTimeout(t), r());
            const t = setTimeout(w, Math.min(500, left()));
            queue.waiters.add(w);
          });
        }
      },
      async stop(signal = 'SIGTERM') {
        const r = await terminate(p, signal);
        store.cleanup();
        return r;
      },
      async kill() {
        const r = await terminate(p, 'SIGKILL');
        store.cleanup();
        return r;
      },
    };
    return handle;
  }
  store.cleanup();
  throw lastPortError;
}

// ---------------------------------------------------------------------------
// The GET / proxy rtbeat needs in front of the integ-test-zip Elasticsearch

export const VERSION_DOC = { version: { number: '8.19.21' }, tagline: 'You Know, for Search' };

/**
 * An HTTP proxy on a free port: `GET /` (and HEAD /) answers VERSION_DOC with
 * `X-Elastic-Product: Elasticsearch`; every other request streams through to
 * `target` over keep-alive connections. Resolves { url, port, close() }.
 */
export async function startVersionProxy({ target = ES_URL, port = 0 } = {}) {
  const t = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const versionBody = JSON.stringify(VERSION_DOC);
  const server = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-elastic-product': 'Elasticsearch',
        'content-length': Buffer.byteLength(versionBody),
      });
      res.end(req.method === 'HEAD' ? undefined : versionBody);
      return;
    }
    const up = http.request({
      protocol: t.protocol, hostname: t.hostname, port: t.port || 80, method: req.method,
      path: req.url, headers: { ...req.headers, host: t.host }, agent,
    }, (ur) => {
      res.writeHead(ur.statusCode, ur.statusMessage, ur.headers);
      ur.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `version proxy: ${e.message}` }));
      } else res.destroy(e);
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', res);
  });
  const p = server.address().port;
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    close: () =>
      new Promise((res) => {
        server.close(() => res());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

async function answersVersion(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!r.ok) return (await r.body?.cancel(), false);
    const j = await r.json();
    return typeof j?.version?.number === 'string';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// rtbeat

/** 'base' or 'base-%{+yyyy.MM.dd}' → { index, template, pattern } for libbeat. */
function rtbeatIndex(index) {
  const base = index.includes('%{') ? index.slice(0, index.indexOf('%{')).replace(/[-_.]+$/, '') : index;
  return { index: index.includes('%{') ? index : `${index}-%{+yyyy.MM.dd}`, template: base, pattern: `${base}-*` };
}

/**
 * Start the Go rtbeat (libbeat 7.17) on a free port, indexing into `index`
 * ('base' → base-%{+yyyy.MM.dd}; a pattern with %{...} is used as given; the
 * template is named after the base and matches base-*), with path.data in
 * `dir` (a temp dir, removed on stop/kill, when not given).
 *
 * esUrl: when `GET esUrl/` answers a version document (a real distribution,
 * or a proxy from startVersionProxy), rtbeat talks to it directly; when it
 * does not (the integ-test-zip Elasticsearch answers 405), a version proxy in
 * front of it is started here, kept across restart(), closed by stop()/kill().
 * `esUrl` on the handle is the URL rtbeat was given.
 *
 * timeoutSeconds: how long /in waits for the output's ack before its 504.
 * extraConfig: YAML lines appended to rtbeat.yml (e.g. output tuning).
 * Resolves once /metrics answers (the HTTP server that serves /in is up).
 * restart({ kill = false, graceMs }) stops it (SIGTERM, SIGKILL after graceMs;
 * or SIGKILL at once with kill: true) and starts it again on the same port and
 * data dir; pid and child change.
 */
export async function startRtbeat({ esUrl = ES_URL, index, dir, timeoutSeconds = 30, shutdownTimeoutSeconds = 10, extraConfig = '', port, bin, readyMs = 30_000 } = {}) {
  if (!index) throw new Error('startRtbeat: index required');
  bin ??= await buildPeer('rtbeat');
  const store = ownDir(dir, 'rtbeat-peer-');
  let proxy;
  let target = esUrl;
  if (!(await answersVersion(esUrl))) {
    proxy = await startVersionProxy({ target: esUrl });
    target = proxy.url;
  }
  const names = rtbeatIndex(index);
  port ??= await freePort();
  const config = join(store.dir, 'rtbeat.yml');
  writeFileSync(config, [
    'rtbeat:',
    `  port: "${port}"`,
    `  timeout: ${timeoutSeconds}`,
    `  shutdown_timeout: ${shutdownTimeoutSeconds}`,
    'output.elasticsearch:',
    `  hosts: [${JSON.stringify(target)}]`,
    `  index: ${JSON.stringify(names.index)}`,
    `setup.template.name: ${JSON.stringify(names.template)}`,
    `setup.template.pattern: ${JSON.stringify(names.pattern)}`,
    'setup.ilm.enabled: false',
    'logging.level: warning',
    'logging.metrics.enabled: false',
    extraConfig,
    '',
  ].join('\n'));
  chmodSync(config, 0o600); // libbeat refuses a config file others can write
  const args = ['-c', config, '-e', '--path.home', store.dir, '--path.data', join(store.dir, 'data'), '--path.logs', join(store.dir, 'logs')];
  const url = `http://127.0.0.1:${port}`;
  let p;
  const start = async () => {
    p = launch(bin, args, { cwd: store.dir });
    await waitReady('rtbeat', p, () => answers(`${url}/metrics`), readyMs);
  };
  const cleanup = async () => {
    await proxy?.close();
    store.cleanup();
  };
  try {
    await start();
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    url, port, esUrl: target, proxy, dir: store.dir, config, index: names.index, template: names.template, pattern: names.pattern,
    get pid() { return p.child.pid; },
    get child() { return p.child; },
    get exited() { return p.exited; },
    logs: () => p.logs(),
    metrics: () => scrape(url),
    /** Delete the index template libbeat installed (composable, or legacy). */
    async deleteTemplate(url = esUrl) {
      for (const kind of ['_index_template', '_template']) await fetch(`${url}/${kind}/${names.template}`, { method: 'DELETE' }).catch(() => {});
    },
    async restart({ kill = false, graceMs = 15_000 } = {}) {
      const r = await terminate(p, kill ? 'SIGKILL' : 'SIGTERM', graceMs);
      await start();
      return r;
    },
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      const r = await terminate(p, signal, graceMs);
      await cleanup();
      return r;
    },
    async kill() {
      const r = await terminate(p, 'SIGKILL');
      await cleanup();
      return r;
    },
  };
}

// ---------------------------------------------------------------------------
// Fluent Bit

/**
 * Start the prebuilt Fluent Bit with $PEERS_DIR/fluent-bit/fluent-bit.conf,
 * changed only in: the http input's port (a free one), storage.path (in `dir`,
 * a temp dir removed on stop/kill when not given), and the es output's
 * Host/Port/Index. `POST /TAG` with one JSON object answers 201 once the record
 * is appended to a memory-mapped chunk (not synced: survives a process crash,
 * not a power loss). Documents: the posted fields + @timestamp, ids chosen by
 * Elasticsearch. Resolves once the input port accepts connections.
 */
export async function startFluentBit({ esHost = '127.0.0.1', esPort = 9200, index, dir, port, readyMs = 20_000 } = {}) {
  if (!index) throw new Error('startFluentBit: index required');
  const bin = fluentBitPath();
  const store = ownDir(dir, 'fluent-bit-peer-');
  port ??= await freePort();
  const set = { SERVICE: { 'storage.path': join(store.dir, 'store') }, INPUT: { Port: String(port) }, OUTPUT: { Host: esHost, Port: String(esPort), Index: index } };
  let section = '';
  const conf = readFileSync(join(PEERS_DIR, 'fluent-bit', 'fluent-bit.conf'), 'utf8').split('\n').map((line) => {
    const s = /^\s*\[(\w+)\]/.exec(line);
    if (s) section = s[1].toUpperCase();
    const kv = /^(\s*)(\S+)(\s+)(.*)$/.exec(line);
    if (!s && kv && set[section] && Object.hasOwn(set[section], kv[2])) return `${kv[1]}${kv[2]}${kv[3]}${set[section][kv[2]]}`;
    return line;
  }).join('\n');
  const config = join(store.dir, 'fluent-bit.conf');
  writeFileSync(config, conf);
  const p = launch(bin, ['-c', config], { cwd: store.dir });
  try {
    await waitReady('fluent-bit', p, () => listening(port), readyMs);
  } catch (e) {
    store.cleanup();
    throw e;
  }
  return {
    url: `http://127.0.0.1:${port}`, port, pid: p.child.pid, child: p.child, exited: p.exited, dir: store.dir, config, index,
    logs: p.logs,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      const r = await terminate(p, signal, graceMs);
      store.cleanup();
      return r;
    },
    async kill() {
      const r = await terminate(p, 'SIGKILL');
      store.cleanup();
      return r;
    },
  };
}

// ---------------------------------------------------------------------------
// Tests

/**
 * Run `fn` (which builds or starts a peer) for test `t`. A PeerUnavailable
 * fails the test under CI (env CI set); elsewhere the test is skipped with the
 * reason and undefined is returned — so: `const bin = await requirePeer(t, () =>
 * buildPeer('rxtx')); if (!bin) return;`. Other errors always propagate.
 */
export async function requirePeer(t, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof PeerUnavailable && !isCI()) {
      t.skip(e.reason);
      return undefined;
    }
    throw e;
  }
}
