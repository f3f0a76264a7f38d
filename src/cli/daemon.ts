/**
 * Wires one Spillway process for its role: the HTTP front, the store with
 * its writer pool and forwarder threads (edge, all), the Elasticsearch stage
 * (beat, all), metrics, and an orderly shutdown.
 */
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import { Forwarders } from '../forward/forwarders.js';
import type { FromForwarder } from '../forward/protocol.js';
import { registerEdgeRoutes } from '../front/edge-routes.js';
import { exchange, fail } from '../front/http.js';
import { registerOpsRoutes } from '../front/ops-routes.js';
import { loadUws } from '../front/uws.js';
import { createApp, securityOf } from '../security/index.js';
import { EdgeMetrics, StageMetrics, newRegistry } from '../metrics/registry.js';
import { createClient } from '../sinks/elasticsearch/client.js';
import { ElasticsearchSink, type SinkEvents } from '../sinks/elasticsearch/sink.js';
import { registerStageRoutes } from '../stage/in-route.js';
import { EsReadiness } from '../stage/readiness.js';
import { SeqAllocator, parseSeq, timeSeed } from '../store/seq.js';
import { highestSeq, openShards, prepareDirectory, type Shard } from '../store/shards.js';
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

function stageEvents(m: StageMetrics): Required<SinkEvents> {
  return {
    bulk: (ms) => {
      m.bulkRequests.inc();
      m.bulkLatency.recordMs(ms);
    },
    bulkFailed: () => m.bulkFailures.inc(),
    indexed: (n) => m.addIndexed(n),
    retried: (n) => m.retried.inc(n),
    deadLettered: (n) => m.deadLettered.inc(n),
  };
}

async function counterValue(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values.reduce((a, v) => a + v.value, 0);
}

