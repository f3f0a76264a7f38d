// Client-side helpers for the edge integration tests: JSON POSTs, raw
// HTTP/1.1 over node:net for what fetch cannot express, many concurrent
// POSTs that remember every acknowledged uuid, and exactly-once checks
// against test/helpers/receiver.mjs.
import net from 'node:net';
import { postLoop } from '../../load/lib/post-loop.mjs';
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
 * POST `total` messages over `connections` keep-alive connections
 * (load/lib/post-loop.mjs postLoop, the POST loop bench and load share).
 * Returns { acked: Map(uuid → { i, path, body, seq }), refused: Map(status → n), errors, sent }.
 */
export async function postMany(base, options = {}) {
  const ledger = await postLoop(base, { ...options, details: true });
  return { acked: ledger.details, refused: ledger.refused, errors: ledger.errors, sent: ledger.sent, unavailable: ledger.unavailable ?? 0 };
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
 * Wait until the edge and the receivers have gone quiet, instead of sleeping
 * a fixed time before judging duplicates: every /stats edge counter that
 * moves when something is written, sent, retried, refused or dropped, and
 * every receiver's batch/message/error count, unchanged for `stableMs`
 * (several forwarder polls and more than one --retry-max), and, with
 * `empty` (the default), nothing held or being written. A resend still to
 * come would have to be held (inQueue > 0) or would move a counter inside
 * the window. Throws at `timeoutMs` with the last figures.
 */
export async function waitQuiet(base, receivers = [], { stableMs = 1500, timeoutMs = 60_000, empty = true, everyMs = 100 } = {}) {
  const rcvs = Array.isArray(receivers) ? receivers : [receivers];
  const snap = async () => {
    const e = (await stats(base)).edge;
    const figures = ['received', 'inQueue', 'writesPending', 'dropped', 'refused', 'txBatches', 'txMessages', 'txFails'].map((k) => e[k]);
    for (const r of rcvs) figures.push(r.state.batches, r.state.messages.length, r.state.errors.length, r.state.hung.size);
    return { key: figures.join(','), e };
  };
  const until = Date.now() + timeoutMs;
  let last = await snap();
  let since = Date.now();
  for (;;) {
    await sleep(everyMs);
    const now = await snap();
    if (now.key !== last.key) since = Date.now();
    last = now;
    const settled = !empty || (now.e.inQueue === 0 && now.e.writesPending === 0);
    if (settled && Date.now() - since >= stableMs) return now.e;
    if (Date.now() > until) {
      throw new Error(`timed out waiting for the edge and receivers to go quiet: last figures ${now.key} (received,inQueue,writesPending,dropped,refused,txBatches,txMessages,txFails; per receiver batches,messages,errors,hung)`);
    }
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
