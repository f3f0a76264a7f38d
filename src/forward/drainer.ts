/**
 * Drains one shard, oldest first, into a sink.
 *
 * The drainer keeps one batch in the making: each look at the shard reads
 * only the records committed since the previous look and appends them, so a
 * record is read and decoded once however long its batch waits to fill.
 * The batch goes when it is full (`batch` messages or `batchBytes`), or when
 * its oldest message has waited `intervalMs`.
 *
 * Up to `inflight` batches are out at once; each holds a contiguous run of
 * keys above the previous batch's. A batch is deleted from the shard only
 * after the sink delivered it, and a failed batch is retried identical (same
 * batch uuid, same messages) with capped, jittered backoff, so no delete can
 * ever remove a message that was not acknowledged.
 *
 * Retries go oldest first: a failed batch (and an output's own retry inside
 * one delivery, through `beforeRetry`) waits until every older batch of the
 * shard is delivered before it tries again. After an outage the shard's
 * batches therefore land in key order, and a shard probes the sink with one
 * batch, not all of them at once. A batch holding an Idempotency-Key uuid
 * that an older unfinished batch also holds is not sent before that one is
 * delivered. Together: where two copies of one Idempotency-Key are on disk,
 * the first stored is the one indexed (docs/durability.md).
 */
import { randomUUID } from 'node:crypto';
import { describeCommitError } from '../store/commit-error.js';
import { recordMessage, recordSize, type StoredMessage } from '../store/message.js';
import type { DecodedShard } from '../store/shards.js';
import { backoffMs, sleep, type Sink } from '../sinks/types.js';

export interface DrainerOptions {
  shard: number;
  /** Opened with `decode: true`: values arrive as record fields. */
  db: DecodedShard;
  sink: Sink;
  batch: number;
  batchBytes: number;
  intervalMs: number;
  inflight: number;
  deliverTimeoutMs: number;
  retryCapMs: number;
  /** Writers may delete unsent records (--overflow drop-oldest): check a batch against the shard before it goes. */
  dropsPossible?: boolean;
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
  /** uuids of its messages that an Idempotency-Key made (v5), which another message may share. */
  keyed?: string[];
}

/**
 * The wait after a Retry-After: at least what the stage asked, plus up to half
 * as much again at random, so that edges refused together (a stage under
 * pressure answers them all at once) do not come back in the same instant.
 */
function spread(retryAfterMs: number): number {
  return retryAfterMs + Math.random() * retryAfterMs * 0.5;
}

/** A v5 uuid (made from an Idempotency-Key) has '5' as its version digit; random ones have '4'. */
const isKeyed = (uuid: string): boolean => uuid.charCodeAt(14) === 53;

/** The batch being filled: records read from the shard, not yet handed to the sink. */
interface Filling extends Batch {
  bytes: number;
  /** When its first message was read (Date.now()). */
  since: number;
}

const emptyBatch = (): Filling => ({ uuid: '', keys: [], messages: [], bytes: 0, since: 0 });

export class ShardDrainer {
  /** The last key read from the shard into a batch; the next look starts after it. */
  private readKey: string | undefined;
  private filling = emptyBatch();
  private readonly running = new Set<Promise<void>>();
  /** Batches handed to the sink and not finished, oldest first. */
  private readonly unfinished: Batch[] = [];
  private headChanged: (() => void)[] = [];
  /** Keyed uuids held by unfinished batches, with how many batches hold each. */
  private readonly keyedInFlight = new Map<string, number>();
  private readonly stop = new AbortController();
  private readonly hardStop = new AbortController();

  constructor(private readonly o: DrainerOptions) {}

  /** Runs until stop(); resolves once no batch is in flight. */
  async run(): Promise<void> {
    const signal = this.stop.signal;
    const pollMs = this.o.pollMs ?? 5;
    while (!signal.aborted) {
      if (this.running.size >= this.o.inflight) {
        await Promise.race(this.running);
        continue;
      }
      const more = this.readMore();
      const b = this.filling;
      if (b.messages.length === 0) {
        await sleep(pollMs, signal);
        continue;
      }
      const full = b.messages.length >= this.o.batch || b.bytes >= this.o.batchBytes || more;
      if (!full) {
        const waited = Date.now() - b.since;
        if (waited < this.o.intervalMs) {
          await sleep(Math.min(pollMs, this.o.intervalMs - waited), signal);
          continue;
        }
      }
      this.filling = emptyBatch();
      const batch: Batch = { uuid: randomUUID(), keys: b.keys, messages: b.messages };
      // Two copies of one Idempotency-Key in two batches sent at once could be
      // indexed in either order; a batch sharing a keyed uuid with an older
      // unfinished one goes only when every older batch is delivered, so the
      // first body stored wins. Random (v4) uuids never share: no cost then.
      const waits = this.registerKeyed(batch);
      this.unfinished.push(batch);
      // (Stopped while it waited: it stays on disk and goes after the next start.)
      const go = waits ? this.oldest(batch).then(() => (signal.aborted ? undefined : this.send(batch))) : this.send(batch);
      const p = go.finally(() => {
        this.running.delete(p);
        this.finished(batch);
      });
      this.running.add(p);
    }
    await Promise.allSettled([...this.running]);
  }

