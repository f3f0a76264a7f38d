// The real local OpenSearch, as started by scripts/opensearch.sh (port 9250).
// Tests that need it call requireOpenSearch(t): when it is not reachable the
// script is asked to start it; under CI a failure to start fails the test
// (never a skip), elsewhere the test is skipped with the reason.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from './daemon.mjs';
import { requireLocalServer } from './es.mjs';

export const OS_URL = process.env.OPENSEARCH_TEST_URL ?? `http://127.0.0.1:${process.env.SPILLWAY_OS_PORT ?? 9250}`;
const SCRIPT = join(ROOT, 'scripts', 'opensearch.sh');

export async function osUp(url = OS_URL) {
  try {
    const r = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(3000) });
    return r.ok;
  } catch {
    return false;
  }
}

export function osScript(command, env = {}) {
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, command], { env: { ...process.env, ...env }, timeout: 400_000 }, (err, stdout, stderr) =>
      resolve({ ok: !err, code: err ? err.code : 0, output: stdout + stderr }),
    );
  });
}

export function requireOpenSearch(t, url = OS_URL) {
  return requireLocalServer(t, { name: 'OpenSearch', url, script: 'scripts/opensearch.sh', up: osUp, start: () => osScript('start') });
}

export async function os(path, { method = 'GET', body, url = OS_URL } = {}) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** A fresh index pattern for one test, and a function that deletes its indices and templates. */
export function osTestIndex(prefix = 'spillway-test') {
  const base = `${prefix}-${randomBytes(4).toString('hex')}`;
  return {
    pattern: `${base}-%{+yyyy.MM.dd}`,
    all: `${base}-*`,
    dlq: `${base}-*-dlq`,
    async cleanup(url = OS_URL) {
      await fetch(`${url}/${base}-*`, { method: 'DELETE' }).catch(() => {});
      await fetch(`${url}/_index_template/spillway-${base}-x`, { method: 'DELETE' }).catch(() => {});
      await fetch(`${url}/_index_template/spillway-${base}-x-dlq`, { method: 'DELETE' }).catch(() => {});
    },
  };
}

/** Every _id in `indices` (scrolls through all of them), as an array: duplicates stay visible. */
export async function allIds(indices, url) {
  await fetch(`${url}/${indices}/_refresh`, { method: 'POST' });
  const ids = [];
  let r = await (await fetch(`${url}/${indices}/_search?scroll=1m`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ size: 5000, _source: false, sort: ['_doc'] }),
  })).json();
  if (r.status === 404 || r.error) return ids;
  for (;;) {
    const hits = r.hits.hits;
    if (hits.length === 0) break;
    for (const h of hits) ids.push(h._id);
    r = await (await fetch(`${url}/_search/scroll`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scroll: '1m', scroll_id: r._scroll_id }),
    })).json();
  }
  if (r._scroll_id) {
    await fetch(`${url}/_search/scroll`, {
      method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scroll_id: r._scroll_id }),
    }).catch(() => {});
  }
  return ids;
}

/** Compare what is in an output with what was acknowledged: missing and extra uuids, duplicates. */
export function compareSets(acked, found) {
  const seen = new Set();
  const duplicates = [];
  for (const id of found) {
    if (seen.has(id)) duplicates.push(id);
    seen.add(id);
  }
  const missing = [...acked].filter((id) => !seen.has(id));
  const extra = [...seen].filter((id) => !acked.has(id));
  return { missing, extra, duplicates };
}
