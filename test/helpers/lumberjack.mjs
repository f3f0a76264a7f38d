// The real lumberjack v2 server of the Logstash output's tests: the Go
// program in test/servers/lumberjack/ (go-lumber's server package), built by
// scripts/lumberjack.sh and run here as a child on a free port.
//
//   lumberjackBinary()            → path of the built server (builds it if the source changed); throws ServerUnavailable
//   requireLumberjack(t)          → the path, or skips the test (fails it under CI) when it cannot be built
//   startLumberjack(bin, opts)    → { host, port, address, out, stop(), kill(), restart(), received() }
//       opts: { port, out, tls: { cert, key, ca }, partial, dropAfterPartial, ackDelay ('2s'), keepalive ('1s') }
//   receivedUuids(events)         → the rxtxMsg.uuid of every received event, in order (duplicates kept)
//   makeCertificates(dir)         → { ca, cert, key, clientCert, clientKey } files for 127.0.0.1 (openssl)
//
// Every server started here is killed by stop()/kill(), and with SIGKILL when
// this process exits.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT, tempDir } from './daemon.mjs';

export class ServerUnavailable extends Error {}

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

let built;
export function lumberjackBinary() {
  if (built) return built;
  try {
    built = execFileSync('bash', [join(ROOT, 'scripts', 'lumberjack.sh'), 'build'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000,
    }).trim().split('\n').pop();
  } catch (e) {
    throw new ServerUnavailable(`scripts/lumberjack.sh build failed: ${String(e.stderr ?? e.message).slice(-1500)}`);
  }
  if (!existsSync(built)) throw new ServerUnavailable(`scripts/lumberjack.sh build printed ${built}, which does not exist`);
  return built;
}

/** The server's path; skip the test (fail under CI) when it cannot be built. */
export function requireLumberjack(t) {
  try {
    return lumberjackBinary();
  } catch (e) {
    if (process.env.CI || !(e instanceof ServerUnavailable)) throw e;
    t.skip(e.message);
    return undefined;
  }
}

export async function startLumberjack(bin, opts = {}) {
  const port = opts.port ?? (await freePort());
  const out = opts.out ?? join(tempDir('spillway-lj-'), 'events.ndjson');
  const args = ['-addr', `127.0.0.1:${port}`, '-out', out];
  if (opts.tls) args.push('-tls-cert', opts.tls.cert, '-tls-key', opts.tls.key, ...(opts.tls.ca ? ['-tls-ca', opts.tls.ca] : []));
  if (opts.partial) args.push('-partial');
  if (opts.dropAfterPartial) args.push('-drop-after-partial', String(opts.dropAfterPartial));
  if (opts.ackDelay) args.push('-ack-delay', opts.ackDelay);
  if (opts.keepalive) args.push('-keepalive', opts.keepalive);
  let child;
  let log = '';
  async function start() {
    child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const c = child;
    c.once('exit', () => children.delete(c));
    c.stderr.on('data', (d) => (log += d));
    await new Promise((resolve, reject) => {
      let text = '';
      const t = setTimeout(() => fail(new Error(`lumberjack server: no "listening" line in 10 s: ${log}`)), 10_000);
      function fail(e) {
        clearTimeout(t);
        c.kill('SIGKILL');
        reject(e);
      }
      c.stdout.on('data', (d) => {
        text += d;
        if (/^listening /m.test(text)) {
          clearTimeout(t);
          resolve();
        }
      });
      c.once('exit', (code) => fail(new Error(`lumberjack server exited (${code}): ${log}`)));
    });
  }
  const exited = () => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));
  await start();
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    out,
    logs: () => log,
    async stop() {
      child.kill('SIGTERM');
      await exited();
    },
    async kill() {
      child.kill('SIGKILL');
      await exited();
    },
    /** Start again on the same port, appending to the same file. */
    async restart() {
      await start();
    },
    /** Every event received so far (parsed), and how many lines were not JSON. */
    received() {
      const events = [];
      let torn = 0;
      const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          events.push(JSON.parse(line));
        } catch {
          torn++;
        }
      }
      return { events, torn };
    },
  };
}

export function receivedUuids(events) {
  return events.map((e) => e.rxtxMsg?.uuid);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in `dir`. */
export function makeCertificates(dir) {
  const f = (n) => join(dir, n);
  const ssl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=spillway test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`));
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
      '-extfile', f(`${who}.ext`), '-out', f(`${who}.pem`));
  }
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
