// Toxiproxy (github.com/Shopify/toxiproxy/v2) for the link tests: one server
// per test file on free ports, driven through its HTTP API. The binary comes
// from scripts/toxiproxy.sh (go install, cached under /var/cache/spillway).
// Under CI a missing binary fails the test; elsewhere it skips with the
// command that builds it.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, ROOT, waitFor } from './daemon.mjs';

const SCRIPT = join(ROOT, 'scripts', 'toxiproxy.sh');

/** The cached toxiproxy-server binary, or undefined. */
export function toxiproxyPath() {
  if (process.env.SPILLWAY_TOXIPROXY) return process.env.SPILLWAY_TOXIPROXY;
  const r = spawnSync('bash', [SCRIPT, 'path'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The binary, or undefined after failing (CI) or skipping the test. */
export function requireToxiproxy(t) {
  const bin = toxiproxyPath();
  if (bin) return bin;
  const why = `toxiproxy-server is not built: run bash scripts/toxiproxy.sh build`;
  if (process.env.CI) assert(false, why);
  t.skip(why);
  return undefined;
}

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

/**
 * Start toxiproxy-server on a free port. Returns { api, proxy(name, upstream),
 * logs(), stop() }; proxy() creates a proxy listening on a free port and
 * returns { port, url, toxic(name, type, attributes, { stream, toxicity }),
 * remove(name), enable(), disable() }.
 */
export async function startToxiproxy(bin) {
  const port = await freePort();
  const child = spawn(bin, ['-host', '127.0.0.1', '-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  const api = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const r = await fetch(api + path, { method, body: body && JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await r.text();
    if (!r.ok) throw new Error(`toxiproxy ${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  try {
    await waitFor('toxiproxy-server', async () => {
      if (child.exitCode !== null) throw new Error(`toxiproxy-server exited: ${out}`);
      return (await fetch(`${api}/version`).catch(() => undefined))?.ok;
    }, { timeoutMs: 10_000, everyMs: 50 });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    api,
    logs: () => out,
    async proxy(name, upstream) {
      const listenPort = await freePort();
      await call('POST', '/proxies', { name, listen: `127.0.0.1:${listenPort}`, upstream, enabled: true });
      return {
        port: listenPort,
        host: `127.0.0.1:${listenPort}`,
        toxic: (toxic, type, attributes, { stream = 'downstream', toxicity = 1 } = {}) =>
          call('POST', `/proxies/${name}/toxics`, { name: toxic, type, stream, toxicity, attributes }),
        remove: (toxic) => call('DELETE', `/proxies/${name}/toxics/${toxic}`),
        enable: () => call('POST', `/proxies/${name}`, { enabled: true }),
        disable: () => call('POST', `/proxies/${name}`, { enabled: false }),
      };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