  /** Stop taking new batches; batches in flight get until `deadline` to finish, then are left on disk. */
  stopAt(deadline: number): void {
    this.stop.abort();
    for (const wake of this.headChanged.splice(0)) wake();
    setTimeout(() => this.hardStop.abort(), Math.max(0, deadline - Date.now())).unref();
  }

  /**
   * Append the records committed since the last look to the batch being
   * filled, up to its limits. Returns true when a record was left unread
   * because the batch is full (send it now).
   */
  private readMore(): boolean {
    const b = this.filling;
    const room = this.o.batch - b.messages.length;
    if (room <= 0) return true;
    // The range starts after the last key read (exclusiveStart: lmdb-js
    // skips it natively, without decoding it again); one extra row tells "more".
    const range = this.readKey === undefined
      ? this.o.db.getRange({ limit: room + 1 })
      : this.o.db.getRange({ start: this.readKey, exclusiveStart: true, limit: room + 1 });
    for (const { key, value } of range) {
      const message = recordMessage(key, value);
      const size = recordSize(message);
      if (b.messages.length >= this.o.batch || (b.messages.length > 0 && b.bytes + size > this.o.batchBytes)) return true;
      if (b.messages.length === 0) b.since = Date.now();
      b.keys.push(key);
      b.messages.push(message);
      b.bytes += size;
      this.readKey = key;
    }
    return false;
  }

  /** Resolves once `batch` is the oldest unfinished batch, on stop, or at `deadline` (a Date.now() value). */
  private async oldest(batch: Batch, deadline = Infinity): Promise<void> {
    const stop = this.stop.signal;
    while (this.unfinished[0] !== batch && !stop.aborted && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.headChanged.push(resolve);
        if (deadline !== Infinity) setTimeout(resolve, Math.max(0, deadline - Date.now())).unref();
      });
    }
  }

  /** Note the batch's keyed uuids; true when an unfinished batch already holds one of them. */
  private registerKeyed(batch: Batch): boolean {
    let shared = false;
    for (const m of batch.messages) {
      if (!isKeyed(m.uuid)) continue;
      (batch.keyed ??= []).push(m.uuid);
      const n = this.keyedInFlight.get(m.uuid) ?? 0;
      if (n > 0) shared = true;
      this.keyedInFlight.set(m.uuid, n + 1);
    }
    return shared;
  }

  private finished(batch: Batch): void {
    for (const uuid of batch.keyed ?? []) {
      const n = this.keyedInFlight.get(uuid)! - 1;
      if (n === 0) this.keyedInFlight.delete(uuid);
      else this.keyedInFlight.set(uuid, n);
    }
    const i = this.unfinished.indexOf(batch);
    if (i >= 0) this.unfinished.splice(i, 1);
    if (i === 0) for (const wake of this.headChanged.splice(0)) wake();
  }

  /** After a failed delete: forget what was read and start again from the shard's first record. */
  private rewind(): void {
    this.readKey = undefined;
    this.filling = emptyBatch();
  }

  private async send(batch: Batch): Promise<void> {
    const hard = this.hardStop.signal;
    for (let attempt = 0; !hard.aborted; attempt++) {
      const t0 = performance.now();
      // What goes is what is still on disk: --overflow drop-oldest may have
      // removed some of the batch meanwhile, and a dropped message stays dropped.
      if (this.o.dropsPossible || attempt > 0) this.forgetDropped(batch);
      if (batch.keys.length === 0) return;
      try {
        const deadline = Date.now() + this.o.deliverTimeoutMs;
        await this.o.sink.deliver(batch.messages, {
          batchUuid: batch.uuid,
          deadline,
          signal: hard,
          // An output's own retries also wait for the shard's older batches,
          // never past this attempt's deadline (the output then gives up, and
          // the wait goes on below, holding nothing).
          beforeRetry: () => this.oldest(batch, deadline),
        });
      } catch (e) {
        this.o.onFailed(batch.messages.length, (e as Error).message);
        // Stopping: a failing batch is not retried; it is on disk and goes again after the next start.
        if (this.stop.signal.aborted) return;
        await this.oldest(batch);
        if (this.stop.signal.aborted) return;
        const retryAfter = (e as { retryAfterMs?: number }).retryAfterMs;
        await sleep(retryAfter === undefined ? backoffMs(attempt, 100, this.o.retryCapMs) : spread(retryAfter), this.stop.signal);
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
        this.rewind();
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
