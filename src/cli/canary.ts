/**
 * `spillway canary`: one end-to-end check of a running pipeline. It POSTs one
 * uniquely marked message to an edge (or `all`) URL, then asks Elasticsearch
 * for the document whose _id is the uuid the edge answered with, until it is
 * searchable or the timeout passes.
 *
 * Success: one JSON line on stdout ({"status":"OK",...,"lagMs":...}), exit 0.
 * Failure: one line on stderr saying what failed (edge unreachable, edge
 * refused, not indexed within the timeout, Elasticsearch unreachable or
 * refusing: 401/403 fail at once), exit 1. Bad flags: one line, exit 2.
 *
 * Credentials: the edge token from --token-file (or SPILLWAY_CANARY_TOKEN),
 * sent as `Authorization: Bearer`; Elasticsearch's as the daemon reads them
 * (ES_API_KEY, or ES_USERNAME and ES_PASSWORD, ES_CA_CERT), each also from a
 * file named by the same variable with a _FILE suffix (Kubernetes Secrets
 * mounted as files).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createClient } from '../sinks/elasticsearch/client.js';
import { IndexPattern } from '../sinks/elasticsearch/index-name.js';

export const CANARY_HELP = `spillway canary --url EDGE_URL [--es URL[,URL]] [--index PATTERN] [--timeout SECONDS] [--token-file FILE]

Posts one uniquely marked message to EDGE_URL/rx/<producer>/<key>/canary, waits
until Elasticsearch finds it by its uuid, prints one JSON line with the lag and
exits 0. On a failure it prints one line saying what failed and exits 1.

  --url URL          the edge (or all) base URL                    env SPILLWAY_CANARY_URL
  --es URL[,URL]     Elasticsearch (default http://127.0.0.1:9200)  env ES_URL
  --index PATTERN    index pattern the stage writes (default rtbeat-%{+yyyy.MM.dd})  env SPILLWAY_INDEX
  --timeout SECONDS  how long the message may take to be searchable (default 60)
  --producer NAME    producer segment of the path (default canary)
  --key NAME         key segment of the path (default: this host's name)
  --token-file FILE  send "Authorization: Bearer <file contents>" to the edge  env SPILLWAY_CANARY_TOKEN(_FILE)
  --poll-ms MS       pause between searches (default 200)

Elasticsearch credentials as the daemon reads them: ES_API_KEY, or ES_USERNAME
and ES_PASSWORD, and ES_CA_CERT; each may instead name a file as <VAR>_FILE.`;

class CanaryFailure extends Error {}
class UsageError extends Error {}

interface CanaryOptions {
  url: string;
  es: string[];
  index: string;
  timeoutMs: number;
  producer: string;
  key: string;
  token: string | undefined;
  pollMs: number;
}

/** ES_API_KEY etc. from the environment, or from the file named by <VAR>_FILE. */
function credentialEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of ['ES_API_KEY', 'ES_USERNAME', 'ES_PASSWORD']) {
    const file = env[`${name}_FILE`];
    if (!out[name] && file) out[name] = readSecret(file, `${name}_FILE`);
  }
  return out;
}

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag}: "${text}" is not a positive number`);
  return n;
}

export function parseCanaryArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CanaryOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        es: { type: 'string' },
        index: { type: 'string' },
        timeout: { type: 'string' },
        producer: { type: 'string' },
        key: { type: 'string' },
        'token-file': { type: 'string' },
        'poll-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  if (values.help) return 'help';
  const url = (values.url ?? env.SPILLWAY_CANARY_URL ?? '').replace(/\/+$/, '');
  if (!url) throw new UsageError('--url: the edge URL is required (or SPILLWAY_CANARY_URL)');
  const es = (values.es ?? env.ES_URL ?? 'http://127.0.0.1:9200').split(',').map((s) => s.trim()).filter(Boolean);
  for (const [flag, u] of [['url', url], ...es.map((e) => ['es', e])] as const) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new UsageError(`--${flag}: "${u}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--${flag}: "${u}" is not http(s)`);
  }
  const index = values.index ?? env.SPILLWAY_INDEX ?? 'rtbeat-%{+yyyy.MM.dd}';
  try {
    new IndexPattern(index);
  } catch (e) {
    throw new UsageError(`--index: ${(e as Error).message}`);
  }
  const tokenFile = values['token-file'] ?? env.SPILLWAY_CANARY_TOKEN_FILE;
  const token = tokenFile ? readSecret(tokenFile, '--token-file') : env.SPILLWAY_CANARY_TOKEN || undefined;
  const segment = (s: string, flag: string) => {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(s)) throw new UsageError(`--${flag}: "${s}" must be 1-128 letters, digits, . _ -`);
    return s;
  };
  return {
    url,
    es,
    index,
    timeoutMs: positive(values.timeout ?? '60', 'timeout') * 1000,
    producer: segment(values.producer ?? 'canary', 'producer'),
    key: segment(values.key ?? (hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128) || 'host'), 'key'),
    token,
    pollMs: positive(values['poll-ms'] ?? '200', 'poll-ms'),
  };
}

