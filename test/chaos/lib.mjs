// Shared pieces of the chaos suite: a scope that owns everything a scenario
// starts (and stops it whatever happens), a load generator that survives the
// daemon dying under it, a full scan of a test's Elasticsearch indices, the
// lost / duplicated / unacknowledged ledger every scenario reports, and waits
// for quiescence instead of fixed sleeps.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { ES_URL, es, esNode, testIndex } from '../helpers/es.mjs';
import { freePort, removeDir, startDaemon, stats, tempDir } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';

/** Sleep `ms`; with a signal, reject (AbortError) as soon as it aborts. */
export const sleep = (ms, signal) => (signal ? delay(ms, undefined, { signal }) : delay(ms));
export const rand = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));

/**
 * Post continuously at whatever `target()` returns (a base URL, or null when
 * the daemon is down) until stop() or `max` requests. Every body carries a
 * unique tag `${run}-${i}` so duplicates can be found even if a uuid changed.
 * Connection errors (the daemon was killed mid-request) are counted, never
 * retried: such a message may or may not be stored, and is never "acked".
 */
export function startLoad(target, { connections = 16, max = 1_000_000, run = 'r', path = (i) => `/rx/chaos${i % 7}/k${i % 3}/load/test`, maxMs = 600_000, rxbEvery = 0, rxbLines = 5, signal } = {}) {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000, connect: { timeout: 2000 }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const acked = new Set();
  const ackedTags = new Set();
  // Tags of requests cut after they may have reached the daemon (a reset,
  // a close, a timeout: not a refused connect): the only messages that may be
  // stored without a 200.
  const cutTags = new Set();
  const NEVER_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);
  const refused = new Map();
  const errorCodes = {};
  let errors = 0;
  let next = 0;
  let stopped = false;
  const deadline = Date.now() + maxMs;
  async function worker() {
    while (!stopped && !signal?.aborted && next < max && Date.now() < deadline) {
      const base = target();
      if (!base) {
        await sleep(20);
        continue;
      }
      const i = next++;
      // Every rxbEvery-th request is an /rxb of rxbLines NDJSON lines, all
      // committed together: an ack covers every one of their tags.
      const batch = rxbEvery > 0 && i % rxbEvery === 0;
      const tags = batch ? Array.from({ length: rxbLines }, (_, j) => `${run}-${i}-${j}`) : [`${run}-${i}`];
      try {
        const r = await request(base + (batch ? path(i).replace(/^\/rx\//, '/rxb/') : path(i)), {
          method: 'POST', dispatcher: agent, signal,
          headers: { 'content-type': batch ? 'application/x-ndjson' : 'application/json' },
          body: tags.map((tag) => JSON.stringify({ tag, i, amount: i % 1000 })).join('\n'),
        });
        const text = await r.body.text();
        if (r.statusCode === 200) {
          acked.add(JSON.parse(text).uuid);
          for (const t of tags) ackedTags.add(t);
        } else {
          refused.set(r.statusCode, (refused.get(r.statusCode) ?? 0) + 1);
          if (r.statusCode === 503) await sleep(50);
        }
      } catch (e) {
        errors++;
        const code = e?.code ?? e?.cause?.code ?? e?.name ?? 'error';
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        if (!NEVER_SENT.has(code)) for (const t of tags) cutTags.add(t);
        await sleep(20);
      }
    }
  }
  const done = Promise.all(Array.from({ length: connections }, worker)).then(async () => {
    await agent.destroy().catch(() => {});
    return { acked, ackedTags, cutTags, refused, errors, errorCodes, sent: next };
  });
  return {
    acked, ackedTags, cutTags, refused,
    get sent() { return next; },
    get errors() { return errors; },
    stop() { stopped = true; return done; },
    done,
  };
}

