/**
 * GET /stats: one JSON object of what the daemon holds and has done, built
 * from the parts the daemon started (each absent in the roles without it).
 */
import type { Config } from '../config/options.js';
import type { StoreState } from '../store/state.js';
import type { WriteQueue } from '../store/write-queue.js';
import type { Health } from '../sinks/types.js';
import type { OutputMetrics } from './outputs.js';
import type { EdgeMetrics, StageMetrics } from './registry.js';

async function counterValue(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values.reduce((a, v) => a + v.value, 0);
}

export interface StatsParts {
  config: Config;
  started: number;
  notReady(): string | undefined;
  store?: { state: StoreState; queue: WriteQueue; metrics: EdgeMetrics };
  stage?: StageMetrics;
  outputs: OutputMetrics;
  health: ReadonlyMap<string, Health>;
}

export async function buildStats(p: StatsParts): Promise<Record<string, unknown>> {
  const { config, store, stage } = p;
  const notReady = p.notReady();
  const es = p.health.get('elasticsearch');
  const counts = p.outputs.snapshot() as Record<string, object>;
  const outputs: Record<string, object> = {};
  for (const name of config.outputs) {
    const h = p.health.get(name);
    outputs[name] = { ready: h ? h.notReady === undefined : undefined, reason: h?.notReady, ...counts[name] };
  }
  return {
    role: config.role,
    name: config.name,
    uptimeSeconds: Math.round((Date.now() - p.started) / 1000),
    ready: notReady === undefined,
    notReady,
    elasticsearch: es ? { reachable: es.notReady === undefined, reason: es.notReady } : undefined,
    outputs,
    edge: store && {
      received: await counterValue(store.metrics.received),
      receivedBytes: await counterValue(store.metrics.receivedBytes),
      inQueue: store.state.total,
      maxq: config.maxq,
      writesPending: store.queue.queued,
      dropped: await counterValue(store.metrics.dropped),
      refused: await counterValue(store.metrics.refused),
      txBatches: await counterValue(store.metrics.txBatches),
      txMessages: await counterValue(store.metrics.txMessages),
      txFails: await counterValue(store.metrics.txFails),
      storeBytes: store.state.bytes,
      oldestAgeSeconds: store.state.oldestAgeSeconds(),
      shards: store.state.shards,
      ackLatencyMs: store.metrics.ackLatency.snapshot(),
      ackLatencyLastSecondMs: store.metrics.ackLatency.lastSecond(),
      txLatencyMs: store.metrics.txLatency.snapshot(),
    },
    stage: stage && {
      batchesReceived: await counterValue(stage.batchesReceived),
      messagesParsed: await counterValue(stage.messagesParsed),
      acksReceived: await counterValue(stage.acksReceived),
      indexed: stage.indexedCount,
      retried: await counterValue(stage.retried),
      deadLettered: await counterValue(stage.deadLettered),
      timeouts: await counterValue(stage.timeouts),
      bulkLatencyMs: stage.bulkLatency.snapshot(),
      bulkLatencyLastSecondMs: stage.bulkLatency.lastSecond(),
    },
  };
}
