/**
 * What the HTTP front hands the writer pool, and what comes back. One task
 * carries the requests gathered for every shard since the last hand-off, a
 * group per shard; all bodies sit end to end in one transferable buffer.
 * One task per event-loop turn, not per shard, because each hand-off costs
 * the main thread a postMessage and a thread wake-up.
 */
export interface WriteItem {
  /** Offset and length of this request's body in the task buffer. */
  off: number;
  len: number;
  producer: string;
  key: string;
  label: string;
  ndjson: boolean;
  gzip: boolean;
  /** Idempotency-Key header, if any: the uuid becomes a v5 of producer, key and it. */
  idempotencyKey?: string;
}

export interface ShardGroup {
  shard: number;
  items: WriteItem[];
  /** drop-oldest overflow: remove this many oldest messages of the shard in the same transaction. */
  drop: number;
}

export interface WriteTask {
  buffer: Uint8Array;
  /** At most one group per shard; each is one transaction of its shard. */
  groups: ShardGroup[];
}

export type WriteResult =
  | { ok: true; uuid: string; seq: string; count: number }
  | { ok: false; status: number; message: string };

/** One per group of the task, in the same order. */
export interface WriteOutcome {
  results: WriteResult[];
  /** Messages committed by this task. */
  written: number;
  /** Bytes of records committed by this task. */
  bytes: number;
  dropped: number;
}

export interface WriterData {
  path: string;
  name: string;
  shards: number;
  maxBody: number;
  maxBatchBody: number;
  maxDepth: number;
  seqBuffer: SharedArrayBuffer;
}
