/**
 * Drains one shard, oldest first, into a sink.
 *
 * Up to `inflight` batches are out at once; each holds a contiguous run of
 * keys above the previous batch's. A batch is deleted from the shard only
 * after the sink delivered it, and a failed batch is retried identical (same
 * batch uuid, same messages) with capped, jittered backoff, so no delete can
 * ever remove a message that was not acknowledged. A partial batch waits at
 * most `intervalMs` for more messages; full batches go at once, as fast as the
 * sink takes them.
 */
import { randomUUID } from 'node:crypto';
import { describeCommitError } from '../store/commit-error.js';
import { decodeRecord, type StoredMessage } from '../store/message.js';
import type { Shard } from '../store/shards.js';
import { backoffMs, sleep, type Sink } from '../sinks/types.js';

export interface DrainerOptions {
  shard: number;
  db: Shard;
  sink: Sink;
  batch: number;
  batchBytes: number;
  intervalMs: number;
  inflight: number;
  deliverTimeoutMs: number;
  retryCapMs: number;
  /** How long an idle shard waits before looking again. */
  pollMs?: number;
  /** `count` messages delivered, `removed` of them deleted here (the rest were dropped meanwhile). */
  onDelivered(count: number, removed: number, ms: number): void;
  onFailed(count: number, reason: string): void;
}

interface Batch {
  uuid: string;
  keys: string[];
  messages: StoredMessage[];
}

export class ShardDrainer {
  private lastKey: string | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly hardStop = new AbortController();
  /** When the forwarder first saw the oldest message of a partial batch. */
  private partialSince = 0;

  constructor(private readonly o: DrainerOptions) {}

  /** Runs until stop(); resolves once no batch is in flight. */
  async run(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      if (this.running.size >= this.o.inflight) {
        await Promise.race(this.running);
        continue;
      }
      const batch = this.read();
      if (batch.messages.length === 0) {
        this.partialSince = 0;
        await sleep(this.o.pollMs ?? 5, signal);
        continue;
      }
      if (batch.messages.length < this.o.batch && batch.bytes < this.o.batchBytes) {
        const now = Date.now();
        if (this.partialSince === 0) this.partialSince = now;
        const waited = now - this.partialSince;
        if (waited < this.o.intervalMs) {
          await sleep(Math.min(this.o.pollMs ?? 5, this.o.intervalMs - waited), signal);
          continue;
        }
      }
      this.partialSince = 0;
      this.lastKey = batch.keys[batch.keys.length - 1];
      const p = this.send(batch).finally(() => this.running.delete(p));
      this.running.add(p);
    }
    await Promise.allSettled([...this.running]);
  }

  /** Stop taking new batches; batches in flight get until `deadline` to finish, then are left on disk. */
  stopAt(deadline: number): void {
    this.stop.abort();
    setTimeout(() => this.hardStop.abort(), Math.max(0, deadline - Date.now())).unref();
  }

  private read(): Batch & { bytes: number } {
    const keys: string[] = [];
    const messages: StoredMessage[] = [];
    let bytes = 0;
    const range = this.o.db.getRange({ start: this.lastKey, limit: this.o.batch + 1 });
    for (const { key, value } of range) {
      if (key === this.lastKey) continue;
      if (messages.length >= this.o.batch || (messages.length > 0 && bytes + value.length > this.o.batchBytes)) break;
      keys.push(key);
      messages.push(decodeRecord(key, value));
      bytes += value.length;
    }
    return { uuid: randomUUID(), keys, messages, bytes };
  }

  private async send(batch: Batch): Promise<void> {
    const hard = this.hardStop.signal;
    for (let attempt = 0; !hard.aborted; attempt++) {
      const t0 = performance.now();
      // A retry resends what is still on disk: --overflow drop-oldest may have
      // removed some of the batch meanwhile, and a dropped message stays dropped.
      if (attempt > 0) this.forgetDropped(batch);
      if (batch.keys.length === 0) return;
      try {
        await this.o.sink.deliver(batch.messages, {
          batchUuid: batch.uuid,
          deadline: Date.now() + this.o.deliverTimeoutMs,
          signal: hard,
        });
      } catch (e) {
        this.o.onFailed(batch.messages.length, (e as Error).message);
        // Stopping: a failing batch is not retried; it is on disk and goes again after the next start.
        if (this.stop.signal.aborted) return;
        const retryAfter = (e as { retryAfterMs?: number }).retryAfterMs;
        await sleep(retryAfter ?? backoffMs(attempt, 100, this.o.retryCapMs), this.stop.signal);
        continue;
      }
      let removed = 0;
      try {
        await this.o.db.transaction(() => {
          for (const key of batch.keys) {
            if (!this.o.db.doesExist(key)) continue;
            this.o.db.remove(key);
            removed++;
          }
        });
      } catch (e) {
        // Delivered but still on disk: read the shard again from its start, so
        // these go once more (a harmless duplicate send: receivers deduplicate).
        this.o.onFailed(0, `delivered batch not deleted: ${await describeCommitError(e)}`);
        this.lastKey = undefined;
        return;
      }
      this.o.onDelivered(batch.messages.length, removed, performance.now() - t0);
      return;
    }
    // Hard stop: the batch stays on disk and is sent again after the next start.
  }

  private forgetDropped(batch: Batch): void {
    const keys: string[] = [];
    const messages: StoredMessage[] = [];
    batch.keys.forEach((key, i) => {
      if (!this.o.db.doesExist(key)) return;
      keys.push(key);
      messages.push(batch.messages[i]!);
    });
    batch.keys = keys;
    batch.messages = messages;
  }
}