/** Every document in `indices`: [{ id, index, uuid, tag, idem }]. Uses a PIT + search_after. */
export async function scanDocs(indices, url = ES_URL) {
  await es(`/${indices}/_refresh`, { method: 'POST', url });
  const pit = await es(`/${indices}/_pit?keep_alive=1m&allow_no_indices=true&ignore_unavailable=true`, { method: 'POST', url });
  if (pit.status !== 200) return [];
  const out = [];
  let after;
  for (;;) {
    const body = {
      size: 5000, pit: { id: pit.body.id, keep_alive: '1m' }, sort: [{ _shard_doc: 'asc' }],
      _source: ['rxtxMsg.uuid', 'rxtxMsg.seq', 'rxtxMsg.payload.tag', 'rxtxMsg.payload.idem'], track_total_hits: false,
    };
    if (after) body.search_after = after;
    const r = await es('/_search', { method: 'POST', url, body });
    if (r.status !== 200) throw new Error(`scan failed: ${JSON.stringify(r.body).slice(0, 500)}`);
    const hits = r.body.hits.hits;
    for (const h of hits) {
      const m = h._source?.rxtxMsg ?? {};
      out.push({ id: h._id, index: h._index, uuid: m.uuid, seq: m.seq, tag: m.payload?.tag, idem: m.payload?.idem });
    }
    if (hits.length < 5000) break;
    after = hits[hits.length - 1].sort;
  }
  await es('/_pit', { method: 'DELETE', url, body: { id: pit.body.id } }).catch(() => {});
  return out;
}

/**
 * The ledger: lost = acked uuids with no document; duplicated = documents
 * beyond the first for one uuid (across daily indices) or for one body tag.
 */
export function ledger(docs, acked, ackedTags) {
  const byId = new Map();
  const byTag = new Map();
  for (const d of docs) {
    byId.set(d.id, (byId.get(d.id) ?? 0) + 1);
    if (d.tag !== undefined) byTag.set(d.tag, (byTag.get(d.tag) ?? 0) + 1);
  }
  let dupIds = 0;
  for (const n of byId.values()) dupIds += n - 1;
  let dupTags = 0;
  for (const n of byTag.values()) dupTags += n - 1;
  // Lost: an acked uuid (the first line's, for /rxb) or an acked tag (every line) with no document.
  const lostIds = [...acked].filter((u) => !byId.has(u));
  const lostTags = ackedTags ? [...ackedTags].filter((t) => !byTag.has(t)) : [];
  const lost = lostTags.length > lostIds.length ? lostTags : lostIds;
  // Stored but never answered 200: a tag (or uuid) in Elasticsearch that no
  // 200 covered. Bounded by every scenario (see unackedCheck).
  const unackedList = ackedTags
    ? [...byTag.keys()].filter((t) => !ackedTags.has(t))
    : [...byId.keys()].filter((u) => !acked.has(u));
  // /rxb atomicity: the lines of one request (tags run-i-j) are all there or none.
  const perRequest = new Map();
  for (const t of byTag.keys()) {
    const m = /^(.+-\d+)-\d+$/.exec(t);
    if (m) perRequest.set(m[1], (perRequest.get(m[1]) ?? 0) + 1);
  }
  const lines = Math.max(0, ...perRequest.values());
  const partialBatches = [...perRequest.values()].filter((n) => n !== lines).length;
  // seq is unique within one edge (across its restarts on the same --path).
  const seqs = new Set();
  let seqReused = 0;
  for (const d of docs) {
    if (d.seq === undefined) continue;
    if (seqs.has(d.seq)) seqReused++;
    seqs.add(d.seq);
  }
  return {
    partialBatches, seqReused,
    documents: docs.length, lost: lost.length, lostSample: lost.slice(0, 3),
    duplicated: Math.max(dupIds, dupTags), unacked: unackedList.length, unackedList, messagesAcked: ackedTags?.size ?? acked.size,
  };
}

/**
 * The check on what was stored without a 200. Graceful scenarios (no cut
 * request: SIGTERM, Elasticsearch or stage trouble): none at all; a message
 * stored and answered 503 would be duplicated by the client's retry. Kill
 * scenarios: only messages whose request was cut by the kill (`cutTags`, from
 * startLoad) may be stored unacknowledged, so at most as many as were cut.
 */
export function unackedCheck(l, cutTags) {
  const sample = (xs) => (xs.length ? ` e.g. ${xs.slice(0, 3).join(',')}` : '');
  if (!cutTags) {
    return { what: `nothing stored without a 200 (${l.unacked} stored but never acked${sample(l.unackedList)})`, ok: l.unacked === 0 };
  }
  const notCut = l.unackedList.filter((t) => !cutTags.has(t));
  return {
    what: `stored without a 200 only what a kill cut in flight (${l.unacked} stored but never acked, bound ${cutTags.size} cut; ${notCut.length} not cut${sample(notCut)})`,
    ok: notCut.length === 0 && l.unacked <= cutTags.size,
  };
}

