/**
 * Forwarder thread (worker_threads): drains its shards concurrently into
 * the outputs of the config, built through the registry (edge: http to
 * --ingest; all: --output). Reports deliveries and each output's events to
 * the main thread, which owns the metrics.
 *
 * One output: every shard's drainer delivers straight to its sink. Several:
 * each shard gets a FanoutSink over the thread's shared output sinks, and
 * its drainer keeps --inflight + --output-window batches out, so one output
 * can run that many batches ahead of a slow one (sinks/fanout.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ShardDrainer } from '../forward/drainer.js';
import type { ForwarderData, FromForwarder, ToForwarder } from '../forward/protocol.js';
import { postedEvents } from '../metrics/outputs.js';
import { buildOutputs, combine } from '../sinks/registry.js';
import { openShards } from '../store/shards.js';

const { config, shards: owned, index } = workerData as ForwarderData;
const post = (m: FromForwarder) => parentPort!.postMessage(m);

const outputs = await buildOutputs(config, (name) => ({
  events: postedEvents(name, post),
  connections: owned.length * config.inflight,
  clientIp: '127.0.0.1',
  writer: `f${index ?? 0}`,
}));
const several = outputs.length > 1;

const dbs = openShards(config, { decode: true });
const drainers = owned.map(
  (shard) =>
    new ShardDrainer({
      shard,
      db: dbs[shard]!,
      sink: combine(outputs, config.inflight),
      batch: config.batch,
      batchBytes: config.batchBytes,
      intervalMs: config.ms.interval,
      inflight: config.inflight + (several ? config.outputWindow : 0),
      // The stage answers 504 after its own ack timeout; wait a little longer than that.
      deliverTimeoutMs: config.role === 'edge' ? config.ms.txTimeout : config.ms.ackTimeout,
      retryCapMs: config.ms.retryMax,
      dropsPossible: config.overflow === 'drop-oldest',
      onDelivered: (count, removed, ms) => post({ type: 'delivered', shard, count, removed, ms }),
      onFailed: (count, reason) => post({ type: 'failed', shard, count, reason }),
    }),
);
// Edge mode drains at once; all mode waits until the main thread has seen
// every output ready once (index templates installed first, so no index is
// created with dynamic mappings).
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
  await Promise.all(outputs.map((o) => o.sink.close().catch(() => {})));
  post({ type: 'stopped' });
});
