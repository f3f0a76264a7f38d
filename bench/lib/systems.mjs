// The pipelines the steady-state rows measure, each started fresh for its
// row and described as bench/lib/steady.mjs expects: where wrk posts, which
// processes are the row's daemons, how many messages were delivered so far,
// and what arrived (for the exactly-once check). stop() ends everything a
// system started, whatever state it is in.
import { removeDir, startDaemon, stats } from '../../test/helpers/daemon.mjs';
import { ES_URL, es } from '../../test/helpers/es.mjs';
import { startCountingStage } from './counting-stage.mjs';
import { indexedUuids } from './elasticsearch.mjs';
import { elasticsearchPid } from './proc.mjs';

export const PROMISE = {
  spillway: 'fsync\'d LMDB commit before the 200',
  rxtxRxs: 'bbolt transaction (fsync) before the 200',
  rxtxRx: 'answered before the message is written',
  fluentBit: 'appended to an mmapped chunk, not synced, before the 201',
};

const RX_PATH = '/rx/pos/till-{n}/sale';

/** A peer's URL as a base (no trailing slash, no /in). */
const baseOf = (url) => url.replace(/\/in$/, '').replace(/\/$/, '');

/** Run `start(cleanups)`; on a failure, run the cleanups it registered, newest first, then rethrow. */
async function starting(start) {
  const cleanups = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    cleanups.length = 0;
  };
  try {
    return await start((fn) => cleanups.push(fn), stopAll);
  } catch (e) {
    await stopAll();
    throw e;
  }
}

async function spillway(role, args, at, dir) {
  const d = await startDaemon(role, ['--path', dir, '--maxq', '100000000', '--log-level', 'warn', ...args]);
  at(async () => {
    await d.kill();
    removeDir(dir);
  });
  return d;
}

const txMessages = (url) => async () => (await stats(url)).edge.txMessages;

/** `spillway edge` → the counting stage. */
export function edgeToStage(ctx, edgeArgs = []) {
  return starting(async (at, stopAll) => {
    const stage = await startCountingStage();
    at(() => stage.stop());
    const edge = await spillway('edge', ['--ingest', stage.url, ...edgeArgs], at, ctx.dir(`edge-stage-${Date.now()}`));
    return {
      url: edge.url, path: RX_PATH, pids: { edge: edge.child.pid }, sampleStatsOf: edge.url,
      delivered: async () => (await stage.counts()).unique, arrivals: () => stage.arrivals(), namesAcks: true,
      promise: PROMISE.spillway, downstream: 'counting stage',
      stop: stopAll,
    };
  });
}

/** The Go rxtx on `route` (rxs or rx) → the counting stage. */
export function rxtxToStage(ctx, peers, route) {
  return starting(async (at, stopAll) => {
    const stage = await startCountingStage();
    at(() => stage.stop());
    const dir = ctx.dir(`rxtx-${route}-${Date.now()}`);
    const rxtx = await peers.startRxtx({ ingest: stage.url, interval: 1, batch: 5000, maxq: 100_000_000, dir });
    at(async () => {
      await rxtx.kill();
      removeDir(dir);
    });
    return {
      url: baseOf(rxtx.url), path: `/${route}/pos/till-{n}/sale`, pids: { rxtx: rxtx.pid },
      delivered: async () => (await stage.counts()).unique, arrivals: () => stage.arrivals(), namesAcks: false,
      promise: route === 'rxs' ? PROMISE.rxtxRxs : PROMISE.rxtxRx, downstream: 'counting stage',
      stop: stopAll,
    };
  });
}

/** `spillway beat` on a fresh index; returns the daemon. */
async function spillwayBeat(ctx, index, at) {
  const beat = await startDaemon('beat', ['--index', index.pattern, '--log-level', 'warn']);
  at(() => beat.kill());
  return beat;
}

const beatAcks = (url) => async () => (await stats(url)).stage.acksReceived;

/** `spillway edge` → `spillway beat` → Elasticsearch. */
export function edgeToBeat(ctx, index) {
  return starting(async (at, stopAll) => {
    const beat = await spillwayBeat(ctx, index, at);
    const edge = await spillway('edge', ['--ingest', `${beat.url}/in`], at, ctx.dir(`edge-beat-${Date.now()}`));
    return {
      url: edge.url, path: RX_PATH, pids: { edge: edge.child.pid, beat: beat.child.pid }, sampleStatsOf: edge.url,
      delivered: txMessages(edge.url), arrivals: () => indexedUuids(index.all), namesAcks: true,
      promise: PROMISE.spillway, downstream: 'Elasticsearch', esPid: elasticsearchPid(),
      stop: stopAll,
    };
  });
}