export function mergeRefused(...maps) {
  const out = {};
  for (const m of maps) for (const [k, v] of m instanceof Map ? m : Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Wait until the daemon's store is empty and stays so for a moment. */
export async function waitDrained(url, timeoutMs = 180_000, signal) {
  const until = Date.now() + timeoutMs;
  let zeros = 0;
  let last;
  while (Date.now() < until) {
    try {
      last = (await stats(url)).edge;
      zeros = last.inQueue === 0 ? zeros + 1 : 0;
      if (zeros >= 3) return last;
    } catch {}
    await sleep(300, signal);
  }
  throw new Error(`store did not drain in ${timeoutMs} ms (inQueue ${last?.inQueue})`);
}

/** Poll scanDocs until every acked uuid is present (or timeout); returns the last docs. */
export async function waitDocs(indices, acked, timeoutMs = 60_000, url = ES_URL, signal) {
  const until = Date.now() + timeoutMs;
  let docs;
  for (;;) {
    docs = await scanDocs(indices, url);
    const ids = new Set(docs.map((d) => d.id));
    let missing = 0;
    for (const u of acked) if (!ids.has(u)) missing++;
    if (missing === 0 || Date.now() > until) return docs;
    await sleep(1000, signal);
  }
}

export function result(name, fields) {
  const r = { name, acked: 0, documents: 0, lost: 0, duplicated: 0, refused: {}, notes: '', ...fields };
  r.pass = r.lost === 0 && r.duplicated === 0 && (fields.checks ?? []).every((c) => c.ok);
  if (r.skipped) r.pass = false; // a skip is never a pass: the runner reports it as a skip (a failure under CI)
  if (fields.checks) {
    const failed = fields.checks.filter((c) => !c.ok).map((c) => c.what);
    if (failed.length) r.notes = `${r.notes}${r.notes ? '; ' : ''}FAILED: ${failed.join('; ')}`;
    delete r.checks;
  }
  return r;
}

/**
 * Delete a testIndex()'s indices and templates (the helper resolves the
 * names first: Elasticsearch 8 refuses wildcard deletes).
 */
export async function cleanupIndex(idx, url = ES_URL) {
  await idx.cleanup(url);
}

/**
 * Wait until an edge and its receiver are quiet: the edge holds nothing
 * (inQueue 0, no write pending) and its counters (received, txBatches,
 * txMessages, txFails) and the receiver's request count stay unchanged over
 * `polls` consecutive samples `everyMs` apart (several forwarder polls, so a
 * retried batch in flight would show), the receiver idle as long. Throws
 * at the deadline with the last sample.
 */
export async function waitQuiet({ url, receiver, polls = 4, everyMs = 300, timeoutMs = 60_000, signal } = {}) {
  const until = Date.now() + timeoutMs;
  let prev;
  let stable = 0;
  let last;
  while (Date.now() < until) {
    const e = (await stats(url)).edge;
    last = { inQueue: e.inQueue, writesPending: e.writesPending, received: e.received, txBatches: e.txBatches, txMessages: e.txMessages, txFails: e.txFails, receiverRequests: receiver?.state.requests };
    const key = JSON.stringify(last);
    const idle = !receiver || receiver.idleMs() >= everyMs;
    stable = e.inQueue === 0 && e.writesPending === 0 && idle && key === prev ? stable + 1 : 0;
    prev = key;
    if (stable >= polls) return last;
    await sleep(everyMs, signal);
  }
  throw new Error(`not quiet after ${timeoutMs} ms: last ${JSON.stringify(last)}`);
}

// ---- The scope: everything a scenario starts, stopped whatever happens --------
//
// runScenario gives every scenario a scope and an AbortSignal (aborted when
// the scenario times out or its test is cancelled). Whatever the scope starts
// is registered before it can leak and stopped in reverse order when the
// scenario ends, fails, throws or is aborted; after an abort the scope refuses
// to start anything more. If the process itself exits first, the 'exit' hook
// SIGKILLs the daemons, kills the private Elasticsearch nodes and unmounts.

const onExit = new Set();
let exitHooked = false;
function atExit(fn) {
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const f of onExit) {
        try { f(); } catch {}
      }
    });
  }
  onExit.add(fn);
  return () => onExit.delete(fn);
}

export function abortReason(signal) {
  const r = signal?.reason;
  return r instanceof Error ? r.message : String(r ?? 'aborted');
}

