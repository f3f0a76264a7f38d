// Client-side helpers for the edge integration tests: JSON POSTs, raw
// HTTP/1.1 over node:net for what fetch cannot express, many concurrent
// POSTs that remember every acknowledged uuid, and exactly-once checks
// against test/helpers/receiver.mjs.
import net from 'node:net';
import { Agent, request } from 'undici';
import { stats, waitFor } from './daemon.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** POST and read the reply: { status, headers, text, json }. */
export async function post(base, path, body, headers = {}) {
  const r = await fetch(base + path, { method: 'POST', body, headers });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

export async function getJson(base, path) {
  const r = await fetch(base + path);
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

/** Parse the first HTTP/1.1 response found in `raw` (a Buffer or string). */
export function parseResponse(raw) {
  const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : raw;
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) return undefined;
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const len = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4, end + 4 + len);
  const complete = text.length >= end + 4 + len;
  return { status: Number(m[1]), headers, body, complete, rest: text.slice(end + 4 + len) };
}

/** Parse every complete response in `raw` (pipelined requests). */
export function parseResponses(raw) {
  const out = [];
  let text = Buffer.isBuffer(raw) ? raw.toString('latin1') : raw;
  for (;;) {
    const r = parseResponse(text);
    if (!r || !r.complete) break;
    out.push(r);
    text = r.rest;
  }
  return out;
}

/**
 * A raw connection to host:port. write() sends bytes; response(ms) waits
 * for one complete HTTP response (or the close, or the timeout); the
 * connection's state is in .closed and .data.
 */
export function rawConnection(port, host = '127.0.0.1') {
  const sock = net.connect(port, host);
  sock.setNoDelay(true);
  const conn = {
    sock,
    data: Buffer.alloc(0),
    closed: false,
    error: undefined,
    connected: new Promise((r, j) => {
      sock.once('connect', r);
      sock.once('error', j);
    }),
    write(chunk) {
      return new Promise((resolve) => {
        if (conn.closed || sock.destroyed) return resolve(false);
        sock.write(chunk, (err) => resolve(!err));
      });
    },
    /** Resolves with the parsed responses so far once `count` are complete, or at close/timeout. */
    async responses(count = 1, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const all = parseResponses(conn.data);
        if (all.length >= count || conn.closed || Date.now() > until) return all;
        await sleep(10);
      }
    },
    async response(timeoutMs = 5000) {
      return (await conn.responses(1, timeoutMs))[0];
    },
    async waitClosed(timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (!conn.closed && Date.now() < until) await sleep(10);
      return conn.closed;
    },
    destroy() {
      sock.destroy();
    },
  };
  sock.on('data', (d) => (conn.data = Buffer.concat([conn.data, d])));
  sock.on('close', () => (conn.closed = true));
  sock.on('error', (e) => (conn.error = e));
  return conn;
}

/** Send raw bytes on a fresh connection and collect one response (or the close). */
export async function rawRequest(port, bytes, { timeoutMs = 5000 } = {}) {
  const conn = rawConnection(port);
  await conn.connected;
  await conn.write(bytes);
  const res = await conn.response(timeoutMs);
  const closed = conn.closed;
  conn.destroy();
  return { res, closed, data: conn.data };
}

/**
 * POST `total` messages over `connections` keep-alive connections.
 * Returns { acked: Map(uuid → { i, path, body, seq }), refused: Map(status → n), errors, sent }.
 */
export async function postMany(base, {
  total,
  connections = 64,
  path = (i) => `/rx/p${i % 17}/k${i % 5}/load/l${i % 3}`,
  body = (i) => JSON.stringify({ i, pos: 'terminal-7', amount: i % 1000 }),
  headers = () => ({}),
  stopWhen,
  onAck,
} = {}) {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000, connect: { timeout: 5_000 } });
  const acked = new Map();
  const refused = new Map();
  let next = 0;
  let errors = 0;
  async function worker() {
    while (next < total && !stopWhen?.()) {
      const i = next++;
      const p = path(i);
      const b = body(i);
      try {
        const r = await request(base + p, {
          method: 'POST', body: b, dispatcher: agent,
          headers: { 'content-type': 'application/json', ...headers(i) },
          headersTimeout: 30_000, bodyTimeout: 30_000,
        });
        const text = await r.body.text();
        if (r.statusCode === 200) {
          const j = JSON.parse(text);
          acked.set(j.uuid, { i, path: p, body: b, seq: j.seq });
          onAck?.(acked.size);
        } else refused.set(r.statusCode, (refused.get(r.statusCode) ?? 0) + 1);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
  await agent.close().catch(() => {});
  return { acked, refused, errors, sent: next };
}

/** Wait until the receiver holds every uuid in `uuids` (no throw on timeout). */
export async function waitDelivered(receiver, uuids, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let missing = 0;
    for (const u of uuids) if (!receiver.state.counts.has(u)) missing++;
    if (missing === 0 || Date.now() > until) return missing;
    await sleep(100);
  }
}

/** Wait until the edge holds nothing (inQueue 0 and no write pending). */
export async function waitEmpty(base, timeoutMs = 60_000) {
  let last;
  try {
    return await waitFor('the edge store to drain', async () => {
      last = (await stats(base)).edge;
      return last.inQueue === 0 && last.writesPending === 0 ? last : undefined;
    }, { timeoutMs });
  } catch (e) {
    const { shards, ackLatencyMs, txLatencyMs, ...rest } = last ?? {};
    e.message += `: last /stats edge ${JSON.stringify(rest)} shards ${JSON.stringify(shards)}`;
    throw e;
  }
}

/**
 * Summary of how the receiver saw `uuids`: missing (never), duplicated
 * (more than once), plus uuids it saw that are not in `uuids`.
 */
export function deliverySummary(receiver, uuids) {
  const want = new Set(uuids);
  const missing = [];
  const duplicated = [];
  for (const u of want) {
    const n = receiver.state.counts.get(u) ?? 0;
    if (n === 0) missing.push(u);
    else if (n > 1) duplicated.push([u, n]);
  }
  const extra = [];
  for (const [u, n] of receiver.state.counts) if (!want.has(u)) extra.push([u, n]);
  return { missing, duplicated, extra };
}

/** Fetch /metrics and return Map(name{labels} → number) for lines starting with `prefix`. */
export async function metrics(base, prefix = '') {
  const text = await (await fetch(base + '/metrics')).text();
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#') || !line.startsWith(prefix)) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return { text, values: out };
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
