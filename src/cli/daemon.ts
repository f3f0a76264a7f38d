/**
 * Wires one Spillway process for its role, and only wires: the outputs'
 * health (all, beat), the store with its writer pool and forwarder threads
 * (edge, all), the /in stage (beat), the ops routes, and an orderly
 * shutdown. Each start* function returns what stops it.
 */
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import { Forwarders } from '../forward/forwarders.js';
import type { FromForwarder } from '../forward/protocol.js';
import type { TemplatedApp } from 'uWebSockets.js';
import { registerEdgeRoutes } from '../front/edge-routes.js';
import { exchange, fail } from '../front/http.js';
import { registerOpsRoutes } from '../front/ops-routes.js';
import { loadUws } from '../front/uws.js';
import { createApp, createOpsApp, securityOf } from '../security/index.js';
import { OutputMetrics, registerHealthGauges } from '../metrics/outputs.js';
import { EdgeMetrics, StageMetrics, newRegistry } from '../metrics/registry.js';
import { buildStats } from '../metrics/stats.js';
import { buildOutputs, combine, type Built } from '../sinks/registry.js';
import type { Health } from '../sinks/types.js';
import { registerStageRoutes } from '../stage/in-route.js';
import { startStatus } from '../status/index.js';
import { SeqAllocator, parseSeq, timeSeed } from '../store/seq.js';
import { highestSeq, openShards, prepareDirectory, refuseStrandedShards, type Shard } from '../store/shards.js';
import { StoreState } from '../store/state.js';
import { WriteQueue } from '../store/write-queue.js';
import type { WriterData } from '../workers/writer-protocol.js';

export class ListenError extends Error {
  override name = 'ListenError';
}

export interface Daemon {
  port: number;
  close(): Promise<void>;
}

/**
 * Write tasks per shard in flight. One: while a shard commits, its next group
 * gathers, so a busy shard's groups grow with its commit time and the fsyncs
 * per message fall (they are most of the store's CPU). Two (one committing
 * while the next is parsed) measured 8-20% more CPU per message at the same
 * load on 2 cores (docs/decisions.md).
 */
const TASKS_PER_SHARD = 1;

const WRITER_SCRIPT = new URL('../workers/writer.js', import.meta.url).href;

