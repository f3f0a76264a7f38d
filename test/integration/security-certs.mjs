// Certificates made at test time with openssl (Debian's package): a CA, a
// second CA nobody trusts, a server certificate for 127.0.0.1/localhost, a
// client certificate from the CA, one from the other CA, and an expired one
// from the CA (openssl ca with explicit dates). EC P-256 keys: fast to make.
// Also small TLS clients and a starter for daemons that listen with TLS.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { MAIN, freePort } from '../helpers/daemon.mjs';

const run = (args, cwd) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function selfSigned(dir, name, cn) {
  run(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3', '-subj', `/CN=${cn}`], dir);
}

function signed(dir, name, cn, ca, ext) {
  run(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '3'];
  if (ext) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    args.push('-extfile', `${name}.ext`);
  }
  run(args, dir);
}

/** Make every certificate in `dir`; returns { dir, path(name) , read(name) }. */
export function makeCerts(dir) {
  mkdirSync(dir, { recursive: true });
  selfSigned(dir, 'ca', 'spillway test CA');
  selfSigned(dir, 'other-ca', 'untrusted CA');
  signed(dir, 'server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  signed(dir, 'server2', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  signed(dir, 'client', 'device-1', 'ca');
  signed(dir, 'rogue', 'device-rogue', 'other-ca');
  // Expired: openssl ca accepts explicit start and end dates.
  mkdirSync(join(dir, 'caroot'), { recursive: true });
  writeFileSync(join(dir, 'caroot', 'index.txt'), '');
  writeFileSync(join(dir, 'caroot', 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ ca ]', 'default_ca = d', '[ d ]', 'dir = ./caroot', 'database = $dir/index.txt', 'new_certs_dir = $dir',
    'serial = $dir/serial', 'default_md = sha256', 'policy = p', 'unique_subject = no', '[ p ]', 'commonName = supplied', '',
  ].join('\n'));
  run(['req', ...EC, '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=device-expired'], dir);
  run(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'expired.csr', '-out', 'expired.pem',
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext'], dir);
  const path = (name) => join(dir, name);
  return { dir, path, read: (name) => readFileSync(path(name), 'utf8') };
}

/**
 * One HTTPS request: { status, headers, body } or a rejection (TLS refused).
 * `tls` holds ca/cert/key and any other tls.connect option; a new connection each time.
 */
export function httpsRequest(url, { method = 'GET', headers = {}, body, tls = {}, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, agent: false, ...tls, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Start `spillway role --port P --host 127.0.0.1 ...args` that listens with
 * TLS; resolves once /healthz answers over HTTPS trusting `ca` (PEM text).
 * Returns { port, url, child, logs(), stop(), signal(sig) }.
 */
export async function startTlsDaemon(role, args, { ca, env = {}, waitMs = 30_000, port } = {}) {
  port ??= await freePort();
  const child = spawn(process.execPath, [MAIN, role, '--port', String(port), '--host', '127.0.0.1', ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
  const url = `https://127.0.0.1:${port}`;
  const until = Date.now() + waitMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`spillway exited early (${child.exitCode}):\n${out}`);
    try {
      const r = await httpsRequest(`${url}/healthz`, { tls: { ca }, timeoutMs: 2000 });
      if (r.status === 200) break;
    } catch {}
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`spillway did not answer /healthz over TLS in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    port, url, child, exited,
    logs: () => out,
    signal: (sig) => running() && child.kill(sig),
    async stop(sig = 'SIGTERM') {
      if (running()) child.kill(sig);
      return exited;
    },
  };
}
