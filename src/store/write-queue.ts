/**
 * Main-thread intake of the store: group commit per shard.
 *
 * Requests for a shard queue up while that shard's tasks are being
 * committed; when one returns, everything queued meanwhile goes to a writer
 * as one task (one transaction, one fsync). An idle shard flushes at the end
 * of the current event-loop turn, so a lone request waits microseconds, not a
 * timer. A few tasks per shard may be in flight (`perShard`): one is being
 * committed while the next is parsed; LMDB's single writer per environment
 * orders them, and seqs are assigned inside the transaction.
 */
import type { Piscina } from 'piscina';
import type { WriteItem, WriteOutcome, WriteResult, WriteTask } from '../workers/writer-protocol.js';

export interface WriteRequest extends Omit<WriteItem, 'off' | 'len'> {
  body: Uint8Array;
}

interface Pending {
  req: WriteRequest;
  resolve: (r: WriteResult) => void;
}

export interface WriteQueueOptions {
  shards: number;
  /** Most requests in one task. */
  maxItems: number;
  /** Most body bytes in one task (a single larger body still goes alone). */
  maxBytes: number;
  /** Tasks of one shard in flight at once (seqs are assigned inside the transaction, so order holds). */
  perShard: number;
  /** Messages to drop from a shard before writing (drop-oldest overflow), asked per task. */
  dropFor?: (shard: number, incoming: number) => number;
  onOutcome?: (shard: number, outcome: WriteOutcome) => void;
}

export class WriteQueue {
  private readonly pending: Pending[][];
  private readonly busy: number[];
  private scheduled = false;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly pool: Piscina, private readonly opts: WriteQueueOptions) {
    this.pending = Array.from({ length: opts.shards }, () => []);
    this.busy = new Array(opts.shards).fill(0);
  }

  submit(shard: number, req: WriteRequest): Promise<WriteResult> {
    return new Promise((resolve) => {
      this.pending[shard]!.push({ req, resolve });
      if (this.busy[shard]! < this.opts.perShard && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flushIdle());
      }
    });
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

  private flushIdle(): void {
    this.scheduled = false;
    for (let s = 0; s < this.pending.length; s++) while (this.busy[s]! < this.opts.perShard && this.pending[s]!.length > 0) this.flush(s);
  }

  private flush(shard: number): void {
    const queue = this.pending[shard]!;
    if (queue.length === 0) return;
    let count = 0;
    let bytes = 0;
    while (count < queue.length && count < this.opts.maxItems) {
      const len = queue[count]!.req.body.length;
      if (count > 0 && bytes + len > this.opts.maxBytes) break;
      bytes += len;
      count++;
    }
    const batch = queue.splice(0, count);
    // One fresh ArrayBuffer (never Node's shared pool) so it can be transferred.
    const buffer = new Uint8Array(bytes);
    const items: WriteItem[] = [];
    let off = 0;
    for (const { req } of batch) {
      buffer.set(req.body, off);
      const { body, ...rest } = req;
      items.push({ ...rest, off, len: body.length });
      off += body.length;
    }
    const task: WriteTask = { shard, buffer, items, drop: this.opts.dropFor?.(shard, batch.length) ?? 0 };
    this.busy[shard]!++;
    this.inflight += batch.length;
    this.pool
      .run(task, { transferList: [buffer.buffer as ArrayBuffer] })
      .then(
        (outcome: WriteOutcome) => {
          this.opts.onOutcome?.(shard, outcome);
          batch.forEach((p, i) => p.resolve(outcome.results[i]!));
        },
        (err: Error) => {
          const message = `writer failed: ${err.message}`;
          for (const p of batch) p.resolve({ ok: false, status: 503, message });
        },
      )
      .finally(() => {
        this.busy[shard]!--;
        this.inflight -= batch.length;
        this.flush(shard);
        if (this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }
}
