/**
 * Prometheus metrics (prom-client). rxtx's and rtbeat's metric names are kept
 * so existing dashboards work: the edge's under the --name prefix, the
 * stage's under rtbeat_. Latency and batch sizes are histograms (their
 * buckets are summed across a fleet; a quantile of quantiles is not), with
 * buckets from measured distributions (docs/decisions.md, "Histogram
 * buckets"). Nothing here changes because it was scraped: every collect()
 * reads, none resets.
 */
import client from 'prom-client';
import { buildInfo } from './build-info.js';
import { Latency } from './latency.js';

const { Counter, Gauge, Registry } = client;

/**
 * Buckets, in seconds or messages (docs/decisions.md, "Histogram buckets").
 * Ack: a durable /rx ack is one group commit (fsync) away, 0.3-5 ms on an
 * idle disk, tens of ms under load, up to seconds when the disk stalls.
 */
export const ACK_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
/** One batch delivery to the stage or one output request: ms on a LAN, seconds behind a slow Elasticsearch, up to --tx-timeout. */
export const DELIVERY_BUCKETS = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60];
/** Messages per batch: 1 when idle (a lone message sent after --interval), up to --batch (5000) under load. */
export const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/**
 * An unlabelled Prometheus histogram whose observe() is a bucket search and
 * three additions: prom-client's Histogram.observe hashes its labels on
 * every call (measured 1.6× the cost of the hdr-histogram record beside it),
 * and the ack histogram is observed once per acknowledged request. The
 * exposition is the same: cumulative _bucket{le}, +Inf, _sum, _count.
 */
export class FastHistogram {
  private readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(registry: client.Registry, readonly name: string, help: string, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
    const values = () => {
      const out: { labels: { le: number | string }; value: number; metricName: string }[] = [];
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += this.counts[i]!;
        out.push({ labels: { le: bounds[i]! }, value: cumulative, metricName: `${name}_bucket` });
      }
      out.push({ labels: { le: '+Inf' }, value: this.count, metricName: `${name}_bucket` });
      out.push({ labels: {} as { le: string }, value: this.sum, metricName: `${name}_sum` });
      out.push({ labels: {} as { le: string }, value: this.count, metricName: `${name}_count` });
      return out;
    };
    const metric = {
      name, help, type: 'histogram', aggregator: 'sum',
      get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
      reset: () => {},
    };
    registry.registerMetric(metric as unknown as client.Metric);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Latency (hdr-histogram: /stats percentiles) that also observes a
 * Prometheus histogram, and optionally a summary's _sum/_count under a peer's
 * name. Same API, so the routes that time requests do not change.
 */
export class ObservedLatency extends Latency {
  sum = 0;
  count = 0;

  constructor(private readonly histogram: { observe(value: number): void }) {
    super();
  }

  override recordMs(ms: number): void {
    super.recordMs(ms);
    const s = ms / 1000;
    this.histogram.observe(s);
    this.sum += s;
    this.count++;
  }
}

/**
 * rxtx's `rxtx_response_time` was a client_golang Summary with no objectives:
 * only _sum and _count (seconds). The same two series, read from `latency`.
 */
function peerSummary(registry: client.Registry, name: string, help: string, latency: ObservedLatency): void {
  const metric = {
    name, help, type: 'summary', aggregator: 'sum',
    get: async () => ({
      name, help, type: 'summary', aggregator: 'sum',
      values: [
        { labels: {}, value: latency.sum, metricName: `${name}_sum` },
        { labels: {}, value: latency.count, metricName: `${name}_count` },
      ],
    }),
    reset: () => {},
  };
  registry.registerMetric(metric as unknown as client.Metric);
}

export interface EdgeLimits {
  maxq: number;
  maxBytes: number;
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
  readonly maxq: client.Gauge;
  readonly maxBytes: client.Gauge;
  /** Messages per delivered batch. */
  readonly batchSize: FastHistogram;
  readonly ackLatency: ObservedLatency;
  readonly txLatency: ObservedLatency;

  constructor(registry: client.Registry, prefix: string, limits?: EdgeLimits) {
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
    this.maxq = new Gauge({ name: n('maxq'), help: 'Most messages held before POSTs get 503 (--maxq)', registers: r });
    this.maxBytes = new Gauge({ name: n('max_bytes'), help: 'Most bytes of LMDB pages before 503 (--max-bytes; 0: no limit)', registers: r });
    if (limits) {
      this.maxq.set(limits.maxq);
      this.maxBytes.set(limits.maxBytes);
    }
    this.batchSize = new FastHistogram(registry, n('tx_batch_messages'), 'Messages per delivered batch', BATCH_BUCKETS);
    this.ackLatency = new ObservedLatency(
      new FastHistogram(registry, n('ack_latency_seconds'), 'Request to durable 200 on /rx, /rxs, /rxb', ACK_BUCKETS),
    );
    peerSummary(registry, n('response_time'), "Request to durable 200 (rxtx's summary: _sum and _count)", this.ackLatency);
    this.txLatency = new ObservedLatency(new FastHistogram(
      registry, n('tx_latency_seconds'), 'Latency of the successful attempt of one batch delivery', DELIVERY_BUCKETS,
    ));
  }

  /** One batch delivered: count, size and latency. */
  delivered(count: number, ms: number): void {
    this.txBatches.inc();
    this.txMessages.inc(count);
    this.batchSize.observe(count);
    this.txLatency.recordMs(ms);
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
  /** Items per output request (_bulk documents, records, …). */
  readonly bulkItems: FastHistogram;
  readonly bulkLatency: ObservedLatency;
  /** Mirror of `indexed` for /stats (prom-client counters are not read back cheaply). */
  indexedCount = 0;

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
    this.bulkItems = new FastHistogram(registry, 'rtbeat_bulk_items', 'Items per output request (_bulk documents)', BATCH_BUCKETS);
    this.bulkLatency = new ObservedLatency(
      new FastHistogram(registry, 'rtbeat_bulk_latency_seconds', 'Latency of one output request (_bulk)', DELIVERY_BUCKETS),
    );
  }

  addIndexed(n: number): void {
    this.indexed.inc(n);
    this.indexedCount += n;
  }
}

export function newRegistry(): client.Registry {
  const registry = new Registry();
  // Process metrics (CPU, memory, handles, event loop lag, GC) of the main thread.
  client.collectDefaultMetrics({ register: registry });
  const info = buildInfo();
  new Gauge({
    name: 'spillway_build_info', help: 'Always 1: the version of Spillway, Node and uWebSockets.js',
    labelNames: ['version', 'node', 'uws'], registers: [registry],
  }).set({ version: info.version, node: info.node, uws: info.uws }, 1);
  return registry;
}