export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const uws = loadUws();
  const registry = newRegistry();
  // TLS, tokens, rate limit, CORS (src/security/); a bad certificate or token file throws one line.
  const app = createApp(uws, config, log, registry);
  let closing = false;
  const isClosing = () => closing;
  const started = Date.now();
  const hasStore = config.role !== 'beat';
  const hasStage = config.role !== 'edge';

  // ---- store, writers, forwarders (edge, all)
  let dbs: Shard[] = [];
  let state: StoreState | undefined;
  let queue: WriteQueue | undefined;
  let pool: Piscina | undefined;
  let forwarders: Forwarders | undefined;
  let edgeMetrics: EdgeMetrics | undefined;
  let sampler: NodeJS.Timeout | undefined;
  const stageMetrics = hasStage ? new StageMetrics(registry) : undefined;

  if (hasStore) {
    prepareDirectory(config.path);
    dbs = openShards(config);
    const seqBuffer = SeqAllocator.createShared();
    const seqs = new SeqAllocator(seqBuffer);
    const top = highestSeq(dbs);
    if (top !== undefined) seqs.advancePast(parseSeq(top));
    seqs.advancePast(timeSeed() - 1n);
    const st = new StoreState(dbs, config.maxq, config.maxBytes);
    state = st;
    const em = new EdgeMetrics(registry, config.name);
    edgeMetrics = em;
    em.inQueue.set(st.total);

    const writerData: WriterData = {
      path: config.path, name: config.name, shards: config.shards, maxBody: config.maxBody,
      maxBatchBody: config.maxBatchBody, maxDepth: config.maxDepth, seqBuffer,
    };
    pool = new Piscina({
      filename: WRITER_SCRIPT,
      minThreads: config.writers,
      maxThreads: config.writers,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // Writers mostly wait on LMDB's commit thread; let one serve several shards.
      concurrentTasksPerWorker: Math.max(1, Math.ceil((config.shards * TASKS_PER_SHARD) / config.writers)),
      workerData: writerData,
    });
    queue = new WriteQueue(pool, {
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

    let lastFailLog = 0;
    const events = stageMetrics ? stageEvents(stageMetrics) : undefined;
    forwarders = new Forwarders(config, log, (m: FromForwarder) => {
      if (m.type === 'delivered') {
        st.removed(m.shard, m.removed);
        em.txBatches.inc();
        em.txMessages.inc(m.count);
        em.txLatency.recordMs(m.ms);
        em.inQueue.set(st.total);
        stageMetrics?.acksReceived.inc(m.count);
      } else if (m.type === 'failed') {
        em.txFails.inc();
        if (Date.now() - lastFailLog > 5000) {
          lastFailLog = Date.now();
          log.warn({ shard: m.shard, messages: m.count, reason: m.reason }, 'batch not delivered; will retry');
        }
      } else if (m.type === 'sink' && events) {
        if (m.event === 'bulk') events.bulk(m.ms ?? 0, m.n);
        else if (m.event === 'bulkFailed') events.bulkFailed();
        else events[m.event](m.n);
      }
    });

    const sample = () => {
      for (const v of st.sample()) em.shardDepth.set({ shard: String(v.shard) }, v.messages);
      em.storeBytes.set(st.bytes);
      em.oldestAge.set(st.oldestAgeSeconds());
      em.inQueue.set(st.total);
    };
    sample();
    sampler = setInterval(sample, 1000);
    sampler.unref();
    registerEdgeRoutes(app, { config, queue, state: st, metrics: em, log, isClosing });
    log.info({ held: st.total, shards: config.shards, path: config.path }, 'store opened');
  }

  // ---- stage (beat, all)
  let readiness: EsReadiness | undefined;
  let stageInflight = () => 0;
  let sink: ElasticsearchSink | undefined;
  if (hasStage) {
    const client = createClient({ nodes: config.es });
    readiness = new EsReadiness(client, log, config);
    readiness.onFirstReady = () => forwarders?.release();
    await readiness.start();
    if (config.role === 'beat') {
      sink = new ElasticsearchSink({
        client, index: config.index, dlqIndex: config.dlqIndex, bulkBytes: config.bulkBytes,
        concurrency: config.bulkConcurrency, retryCapMs: config.retryMax * 1000, events: stageEvents(stageMetrics!),
      });
      const stage = registerStageRoutes(app, {
        config, sink, metrics: stageMetrics!, log, isClosing, notReady: () => readiness!.notReady,
      });
      stageInflight = stage.inflight;
    }
  }

  // ---- operations
  const notReady = () => {
    if (closing) return 'shutting down';
    const full = state?.fullReason();
    if (full && config.overflow === 'refuse') return full;
    return config.role === 'beat' ? readiness?.notReady : undefined;
  };
  registerOpsRoutes(app, {
    registry,
    notReady,
    stats: async () => ({
      role: config.role,
      name: config.name,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      ready: notReady() === undefined,
      notReady: notReady(),
      elasticsearch: readiness ? { reachable: readiness.notReady === undefined, reason: readiness.notReady } : undefined,
      edge: state && edgeMetrics && {
        received: await counterValue(edgeMetrics.received),
        receivedBytes: await counterValue(edgeMetrics.receivedBytes),
        inQueue: state.total,
        maxq: config.maxq,
        writesPending: queue!.queued,
        dropped: await counterValue(edgeMetrics.dropped),
        refused: await counterValue(edgeMetrics.refused),
        txBatches: await counterValue(edgeMetrics.txBatches),
        txMessages: await counterValue(edgeMetrics.txMessages),
        txFails: await counterValue(edgeMetrics.txFails),
        storeBytes: state.bytes,
        oldestAgeSeconds: state.oldestAgeSeconds(),
        shards: state.shards,
        ackLatencyMs: edgeMetrics.ackLatency.snapshot(),
        ackLatencyLastSecondMs: edgeMetrics.ackLatency.lastSecond(),
        txLatencyMs: edgeMetrics.txLatency.snapshot(),
      },
      stage: stageMetrics && {
        batchesReceived: await counterValue(stageMetrics.batchesReceived),
        messagesParsed: await counterValue(stageMetrics.messagesParsed),
        acksReceived: await counterValue(stageMetrics.acksReceived),
        indexed: stageMetrics.indexedCount,
        retried: await counterValue(stageMetrics.retried),
        deadLettered: await counterValue(stageMetrics.deadLettered),
        timeouts: await counterValue(stageMetrics.timeouts),
        bulkLatencyMs: stageMetrics.bulkLatency.snapshot(),
        bulkLatencyLastSecondMs: stageMetrics.bulkLatency.lastSecond(),
      },
    }),
  });
  app.any('/*', (res) => fail(exchange(res), 404, 'no such route'));

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
  log.info({ port, host: config.host }, 'listening');

  async function teardown(): Promise<void> {
    clearInterval(sampler);
    readiness?.stop();
    const deadline = Date.now() + config.shutdownTimeout * 1000 * 0.8;
    const settle = new Promise((r) => setTimeout(r, config.shutdownTimeout * 1000 * 0.4).unref());
    await Promise.race([queue?.idle(), settle]);
    await forwarders?.stop(deadline);
    await pool?.destroy();
    await sink?.close();
    for (const db of dbs) await db.close();
  }

  return {
    port,
    async close() {
      closing = true;
      uws.us_listen_socket_close(token as never);
      securityOf(app)?.close();
      const until = Date.now() + config.shutdownTimeout * 1000 * 0.5;
      while (stageInflight() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await teardown();
      log.info('stopped');
    },
  };
}