export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const uws = loadUws();
  const registry = newRegistry();
  // TLS, tokens, rate limit, CORS (src/security/); a bad certificate or token file throws one line.
  const app = createApp(uws, config, log, registry);
  let closing = false;
  const isClosing = () => closing;
  const started = Date.now();
  const stageMetrics = config.role !== 'edge' ? new StageMetrics(registry) : undefined;
  const outputMetrics = new OutputMetrics(registry, config.outputs, stageMetrics);

  const outputs = config.role !== 'edge' ? await startOutputs(config, log, outputMetrics) : undefined;
  const store = config.role !== 'beat' ? startStore(config, log, app, registry, outputMetrics, stageMetrics, isClosing) : undefined;
  // All mode: the forwarders write once every output has been ready (index templates in place).
  if (store && outputs) outputs.whenReady(() => store.forwarders.release());
  const stage = config.role === 'beat' && outputs
    ? startStage(config, log, app, outputs, stageMetrics!, isClosing)
    : undefined;

  // ---- operations
  const notReady = () => {
    if (closing) return 'shutting down';
    const full = store?.state.fullReason();
    if (full && config.overflow === 'refuse') return full;
    // All mode stores while an output is away (that is what the store is for); beat cannot.
    return config.role === 'beat' ? outputs?.notReady() : undefined;
  };
  // --ops-port: the ops routes on a listener of their own (src/security/), else on the main one.
  const opsApp = createOpsApp(uws, config);
  registerOpsRoutes(opsApp ?? app, {
    registry,
    notReady,
    stats: () => buildStats({
      config, started, notReady, stage: stageMetrics, outputs: outputMetrics,
      health: outputs?.health ?? new Map(),
      store: store && { state: store.state, queue: store.queue, metrics: store.metrics },
    }),
  });
  registerHealthGauges(registry, notReady, outputs?.health ?? new Map());
  // GET /status and /status/ws beside /stats (src/status/).
  const status = startStatus(opsApp ?? app, {
    role: config.role, name: config.name, outputNames: config.outputs, registry, notReady,
    store: store && { state: store.state, metrics: store.metrics }, stage: stageMetrics, outputs: outputMetrics,
    health: outputs?.health ?? new Map(),
  }, { corsOrigins: config.corsOrigins, isClosing, log });
  app.any('/*', (res) => fail(exchange(res), 404, 'no such route'));
  opsApp?.any('/*', (res) => fail(exchange(res), 404, 'no such route'));

  // ---- listen
  // Exclusive: uWS otherwise sets SO_REUSEPORT, and a second Spillway on the
  // same port would silently share it.
  const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
  const token = await new Promise<unknown>((resolve) =>
    (app.listen as unknown as (h: string, p: number, o: number, cb: (t: unknown) => void) => void)(
      config.host, config.port, LIBUS_LISTEN_EXCLUSIVE_PORT, resolve,
    ),
  );
  if (!token) {
    await teardown();
    throw new ListenError(`cannot listen on ${config.host}:${config.port} (in use, or not allowed)`);
  }
  const port = uws.us_socket_local_port(token as never);
  log.info({ port, host: config.host, outputs: config.outputs }, 'listening');
  let opsToken: unknown;
  if (opsApp) {
    opsToken = await new Promise<unknown>((resolve) =>
      (opsApp.listen as unknown as (h: string, p: number, o: number, cb: (t: unknown) => void) => void)(
        config.opsHost, config.opsPort, LIBUS_LISTEN_EXCLUSIVE_PORT, resolve,
      ),
    );
    if (!opsToken) {
      uws.us_listen_socket_close(token as never);
      await teardown();
      throw new ListenError(`cannot listen on ${config.opsHost}:${config.opsPort} for --ops-port (in use, or not allowed)`);
    }
    log.info({ port: config.opsPort, host: config.opsHost }, 'ops routes listening (--ops-port)');
  }

  async function teardown(): Promise<void> {
    outputs?.stopHealth();
    const deadline = Date.now() + config.ms.shutdownTimeout * 0.8;
    await store?.stop(deadline);
    await outputs?.close();
  }

  return {
    port,
    async close() {
      closing = true;
      uws.us_listen_socket_close(token as never);
      if (opsToken) uws.us_listen_socket_close(opsToken as never);
      securityOf(app)?.close();
      status.stop();
      await stage?.drain(Date.now() + config.ms.shutdownTimeout * 0.5);
      await teardown();
      log.info('stopped');
    },
  };
}

// ---- outputs (all, beat): built once in the main thread for their health;
// beat delivers through their sinks, all mode's forwarder threads build their own.
interface RunningOutputs {
  built: Built[];
  health: Map<string, Health>;
  notReady(): string | undefined;
  whenReady(fn: () => void): void;
  stopHealth(): void;
  close(): Promise<void>;
}

async function startOutputs(config: Config, log: Logger, metrics: OutputMetrics): Promise<RunningOutputs> {
  const built = await buildOutputs(config, (name) => ({
    log, events: metrics.events(name), connections: config.bulkConcurrency, writer: 'beat',
  }));
  const health = new Map<string, Health>();
  for (const b of built) if (b.health) health.set(b.name, b.health);
  let waiting = new Set(health.keys());
  let ready: (() => void) | undefined;
  let allReady = waiting.size === 0;
  for (const [name, h] of health) {
    h.onFirstReady = () => {
      waiting.delete(name);
      if (waiting.size === 0 && !allReady) {
        allReady = true;
        ready?.();
      }
    };
  }
  await Promise.all([...health.values()].map((h) => h.start()));
  return {
    built,
    health,
    notReady() {
      for (const [name, h] of health) if (h.notReady) return config.outputs.length > 1 ? `output ${name}: ${h.notReady}` : h.notReady;
      return undefined;
    },
    whenReady(fn) {
      if (allReady) fn();
      else ready = fn;
    },
    stopHealth() {
      for (const h of health.values()) h.stop();
      waiting = new Set();
    },
    async close() {
      await Promise.all(built.map((b) => b.sink.close().catch(() => {})));
    },
  };
}