/** The HTTP status of an Elasticsearch client ResponseError, if it is one. */
function statusOf(e: unknown): number | undefined {
  const code = (e as { meta?: { statusCode?: unknown } }).meta?.statusCode;
  return typeof code === 'number' && code > 0 ? code : undefined; // a ConnectionError carries 0
}

function esReason(e: unknown): string {
  const status = statusOf(e);
  if (status === undefined) return why(e);
  const body = (e as { meta?: { body?: { error?: { type?: string; reason?: string } | string } } }).meta?.body;
  const err = body?.error;
  const text = typeof err === 'string' ? err : [err?.type, err?.reason].filter(Boolean).join(': ');
  return `${status}${text ? ` ${text}` : ''}`.slice(0, 300);
}

function why(e: unknown): string {
  const err = e as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  return err.cause?.code ?? err.code ?? err.cause?.message ?? err.message ?? String(e);
}

/** POST the marked message; the edge's uuid, and when it answered. */
async function post(o: CanaryOptions, marker: string): Promise<{ uuid: string; ackAt: number; ackMs: number }> {
  const target = `${o.url}/rx/${o.producer}/${o.key}/canary`;
  const body = JSON.stringify({ canary: marker, sentAt: new Date().toISOString(), host: hostname() });
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      body,
      signal: AbortSignal.timeout(Math.min(o.timeoutMs, 30_000)),
    });
  } catch (e) {
    throw new CanaryFailure(`edge unreachable: POST ${target}: ${why(e)}`);
  }
  const text = await res.text().catch(() => '');
  const ackAt = performance.now();
  if (res.status !== 200) {
    let message = text.slice(0, 200);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {}
    const retry = res.headers.get('retry-after');
    throw new CanaryFailure(`edge refused: POST ${target}: ${res.status} ${message}${retry ? ` (Retry-After: ${retry})` : ''}`);
  }
  let uuid: unknown;
  try {
    uuid = (JSON.parse(text) as { uuid?: unknown }).uuid;
  } catch {}
  if (typeof uuid !== 'string' || !/^[0-9a-f-]{36}$/i.test(uuid)) {
    throw new CanaryFailure(`edge answered 200 without a uuid: POST ${target}: ${text.slice(0, 200)}`);
  }
  return { uuid, ackAt, ackMs: ackAt - t0 };
}

export async function canary(o: CanaryOptions, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  const client = createClient({ nodes: o.es, requestTimeoutMs: Math.max(1000, Math.min(o.timeoutMs, 10_000)) }, credentialEnv(env));
  const wildcard = new IndexPattern(o.index).wildcard;
  const deadline = performance.now() + o.timeoutMs;
  try {
    // Elasticsearch first: a canary that cannot read its result should not write.
    try {
      await client.cluster.health({ timeout: '1s' }, { requestTimeout: Math.min(o.timeoutMs, 10_000) });
    } catch (e) {
      if (statusOf(e) !== undefined) throw new CanaryFailure(`Elasticsearch refused: ${o.es.join(',')}: ${esReason(e)}`);
      throw new CanaryFailure(`Elasticsearch unreachable: ${o.es.join(',')}: ${why(e)}`);
    }
    const marker = randomUUID();
    const { uuid, ackAt, ackMs } = await post(o, marker);
    let lastError: string | undefined;
    let searches = 0;
    for (;;) {
      searches++;
      try {
        const r = await client.search({
          index: wildcard,
          allow_no_indices: true,
          ignore_unavailable: true,
          size: 1,
          query: { ids: { values: [uuid] } },
          _source: ['rxtxMsg.uuid', 'rxtxMsg.payload.canary'],
        });
        lastError = undefined;
        const hit = r.hits.hits[0];
        if (hit) {
          const lagMs = performance.now() - ackAt;
          return {
            status: 'OK',
            uuid,
            index: hit._index,
            edge: o.url,
            ackMs: Math.round(ackMs * 10) / 10,
            lagMs: Math.round(lagMs),
            lagSeconds: Math.round(lagMs) / 1000,
            searches,
          };
        }
      } catch (e) {
        const status = statusOf(e);
        // Credentials or permissions will not fix themselves: say so now.
        if (status === 401 || status === 403) {
          throw new CanaryFailure(`Elasticsearch refused the search: ${esReason(e)} (message ${uuid} accepted by the edge)`);
        }
        lastError = status === undefined ? why(e) : esReason(e);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        const seconds = o.timeoutMs / 1000;
        if (lastError) throw new CanaryFailure(`Elasticsearch unreachable: ${o.es.join(',')}: ${lastError} (message ${uuid} accepted by the edge, not confirmed within ${seconds} s)`);
        throw new CanaryFailure(`not indexed within ${seconds} s: message ${uuid} accepted by ${o.url} is not searchable in ${wildcard}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(o.pollMs, left)));
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/** The subcommand: returns the exit code. */
export async function runCanary(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options;
  try {
    options = parseCanaryArgs(argv, env);
    if (options === 'help') {
      process.stdout.write(CANARY_HELP + '\n');
      return 0;
    }
    process.stdout.write(JSON.stringify(await canary(options, env)) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`spillway canary: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CanaryFailure) {
      process.stderr.write(`spillway canary: FAIL ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`spillway canary: FAIL ${(e as Error).message?.split('\n')[0] ?? e}\n`);
    return 1;
  }
}
