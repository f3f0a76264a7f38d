// The real local Elasticsearch, as started by scripts/es.sh. Tests that need
// it call requireElasticsearch(t): when it is not reachable the script is
// asked to start it; under CI a failure to start fails the test (never a
// skip), elsewhere the test is skipped with the reason.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from './daemon.mjs';

export const ES_URL = process.env.ES_URL ?? 'http://127.0.0.1:9200';
const SCRIPT = join(ROOT, 'scripts', 'es.sh');

export async function esUp(url = ES_URL) {
  try {
    const r = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(3000) });
    return r.ok;
  } catch {
    return false;
  }
}

/** Run scripts/es.sh `command`: { ok, code, output }. `signal` kills the script (not a node it already started). */
export function esScript(command, env = {}, { signal } = {}) {
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, command], { env: { ...process.env, ...env }, timeout: 400_000, signal }, (err, stdout, stderr) =>
      resolve({ ok: !err, code: err ? err.code : 0, output: stdout + stderr }),
    );
  });
}

/**
 * A local server a test needs: up already, or started by its script; under
 * CI a failure to start fails the test, elsewhere it is skipped with the reason.
 */
export async function requireLocalServer(t, { name, url, script, up, start }) {
  if (await up(url)) return true;
  const started = await start();
  if (started.ok && (await up(url))) return true;
  const why = `${name} is not reachable at ${url} and ${script} start failed:\n${started.output.slice(-2000)}`;
  if (process.env.CI) throw new Error(why);
  t.skip(why);
  return false;
}

export function requireElasticsearch(t, url = ES_URL) {
  return requireLocalServer(t, { name: 'Elasticsearch', url, script: 'scripts/es.sh', up: esUp, start: () => esScript('start') });
}

/** A fresh index pattern for one test, and a function that deletes its indices. */
export function testIndex(prefix = 'spillway-test') {
  const base = `${prefix}-${randomBytes(4).toString('hex')}`;
  return {
    pattern: `${base}-%{+yyyy.MM.dd}`,
    all: `${base}-*`,
    dlq: `${base}-*-dlq`,
    async cleanup(url = ES_URL) {
      // Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name):
      // resolve the names first, then delete them by name.
      try {
        const r = await fetch(`${url}/_resolve/index/${base}-*?expand_wildcards=all`).then((x) => x.json());
        const names = (r.indices ?? []).map((i) => i.name);
        for (let i = 0; i < names.length; i += 50) {
          await fetch(`${url}/${names.slice(i, i + 50).join(',')}`, { method: 'DELETE' });
        }
      } catch {}
      await fetch(`${url}/_index_template/spillway-${base}-x`, { method: 'DELETE' }).catch(() => {});
      await fetch(`${url}/_index_template/spillway-${base}-x-dlq`, { method: 'DELETE' }).catch(() => {});
    },
  };
}

export async function es(path, { method = 'GET', body, url = ES_URL } = {}) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

export async function count(indices, url = ES_URL) {
  await es(`/${indices}/_refresh`, { method: 'POST', url });
  const r = await es(`/${indices}/_count`, { url });
  return r.status === 404 ? 0 : r.body.count;
}

/**
 * Exactly-once check: the indices hold exactly `ids.size` documents and
 * every id is among them. Returns { total, missing: [...] }.
 */
export async function checkExactlyOnce(indices, ids, url = ES_URL) {
  const total = await count(indices, url);
  const list = [...ids];
  const missing = [];
  for (let i = 0; i < list.length; i += 5000) {
    const chunk = list.slice(i, i + 5000);
    const r = await es(`/${indices}/_search`, {
      method: 'POST', url,
      body: { size: chunk.length, _source: false, query: { ids: { values: chunk } } },
    });
    const found = new Set(r.body.hits.hits.map((h) => h._id));
    for (const id of chunk) if (!found.has(id)) missing.push(id);
  }
  return { total, expected: list.length, missing };
}

/**
 * A private Elasticsearch node on its own port and run dir (scripts/es.sh
 * keeps one run dir per port unless `runDir` is given), for tests that stop,
 * kill or throttle it without touching the shared node on 9200. Take the port
 * from freePort(), never a fixed one.
 */
export function esNode(port, { settings = '', heap = '512m', runDir } = {}) {
  const env = { SPILLWAY_ES_PORT: String(port), SPILLWAY_ES_SETTINGS: settings, SPILLWAY_ES_HEAP: heap };
  if (runDir) env.SPILLWAY_ES_RUN_DIR = runDir;
  const run = async (command, extra = {}, opts = {}) => {
    const r = await esScript(command, { ...env, ...extra }, opts);
    if (!r.ok) throw new Error(`es.sh ${command} on port ${port} failed:\n${r.output.slice(-2000)}`);
    return r;
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    env,
    /** fresh: wipe the data dir first (a clean node for this run). signal: give up (the caller then kills). */
    start: ({ fresh = false, signal } = {}) => run('start', fresh ? { SPILLWAY_ES_FRESH: '1' } : {}, { signal }),
    stop: () => run('stop'),
    kill: () => run('kill'),
    /** SIGKILL from a synchronous context (process 'exit'): never throws. */
    killSync() {
      try {
        execFileSync('bash', [SCRIPT, 'kill'], { env: { ...process.env, ...env }, stdio: 'ignore', timeout: 20_000 });
      } catch {}
    },
  };
}
