/**
 * Main-thread intake of the store: group commit per shard.
 *
 * Requests for a shard queue up while that shard's tasks are being
 * committed. At the end of each event-loop turn (and whenever a task
 * returns), everything queued for the shards that may take more goes to a
 * writer as ONE task, a group per shard (one transaction and one fsync per
 * shard), unless the bodies pass `splitBytes` (large /rxb bodies are then
 * spread over several tasks, so several writers parse them). A lone request
 * therefore waits microseconds, not a timer, and a busy front pays one
 * hand-off per turn rather than one per shard. A shard has `perShard` tasks
 * in flight, and one more for a large group (see mayTake); LMDB's single
 * writer per environment orders them, and seqs are assigned inside the
 * transaction.
 */
import type { Piscina } from 'piscina';
import { packItems, unpackOutcome, type ShardGroup, type WriteItem, type WriteOutcome, type WriteResult, type WriteTask } from '../workers/writer-protocol.js';
import { formatSeq } from './seq.js';

export interface WriteRequest extends Omit<WriteItem, 'off' | 'len'> {
  body: Uint8Array;
}

interface Pending {
  req: WriteRequest;
  resolve: (r: WriteResult) => void;
}

/** Shards' groups taken for one task. */
interface Taken {
  shard: number;
  batch: Pending[];
  bytes: number;
}

/**
 * Bodies in one task before the next shard's group starts another task. A
 * turn of /rx requests (64 connections × a few hundred bytes) stays one
 * task; /rxb bodies of 100+ lines spread over the writers.
 */
const DEFAULT_SPLIT_BYTES = 64 * 1024;

export interface WriteQueueOptions {
  shards: number;
  /** Most requests of one shard in one task. */
  maxItems: number;
  /** Most body bytes of one shard in one task (a single larger body still goes alone). */
  maxBytes: number;
  /**
   * Tasks of one shard in flight at once, plus one for a large group
   * (seqs are assigned inside the transaction, so order holds).
   */
  perShard: number;
  /** Bodies in one task before another starts (default 64 KiB). */
  splitBytes?: number;
  /** Messages to drop from a shard before writing (drop-oldest overflow), asked per task. */
  dropFor?: (shard: number, incoming: number) => number;
  onOutcome?: (shard: number, outcome: WriteOutcome) => void;
}

export class WriteQueue {
  private readonly pending: Pending[][];
  private readonly busy: number[];
  /** Body bytes waiting per shard (what mayTake weighs). */
  private readonly pendingBytes: number[];
  private scheduled = false;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly pool: Piscina, private readonly opts: WriteQueueOptions) {
    this.pending = Array.from({ length: opts.shards }, () => []);
    this.busy = new Array(opts.shards).fill(0);
    this.pendingBytes = new Array(opts.shards).fill(0);
  }

  /**
   * Queue one request for `shard`; `resolve` is called once with its result.
   * (A callback, not a promise: this runs once per HTTP request.)
   */
  submit(shard: number, req: WriteRequest, resolve: (r: WriteResult) => void): void {
    this.pending[shard]!.push({ req, resolve });
    this.pendingBytes[shard]! += req.body.length;
    if (!this.scheduled && this.mayTake(shard)) {
      this.scheduled = true;
      setImmediate(this.flushTurn);
    }
  }

  /** Messages waiting or being written. */
  get queued(): number {
    let n = this.inflight;
    for (const p of this.pending) n += p.length;
    return n;
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * May shard `s` take another task now? Up to `perShard` tasks, and one more
   * when what waits is large (at least `splitBytes` of bodies: /rxb): parsing
   * such a group takes long enough that it should overlap the commit in
   * flight, where small /rx groups are better left to grow (decisions.md 15).
   */
  private mayTake(s: number): boolean {
    const busy = this.busy[s]!;
    if (busy < this.opts.perShard) return true;
    if (busy > this.opts.perShard) return false;
    return this.pendingBytes[s]! >= (this.opts.splitBytes ?? DEFAULT_SPLIT_BYTES);
  }

  private readonly flushTurn = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /**
   * Hand everything the shards may take now to the writers: one task for
   * small bodies (the common /rx case: one hand-off per turn), but a new task
   * once a task holds `splitBytes` of bodies, so that large /rxb bodies of
   * several shards are parsed by several writers at once.
   */
  private flush(): void {
    let task: Taken[] = [];
    let taskBytes = 0;
    for (let s = 0; s < this.pending.length; s++) {
      const queue = this.pending[s]!;
      if (queue.length === 0 || !this.mayTake(s)) continue;
      let count = 0;
      let bytes = 0;
      while (count < queue.length && count < this.opts.maxItems) {
        const len = queue[count]!.req.body.length;
        if (count > 0 && bytes + len > this.opts.maxBytes) break;
        bytes += len;
        count++;
      }
      task.push({ shard: s, batch: queue.splice(0, count), bytes });
      this.pendingBytes[s]! -= bytes;
      taskBytes += bytes;
      if (taskBytes >= (this.opts.splitBytes ?? DEFAULT_SPLIT_BYTES)) {
        this.dispatch(task, taskBytes);
        task = [];
        taskBytes = 0;
      }
    }
    if (task.length > 0) this.dispatch(task, taskBytes);
  }

  private dispatch(taken: Taken[], total: number): void {
    // One fresh ArrayBuffer (never Node's shared pool) so it can be transferred.
    const buffer = new Uint8Array(total);
    const groups: ShardGroup[] = [];
    const items: Omit<WriteItem, 'off'>[] = [];
    let off = 0;
    let messages = 0;
    for (const { shard, batch } of taken) {
      for (let i = 0; i < batch.length; i++) {
        const { body, producer, key, label, ndjson, gzip, idempotencyKey } = batch[i]!.req;
        buffer.set(body, off);
        items.push({ len: body.length, producer, key, label, ndjson, gzip, idempotencyKey });
        off += body.length;
      }
      groups.push({ shard, count: batch.length, drop: this.opts.dropFor?.(shard, batch.length) ?? 0 });
      this.busy[shard]!++;
      messages += batch.length;
    }
    this.inflight += messages;
    const task: WriteTask = { buffer, groups, ...packItems(items) };
    this.pool
      .run(task, { transferList: [buffer.buffer as ArrayBuffer] })
      .then(
        (outcomes: WriteOutcome[]) => {
          taken.forEach(({ shard, batch }, g) => {
            const outcome = outcomes[g]!;
            this.opts.onOutcome?.(shard, outcome);
            const results = unpackOutcome(outcome, formatSeq);
            for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
          });
        },
        (err: Error) => {
          const message = `writer failed: ${err.message}`;
          for (const { batch } of taken) for (const p of batch) p.resolve({ ok: false, status: 503, message });
        },
      )
      .finally(() => {
        for (const { shard } of taken) this.busy[shard]!--;
        this.inflight -= messages;
        this.flush();
        if (this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }
}
