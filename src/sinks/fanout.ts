/**
 * Several outputs at once. deliver() resolves only when every output has
 * acknowledged the batch, so the caller (the drainer's delete, /in's 200)
 * never counts a message delivered that one output lacks.
 *
 * Each output keeps its own progress: the sink remembers, per batch uuid,
 * which outputs already acknowledged it, and a retry of the batch (the
 * drainer and the edge resend the same uuid) goes only to the others. So an
 * output that is slow or away does not make the others send again, and they
 * keep moving on for as long as the caller keeps handing out new batches:
 * the drainer hands out --inflight + --output-window batches per shard when
 * there are several outputs, so a healthy output may run --output-window
 * batches per shard ahead of the slowest before the shard stops; then the
 * store fills, and --maxq / --max-bytes push back on the clients (503).
 *
 * Each output takes at most `perOutput` of these batches at a time, in the
 * order they came (a FIFO gate), so a healthy output sees the same load as
 * when it is alone.
 */
import type { StoredMessage } from '../store/message.js';
import { DeliveryError, type DeliverOptions, type Sink } from './types.js';

export interface NamedSink {
  name: string;
  sink: Sink;
}

/** A FIFO semaphore whose waits end at a deadline or an abort. */
class Gate {
  private readonly waiters: { grant(): void }[] = [];
  constructor(private free: number) {}

  /** Resolves true when a slot is taken, false when the deadline or the signal came first. */
  acquire(deadline: number, signal?: AbortSignal): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = {
        grant: () => {
          done();
          resolve(true);
        },
      };
      const giveUp = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        done();
        resolve(false);
      };
      const timer = setTimeout(giveUp, Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', giveUp, { once: true });
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
      }
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.free++;
  }
}

export interface FanoutOptions {
  /** Batches one output takes at a time (all mode: --inflight per shard). */
  perOutput: number;
  /** Batch uuids remembered at most (beat mode: an edge that gave up on a batch never resends it). */
  remember?: number;
}

export class FanoutSink implements Sink {
  /** batch uuid → bit i set when output i acknowledged it. */
  private readonly acked = new Map<string, number>();
  private readonly gates: Gate[];
  private readonly all: number;
  private readonly remember: number;

  constructor(readonly outputs: readonly NamedSink[], opts: FanoutOptions, private readonly closeInner = true) {
    if (outputs.length > 30) throw new Error('at most 30 outputs');
    this.gates = outputs.map(() => new Gate(opts.perOutput));
    this.all = 2 ** outputs.length - 1;
    this.remember = opts.remember ?? 100_000;
  }

  /** Which outputs acknowledged `batchUuid` so far (names); for tests and /stats. */
  acknowledgedBy(batchUuid: string): string[] {
    const mask = this.acked.get(batchUuid) ?? 0;
    return this.outputs.filter((_, i) => mask & (1 << i)).map((o) => o.name);
  }

  get batchesPartlyDelivered(): number {
    return this.acked.size;
  }

  async deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const id = opts.batchUuid;
    let mask = this.acked.get(id) ?? 0;
    // An output's delivery gets the whole budget from when its gate opens:
    // a wait behind older batches must not leave it a deadline already past
    // (every batch would then give up without a request, forever).
    const budget = Math.max(0, opts.deadline - Date.now());
    const failures: { name: string; error: Error }[] = [];
    await Promise.all(
      this.outputs.map(async (o, i) => {
        if (mask & (1 << i)) return;
        const gate = this.gates[i]!;
        if (!(await gate.acquire(opts.deadline, opts.signal))) {
          failures.push({ name: o.name, error: new DeliveryError('busy with older batches until the deadline', 504) });
          return;
        }
        let held = true;
        const deadline = Date.now() + budget;
        // An output's retry may wait for the shard's older batches
        // (beforeRetry); those may need this output's slot, so it is given
        // up while waiting and taken again after (holding it would deadlock).
        const before = opts.beforeRetry;
        const inner: DeliverOptions = {
          ...opts,
          deadline,
          beforeRetry: before && (async () => {
            gate.release();
            held = false;
            await before();
            held = await gate.acquire(deadline, opts.signal);
            if (!held) throw new DeliveryError('busy with older batches until the deadline', 504);
          }),
        };
        try {
          await o.sink.deliver(messages, inner);
          mask |= 1 << i;
        } catch (e) {
          failures.push({ name: o.name, error: e as Error });
        } finally {
          if (held) gate.release();
        }
      }),
    );
    if (mask === this.all) {
      this.acked.delete(id);
      return;
    }
    if (id) {
      this.acked.delete(id); // re-insert: the Map's order is the age of the last attempt
      this.acked.set(id, mask);
      if (this.acked.size > this.remember) this.acked.delete(this.acked.keys().next().value!);
    }
    const retryAfter = failures
      .map((f) => (f.error as DeliveryError).retryAfterMs)
      .filter((v): v is number => typeof v === 'number');
    throw new DeliveryError(
      failures.map((f) => `output ${f.name}: ${f.error.message}`).join('; '),
      (failures[0]?.error as DeliveryError | undefined)?.status,
      retryAfter.length > 0 ? Math.max(...retryAfter) : undefined,
    );
  }

  async close(): Promise<void> {
    if (this.closeInner) await Promise.all(this.outputs.map((o) => o.sink.close().catch(() => {})));
  }
}