export function createScope({ signal, log = () => {} } = {}) {
  const cleanups = []; // LIFO: { what, fn, unhook }
  let closed = false;
  const failures = [];
  const children = [];
  const starting = new Set(); // starts in progress: close() lets them finish (and register) first
  const track = (p) => {
    starting.add(p);
    p.catch(() => {}).finally(() => starting.delete(p));
    return p;
  };

  const scope = {
    signal,
    /** Throw if the scenario was aborted (a timeout, a cancelled test). */
    check() {
      if (signal?.aborted) throw new Error(`aborted: ${abortReason(signal)}`);
    },
    sleep: (ms) => sleep(ms, signal),
    /**
     * Register `fn` (async) to run at the end; `sync` (optional) is the same
     * done synchronously should the process exit first. Registered after the
     * scope closed: runs at once.
     */
    async defer(what, fn, sync) {
      const unhook = sync ? atExit(sync) : () => {};
      if (closed) {
        await run({ what, fn, unhook });
        return;
      }
      cleanups.push({ what, fn, unhook });
    },
    /** startDaemon, killed (SIGKILL) at the end. */
    async daemon(role, args = [], opts = {}) {
      scope.check();
      const d = await track(startDaemon(role, args, opts));
      children.push({ role, d });
      await scope.defer(`${role} daemon on ${d.port}`, () => d.kill(), () => {
        if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      });
      scope.check();
      return d;
    },
    /** A temp dir, removed at the end. */
    async tempDir(prefix = 'spillway-chaos-') {
      const dir = tempDir(prefix);
      await scope.defer(`remove ${dir}`, () => removeDir(dir), () => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    /** A testIndex() whose indices and templates are deleted at the end (on `url`). */
    async index(prefix = 'spillway-chaos', url = ES_URL) {
      const idx = testIndex(prefix);
      await scope.defer(`delete ${idx.all}`, () => idx.cleanup(url));
      return idx;
    },
    /** A receiver (test/helpers/receiver.mjs), closed at the end. */
    async receiver(opts) {
      scope.check();
      const r = await track(startReceiver(opts));
      await scope.defer(`receiver on ${r.port}`, () => r.close());
      return r;
    },
    /**
     * A private Elasticsearch node on a free port with its own run dir,
     * killed and removed at the end (registered before it starts, so an
     * abort during the start still kills what es.sh launched).
     */
    async esNode({ settings = '', heap = '512m' } = {}) {
      scope.check();
      const port = await freePort();
      const runDir = tempDir('spillway-es-');
      const node = esNode(port, { settings, heap, runDir });
      await scope.defer(`remove ${runDir}`, () => removeDir(runDir), () => rmSync(runDir, { recursive: true, force: true }));
      await scope.defer(`Elasticsearch node on ${port}`, () => node.kill(), () => node.killSync());
      const t0 = Date.now();
      await node.start({ fresh: true, signal });
      log(`  private Elasticsearch on ${port} up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      scope.check();
      return node;
    },
    /** startLoad bound to the scope's signal, stopped at the end. */
    load(target, opts = {}) {
      const l = startLoad(target, { ...opts, signal });
      scope.defer('load', () => l.stop());
      return l;
    },
    /** A tmpfs of `size` mounted on a fresh dir, unmounted and removed at the end. Throws if it cannot mount. */
    async tmpfs(size) {
      scope.check();
      const mnt = tempDir('spillway-chaos-disk-');
      const umount = () => {
        try { execFileSync('umount', ['-l', mnt], { stdio: 'ignore' }); } catch {}
        rmSync(mnt, { recursive: true, force: true });
      };
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'pipe' });
      } catch (e) {
        rmSync(mnt, { recursive: true, force: true });
        const err = new Error(`cannot mount a tmpfs here (${String(e.stderr || e.message).trim()})`);
        err.code = 'NO_TMPFS';
        throw err;
      }
      await scope.defer(`umount ${mnt}`, umount, umount);
      return mnt;
    },
    /** Run every cleanup (LIFO); returns the failures (also kept for leaks()). */
    async close() {
      // A daemon half-started when the abort came would otherwise register
      // (and be killed) only after its --path was removed, and recreate it.
      while (starting.size) await Promise.allSettled([...starting]);
      closed = true;
      while (cleanups.length) await run(cleanups.pop());
      return failures;
    },
    /** What close() could not stop, plus any daemon still alive: [] when clean. */
    leaks() {
      const alive = children.filter(({ d }) => d.child.exitCode === null && d.child.signalCode === null)
        .map(({ role, d }) => `${role} daemon pid ${d.child.pid} still alive`);
      return [...failures, ...alive];
    },
  };

  async function run({ what, fn, unhook }) {
    try {
      await fn();
    } catch (e) {
      failures.push(`cleanup "${what}" failed: ${String(e?.message ?? e).slice(0, 300)}`);
    } finally {
      unhook();
    }
  }
  return scope;
}
