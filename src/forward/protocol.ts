/** Messages between the main thread and forwarder threads. */
import type { Config } from '../config/options.js';
import type { SinkEventName } from '../sinks/types.js';

export interface ForwarderData {
  config: Config;
  /** Shards this thread drains. */
  shards: number[];
  /** This thread's number (0 …); names what it writes where names must be unique (file output). */
  index?: number;
}

export type ToForwarder = { type: 'start' } | { type: 'stop'; deadline: number };

export type FromForwarder =
  | { type: 'delivered'; shard: number; count: number; removed: number; ms: number }
  | { type: 'failed'; shard: number; count: number; reason: string }
  /** One output's event (sinks/types.ts SinkEvents), counted by metrics/outputs.ts. */
  | { type: 'sink'; output: string; event: SinkEventName; n: number; ms?: number }
  | { type: 'stopped' };
