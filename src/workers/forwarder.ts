/**
 * Forwarder thread (worker_threads): drains its shards concurrently into
 * the sink of the role: the stage's /in over HTTP (edge), or Elasticsearch
 * directly (all). Reports deliveries and sink events to the main thread,
 * which owns the metrics.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ShardDrainer } from '../forward/drainer.js';
import type { ForwarderData, FromForwarder, ToForwarder } from '../forward/protocol.js';
import { HttpSink } from '../sinks/http.js';
import { createClient } from '../sinks/elasticsearch/client.js';
import { ElasticsearchSink } from '../sinks/elasticsearch/sink.js';
import type { Sink } from '../sinks/types.js';
import { openShards } from '../store/shards.js';

const { config, shards: owned } = workerData as ForwarderData;
const post = (m: FromForwarder) => parentPort!.postMessage(m);

function makeSink(): Sink {
  if (config.role === 'edge') {
    return new HttpSink({
      url: config.ingest,
      connections: owned.length * config.inflight,
      timeoutMs: config.txTimeout * 1000,
    });
  }
  const event = (name: 'bulk' | 'bulkFailed' | 'indexed' | 'retried' | 'deadLettered') =>
    (a?: number, b?: number) => {
      if (name === 'bulk') post({ type: 'sink', event: name, n: b ?? 0, ms: a });
      else if ((a ?? 1) > 0) post({ type: 'sink', event: name, n: a ?? 1 });
    };
  return new ElasticsearchSink({
    client: createClient({ nodes: config.es }),
    index: config.index,
    dlqIndex: config.dlqIndex,
    bulkBytes: config.bulkBytes,
    concurrency: config.bulkConcurrency,
    clientIp: '127.0.0.1',
    retryCapMs: config.retryMax * 1000,
    events: {
      bulk: event('bulk'), bulkFailed: event('bulkFailed'), indexed: event('indexed'),
      retried: event('retried'), deadLettered: event('deadLettered'),
    },
  });
}

const dbs = openShards(config, { decode: true });
const sink = makeSink();
const drainers = owned.map(
  (shard) =>
    new ShardDrainer({
      shard,
      db: dbs[shard]!,
      sink,
      batch: config.batch,
      batchBytes: config.batchBytes,
      intervalMs: config.interval * 1000,
      inflight: config.inflight,
      // The stage answers 504 after its own ack timeout; wait a little longer than that.
      deliverTimeoutMs: (config.role === 'edge' ? config.txTimeout : config.ackTimeout) * 1000,
      retryCapMs: config.retryMax * 1000,
      dropsPossible: config.overflow === 'drop-oldest',
      onDelivered: (count, removed, ms) => post({ type: 'delivered', shard, count, removed, ms }),
      onFailed: (count, reason) => post({ type: 'failed', shard, count, reason }),
    }),
);
// Edge mode drains at once; all mode waits until the main thread has seen
// Elasticsearch answer and installed the templates, so no index is created
// with dynamic mappings first.
let finished: Promise<unknown> | undefined;
const start = () => (finished ??= Promise.all(drainers.map((d) => d.run())));
if (config.role !== 'all') start();

parentPort!.on('message', async (msg: ToForwarder) => {
  if (msg.type === 'start') {
    start();
    return;
  }
  for (const d of drainers) d.stopAt(msg.deadline);
  await finished;
  await sink.close().catch(() => {});
  post({ type: 'stopped' });
});
