/** Messages between the main thread and forwarder threads. */
import type { Config } from '../config/options.js';

export interface ForwarderData {
  config: Config;
  /** Shards this thread drains. */
  shards: number[];
}

export type ToForwarder = { type: 'start' } | { type: 'stop'; deadline: number };

export type FromForwarder =
  | { type: 'delivered'; shard: number; count: number; removed: number; ms: number }
  | { type: 'failed'; shard: number; count: number; reason: string }
  | { type: 'sink'; event: 'bulk' | 'bulkFailed' | 'indexed' | 'retried' | 'deadLettered'; n: number; ms?: number }
  | { type: 'stopped' };
