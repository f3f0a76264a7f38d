/**
 * Prometheus metrics (prom-client). rxtx's and rtbeat's metric names are kept
 * so existing dashboards work: the edge's under the --name prefix, the
 * stage's under rtbeat_.
 */
import client from 'prom-client';
import { Latency, QUANTILES } from './latency.js';

const { Counter, Gauge, Registry } = client;

function latencyGauge(registry: client.Registry, name: string, help: string, latency: Latency): void {
  new Gauge({
    name, help, labelNames: ['quantile'], registers: [registry],
    collect() {
      const snap = latency.snapshot();
      for (const [field, q] of QUANTILES) this.set({ quantile: q }, snap[field] / 1000);
    },
  });
}

export class EdgeMetrics {
  readonly received: client.Counter;
  readonly receivedBytes: client.Counter;
  readonly inQueue: client.Gauge;
  readonly txBatches: client.Counter;
  readonly txMessages: client.Counter;
  readonly txFails: client.Counter;
  readonly dbErrors: client.Counter;
  readonly msgErrors: client.Counter;
  readonly refused: client.Counter;
  readonly dropped: client.Counter;
  readonly shardDepth: client.Gauge;
  readonly storeBytes: client.Gauge;
  readonly oldestAge: client.Gauge;
  readonly ackLatency = new Latency();
  readonly txLatency = new Latency();

  constructor(registry: client.Registry, prefix: string) {
    const r = [registry];
    const n = (s: string) => `${prefix}_${s}`;
    this.received = new Counter({ name: n('total_messages_received'), help: 'Messages acknowledged (stored)', registers: r });
    this.receivedBytes = new Counter({ name: n('received_bytes'), help: 'Bytes of stored records', registers: r });
    this.inQueue = new Gauge({ name: n('messages_in_queue'), help: 'Messages held locally, not yet delivered', registers: r });
    this.txBatches = new Counter({ name: n('tx_batches'), help: 'Batches delivered', registers: r });
    this.txMessages = new Counter({ name: n('tx_messages'), help: 'Messages delivered', registers: r });
    this.txFails = new Counter({ name: n('tx_fails'), help: 'Batch delivery attempts that failed (retried)', registers: r });
    this.dbErrors = new Counter({ name: n('db_errors'), help: 'Store writes that failed', registers: r });
    this.msgErrors = new Counter({ name: n('msg_errors'), help: 'Requests refused as bad input', registers: r });
    this.refused = new Counter({
      name: n('refused_requests'), help: 'Requests refused, by reason', labelNames: ['reason'], registers: r,
    });
    this.dropped = new Counter({ name: n('dropped_messages'), help: 'Messages dropped by --overflow drop-oldest', registers: r });
    this.shardDepth = new Gauge({ name: n('shard_messages'), help: 'Messages held per shard', labelNames: ['shard'], registers: r });
    this.storeBytes = new Gauge({ name: n('store_bytes'), help: 'Bytes of LMDB pages in use', registers: r });
    this.oldestAge = new Gauge({ name: n('oldest_message_age_seconds'), help: 'Age of the oldest held message', registers: r });
    latencyGauge(registry, n('ack_latency_seconds'), 'Durable ack latency of /rx, /rxs, /rxb', this.ackLatency);
    latencyGauge(registry, n('tx_latency_seconds'), 'Latency of one batch delivery', this.txLatency);
  }
}

export class StageMetrics {
  readonly batchesReceived: client.Counter;
  readonly messagesParsed: client.Counter;
  readonly acksReceived: client.Counter;
  readonly currentAcks: client.Gauge;
  readonly indexed: client.Counter;
  readonly retried: client.Counter;
  readonly deadLettered: client.Counter;
  readonly bulkRequests: client.Counter;
  readonly bulkFailures: client.Counter;
  readonly timeouts: client.Counter;
  readonly docsPerSecond: client.Gauge;
  readonly bulkLatency = new Latency();
  /** Mirror of `indexed` for the rate gauge (prom-client counters are not read back cheaply). */
  indexedCount = 0;
  private lastIndexed = 0;
  private lastAt = Date.now();

  constructor(registry: client.Registry) {
    const r = [registry];
    this.batchesReceived = new Counter({ name: 'rtbeat_batches_received', help: 'Batches received on /in', registers: r });
    this.messagesParsed = new Counter({ name: 'rtbeat_messages_parsed', help: 'Messages parsed from batches', registers: r });
    this.acksReceived = new Counter({ name: 'rtbeat_acks_received', help: 'Messages acknowledged by Elasticsearch', registers: r });
    this.currentAcks = new Gauge({ name: 'rtbeat_current_acks', help: 'Messages waiting for an acknowledgement', registers: r });
    this.indexed = new Counter({ name: 'rtbeat_documents_indexed', help: 'Documents created (or already there)', registers: r });
    this.retried = new Counter({ name: 'rtbeat_retried_items', help: 'Bulk items retried (429, 5xx)', registers: r });
    this.deadLettered = new Counter({ name: 'rtbeat_dead_lettered_items', help: 'Items written to the dead-letter index', registers: r });
    this.bulkRequests = new Counter({ name: 'rtbeat_bulk_requests', help: '_bulk requests sent', registers: r });
    this.bulkFailures = new Counter({ name: 'rtbeat_bulk_failures', help: '_bulk requests that failed whole', registers: r });
    this.timeouts = new Counter({ name: 'rtbeat_batch_timeouts', help: 'Batches answered 504', registers: r });
    const self = this;
    this.docsPerSecond = new Gauge({
      name: 'rtbeat_documents_per_second', help: 'Documents indexed per second since the last scrape', registers: r,
      collect() {
        this.set(self.rate());
      },
    });
    latencyGauge(registry, 'rtbeat_bulk_latency_seconds', 'Latency of one _bulk request', this.bulkLatency);
  }

  addIndexed(n: number): void {
    this.indexed.inc(n);
    this.indexedCount += n;
  }

  /** Documents per second since the last call. */
  rate(): number {
    const now = Date.now();
    const total = this.indexedCount;
    const secs = (now - this.lastAt) / 1000;
    const r = secs > 0 ? (total - this.lastIndexed) / secs : 0;
    this.lastIndexed = total;
    this.lastAt = now;
    return r;
  }
}

export function newRegistry(): client.Registry {
  const registry = new Registry();
  client.collectDefaultMetrics({ register: registry });
  return registry;
}
