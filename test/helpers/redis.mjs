// Redis for the Redis output's tests: the shared instance of scripts/redis.sh
// (127.0.0.1:6390), and private instances a test starts itself (a password,
// ACL users, TLS, or one it may kill and restart) with startRedisServer().
// Tests that need Redis call requireRedis(t): under CI a missing server or a
// missing redis-server binary fails the test (never a skip).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { freePort, removeDir, ROOT, runProcess, tempDir } from './daemon.mjs';
import { requireLocalServer } from './es.mjs';

export const REDIS_PORT = Number(process.env.SPILLWAY_REDIS_PORT ?? 6390);
export const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;
const SCRIPT = join(ROOT, 'scripts', 'redis.sh');

/** A connected client; the caller closes it (`await c.close()`). */
export async function redisClient({ port = REDIS_PORT, username, password, tls } = {}) {
  const c = createClient({ username, password, socket: { host: '127.0.0.1', port, reconnectStrategy: false, connectTimeout: 3000, ...(tls ?? {}) } });
  c.on('error', () => {});
  await c.connect();
  return c;
}

export async function redisUp(url = REDIS_URL) {
  let c;
  try {
    c = await redisClient({ port: Number(new URL(url).port) });
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c?.destroy();
  }
}

export function redisScript(command) {
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, command], { timeout: 300_000 }, (err, stdout, stderr) =>
      resolve({ ok: !err, code: err ? err.code : 0, output: stdout + stderr }),
    );
  });
}

export function requireRedis(t, url = REDIS_URL) {
  return requireLocalServer(t, { name: 'Redis', url, script: 'scripts/redis.sh', up: redisUp, start: () => redisScript('start') });
}

/** A key prefix of one test, and a function that deletes every key under it. */
export function testKey(prefix = 'spillway-test') {
  const base = `${prefix}-${randomBytes(4).toString('hex')}`;
  return {
    base,
    async keys(opts) {
      const c = await redisClient(opts);
      try {
        const out = [];
        for await (const batch of c.scanIterator({ MATCH: `${base}*`, COUNT: 1000 })) out.push(...batch);
        return out.sort();
      } finally {
        c.destroy();
      }
    },
    async cleanup(opts) {
      try {
        const ks = await this.keys(opts);
        const c = await redisClient(opts);
        try {
          for (let i = 0; i < ks.length; i += 500) await c.del(ks.slice(i, i + 500));
        } finally {
          c.destroy();
        }
      } catch {}
    },
  };
}

/** Every event in the lists `keys`, parsed, as an array (duplicates stay visible). */
export async function readLists(keys, opts) {
  const c = await redisClient(opts);
  try {
    const events = [];
    for (const k of keys) {
      const len = await c.lLen(k);
      for (let i = 0; i < len; i += 10_000) for (const v of await c.lRange(k, i, i + 9_999)) events.push(JSON.parse(v));
    }
    return events;
  } finally {
    c.destroy();
  }
}

/** Every entry of the streams `keys`: { uuid (the field), event (parsed) }. */
export async function readStreams(keys, opts) {
  const c = await redisClient(opts);
  try {
    const entries = [];
    for (const k of keys) {
      let start = '-';
      for (;;) {
        const page = await c.xRange(k, start, '+', { COUNT: 10_000 });
        for (const e of page) entries.push({ id: e.id, uuid: e.message.uuid, event: JSON.parse(e.message.event) });
        if (page.length < 10_000) break;
        start = '(' + page[page.length - 1].id;
      }
    }
    return entries;
  } finally {
    c.destroy();
  }
}

/** The redis-server binary, or a failure under CI / a skip elsewhere. */
export function requireRedisServerBinary(t) {
  if (existsSync('/usr/bin/redis-server')) return true;
  const why = 'redis-server is not installed (apt-get install redis-server; scripts/redis.sh start installs it)';
  if (process.env.CI) throw new Error(why);
  t.skip(why);
  return false;
}

/**
 * A private redis-server on a free port, in the foreground (a child of the
 * test), durable like scripts/redis.sh's (appendonly, appendfsync always).
 * `args`: more redis-server options (--requirepass, --user, TLS).
 * Returns { port, dir, kill(), start(), stop() }: kill() is SIGKILL (a crash),
 * start() starts it again on the same port and data dir.
 */
export async function startRedisServer({ args = [], tlsPort = false } = {}) {
  const dir = tempDir('spillway-redis-');
  const port = await freePort();
  const base = [
    '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
    '--daemonize', 'no', '--logfile', join(dir, 'redis.log'),
  ];
  const portArgs = tlsPort ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  let child;
  const server = {
    port,
    dir,
    async start() {
      child = spawn('redis-server', [...base, ...portArgs, ...args], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      server.exited = exited;
      const until = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${log()}`);
        const r = await runProcess('redis-cli', ['-p', String(port), '--no-auth-warning', ...cliArgs(), 'ping'], { timeoutMs: 3000 });
        if (/PONG|NOAUTH|WRONGPASS/.test(r.stdout + r.stderr)) return;
        if (Date.now() > until) throw new Error(`redis-server did not answer on ${port}: ${log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await server.exited;
      }
    },
    async stop() {
      await server.kill();
      removeDir(dir);
    },
  };
  function cliArgs() {
    if (!tlsPort) return [];
    const get = (k) => args[args.indexOf(k) + 1];
    return ['--tls', '--cacert', get('--tls-ca-cert-file'), '--cert', get('--tls-cert-file'), '--key', get('--tls-key-file')];
  }
  function log() {
    try {
      return readFileSync(join(dir, 'redis.log'), 'utf8').slice(-1500);
    } catch {
      return '';
    }
  }
  try {
    await server.start();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** A CA and a server certificate for 127.0.0.1 / localhost, made with openssl in `dir`. */
export async function makeCertificates(dir) {
  const run = async (args) => {
    const r = await runProcess('openssl', args, { cwd: dir, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  await run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=spillway test CA', '-keyout', 'ca.key', '-out', 'ca.pem']);
  await run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem']);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

/**
 * Every POST of a load answered: acknowledged, or refused with 503 (the
 * store could not take it; the client keeps its copy, and nothing of it may
 * reach Redis, which the set comparison checks). Refusals are counted in
 * the test's output with the daemon's reason; more than 1% fails.
 */
export function assertAnswered(t, load, total, daemon) {
  const refused = [...load.refused];
  assert.equal(load.errors, 0, `errors ${JSON.stringify(load.errors)}`);
  assert.ok(refused.every(([status]) => status === 503), `refused ${JSON.stringify(refused)}`);
  const n = refused.reduce((a, [, c]) => a + c, 0);
  assert.equal(load.acked.size + n, total);
  assert.ok(n <= total / 100, `${n} of ${total} refused`);
  if (n > 0) {
    const why = (daemon?.logs() ?? '').split('\n').filter((l) => /store cannot write|writer failed|503/.test(l)).slice(0, 3);
    t.diagnostic(`${n} of ${total} POSTs refused with 503 (not acknowledged): ${why.join(' | ')}`);
  }
}