// ---- stage (beat): POST /in delivers to every output
function startStage(
  config: Config, log: Logger, app: TemplatedApp, outputs: RunningOutputs, metrics: StageMetrics, isClosing: () => boolean,
): { drain(until: number): Promise<void> } {
  // Beat: an edge has its own --inflight; each output takes whatever comes.
  const sink = combine(outputs.built, Number.MAX_SAFE_INTEGER);
  const stage = registerStageRoutes(app, { config, sink, metrics, log, isClosing, notReady: () => outputs.notReady() });
  return {
    async drain(until) {
      while (stage.inflight() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

// ---- store, writers, forwarders (edge, all)
interface RunningStore {
  state: StoreState;
  queue: WriteQueue;
  metrics: EdgeMetrics;
  forwarders: Forwarders;
  stop(deadline: number): Promise<void>;
}

function startStore(
  config: Config, log: Logger, app: TemplatedApp, registry: ReturnType<typeof newRegistry>,
  outputMetrics: OutputMetrics, stageMetrics: StageMetrics | undefined, isClosing: () => boolean,
): RunningStore {
  prepareDirectory(config.path);
  refuseStrandedShards(config);
  const dbs: Shard[] = openShards(config);
  const seqBuffer = SeqAllocator.createShared();
  const seqs = new SeqAllocator(seqBuffer);
  const top = highestSeq(dbs);
  if (top !== undefined) seqs.advancePast(parseSeq(top));
  seqs.advancePast(timeSeed() - 1n);
  const st = new StoreState(dbs, config.maxq, config.maxBytes);
  const em = new EdgeMetrics(registry, config.name, config);
  em.inQueue.set(st.total);

  const writerData: WriterData = {
    path: config.path, name: config.name, shards: config.shards, maxBody: config.maxBody,
    maxBatchBody: config.maxBatchBody, maxDepth: config.maxDepth, seqBuffer,
  };
  const pool = new Piscina({
    filename: WRITER_SCRIPT,
    minThreads: config.writers,
    maxThreads: config.writers,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    // Writers mostly wait on LMDB's commit thread; let one serve several shards.
    concurrentTasksPerWorker: Math.max(1, Math.ceil((config.shards * (TASKS_PER_SHARD + 1)) / config.writers)),
    workerData: writerData,
  });
  const queue = new WriteQueue(pool, {
    shards: config.shards,
    maxItems: 2048,
    maxBytes: 8 * 1024 * 1024,
    perShard: TASKS_PER_SHARD,
    dropFor: config.overflow === 'drop-oldest'
      ? (_shard, incoming) => Math.max(0, st.total + incoming - config.maxq)
      : undefined,
    onOutcome: (shard, o) => {
      st.written(shard, o.written, o.bytes);
      em.received.inc(o.written);
      em.receivedBytes.inc(o.bytes);
      if (o.dropped > 0) {
        st.removed(shard, o.dropped);
        em.dropped.inc(o.dropped);
        log.warn({ shard, dropped: o.dropped }, 'store full: oldest messages dropped (--overflow drop-oldest)');
      }
      em.inQueue.set(st.total);
    },
  });

  // Every report of the forwarder threads lands here.
  let lastFailLog = 0;
  const forwarders = new Forwarders(config, log, (m: FromForwarder) => {
    if (m.type === 'delivered') {
      st.removed(m.shard, m.removed);
      em.delivered(m.count, m.ms);
      em.inQueue.set(st.total);
      stageMetrics?.acksReceived.inc(m.count);
    } else if (m.type === 'failed') {
      em.txFails.inc();
      if (Date.now() - lastFailLog > 5000) {
        lastFailLog = Date.now();
        log.warn({ shard: m.shard, messages: m.count, reason: m.reason }, 'batch not delivered; will retry');
      }
    } else if (m.type === 'sink' && config.role !== 'edge') {
      outputMetrics.relay(m.output, m.event, m.n, m.ms);
    }
  });

  const sample = () => {
    for (const v of st.sample()) em.shardDepth.set({ shard: String(v.shard) }, v.messages);
    em.storeBytes.set(st.bytes);
    em.oldestAge.set(st.oldestAgeSeconds());
    em.inQueue.set(st.total);
  };
  sample();
  const sampler = setInterval(sample, 1000);
  sampler.unref();
  registerEdgeRoutes(app, { config, queue, state: st, metrics: em, log, isClosing });
  log.info({ held: st.total, shards: config.shards, path: config.path }, 'store opened');

  return {
    state: st, queue, metrics: em, forwarders,
    async stop(deadline) {
      clearInterval(sampler);
      const settle = new Promise((r) => setTimeout(r, config.ms.shutdownTimeout * 0.4).unref());
      await Promise.race([queue.idle(), settle]);
      await forwarders.stop(deadline);
      await pool.destroy();
      for (const db of dbs) await db.close();
    },
  };
}