/** `spillway all` → Elasticsearch. */
export function allMode(ctx, index, args = []) {
  return starting(async (at, stopAll) => {
    const all = await spillway('all', ['--index', index.pattern, ...args], at, ctx.dir(`all-${Date.now()}`));
    return {
      url: all.url, path: RX_PATH, pids: { all: all.child.pid }, sampleStatsOf: all.url,
      delivered: txMessages(all.url), arrivals: () => indexedUuids(index.all), namesAcks: true,
      promise: PROMISE.spillway, downstream: 'Elasticsearch', esPid: elasticsearchPid(),
      stop: stopAll,
    };
  });
}

/** The Go rxtx /rxs → `spillway beat` → Elasticsearch. */
export function rxtxToBeat(ctx, peers, index, route = 'rxs') {
  return starting(async (at, stopAll) => {
    const beat = await spillwayBeat(ctx, index, at);
    const dir = ctx.dir(`rxtx-beat-${Date.now()}`);
    const rxtx = await peers.startRxtx({ ingest: `${beat.url}/in`, interval: 1, batch: 5000, maxq: 100_000_000, dir });
    at(async () => {
      await rxtx.kill();
      removeDir(dir);
    });
    return {
      url: baseOf(rxtx.url), path: `/${route}/pos/till-{n}/sale`, pids: { rxtx: rxtx.pid, beat: beat.child.pid },
      delivered: beatAcks(beat.url), arrivals: () => indexedUuids(index.all), namesAcks: false,
      promise: route === 'rxs' ? PROMISE.rxtxRxs : PROMISE.rxtxRx, downstream: 'Elasticsearch', esPid: elasticsearchPid(),
      stop: stopAll,
    };
  });
}

/** `spillway edge` → the Go rtbeat (behind the GET / version proxy it needs) → Elasticsearch. */
export function edgeToRtbeat(ctx, peers, index) {
  return starting(async (at, stopAll) => {
    const proxy = await peers.startVersionProxy({ target: ES_URL });
    at(() => proxy.close());
    const dir = ctx.dir(`rtbeat-${Date.now()}`);
    const rtbeat = await peers.startRtbeat({ esUrl: proxy.url, index: index.pattern, dir, timeoutSeconds: 30 });
    at(async () => {
      await rtbeat.kill();
      await rtbeat.deleteTemplate(ES_URL);
      removeDir(dir);
    });
    const edge = await spillway('edge', ['--ingest', `${baseOf(rtbeat.url)}/in`], at, ctx.dir(`edge-rtbeat-${Date.now()}`));
    return {
      url: edge.url, path: RX_PATH, pids: { edge: edge.child.pid, rtbeat: rtbeat.pid }, sampleStatsOf: edge.url,
      delivered: txMessages(edge.url), arrivals: () => indexedUuids(index.all), namesAcks: true,
      promise: PROMISE.spillway, downstream: 'Elasticsearch (rtbeat picks its own ids)', esPid: elasticsearchPid(),
      stop: stopAll,
    };
  });
}

/** Fluent Bit (the configuration in ../shared/peers/fluent-bit/) → Elasticsearch, into a fresh index. */
export function fluentBit(ctx, peers, indexName) {
  return starting(async (at, stopAll) => {
    const dir = ctx.dir(`fluent-bit-${Date.now()}`);
    const { hostname, port } = new URL(ES_URL);
    const fb = await peers.startFluentBit({ esHost: hostname, esPort: Number(port), index: indexName, dir });
    at(async () => {
      await fb.kill();
      removeDir(dir);
    });
    at(() => es(`/${indexName}`, { method: 'DELETE' }));
    // Its documents carry no message uuid and get Elasticsearch's ids:
    // delivered = documents searchable (a refresh per poll, so polled less often).
    const delivered = async () => {
      await es(`/${indexName}/_refresh`, { method: 'POST' });
      const r = await es(`/${indexName}/_count`);
      return r.status === 200 ? r.body.count : 0;
    };
    return {
      url: baseOf(fb.url), path: '/pos', pids: { 'fluent-bit': fb.pid }, pollMs: 100,
      delivered, namesAcks: false, promise: PROMISE.fluentBit, downstream: 'Elasticsearch (ids chosen by Elasticsearch)', esPid: elasticsearchPid(),
      countOnly: true, stop: stopAll,
    };
  });
}
