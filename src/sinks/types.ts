/**
 * A sink takes a batch of stored messages and resolves once every one of
 * them is safely delivered (or, for the Elasticsearch sink, dead-lettered).
 * It rejects with a DeliveryError otherwise; the caller keeps its copy and
 * retries the same messages (same batchUuid), which the receivers treat
 * idempotently. A DeliveryError may carry `retryAfterMs` (the server asked
 * for a pause) that the caller honours before it retries.
 */
import type { StoredMessage } from '../store/message.js';

export interface DeliverOptions {
  /** Identity of the batch; the same on every retry of it. */
  batchUuid: string;
  /** Give up (reject) at this Date.now() value. */
  deadline: number;
  signal?: AbortSignal;
  /** The sender's address, for outputs that record it (beat: per /in request). */
  clientIp?: string;
  /**
   * An output that retries inside one deliver() awaits this before each
   * retry (never before the first attempt). The edge's drainer resolves it
   * once every older batch of the shard is delivered, so that after an
   * outage a shard's batches land oldest first (docs/durability.md).
   */
  beforeRetry?: () => Promise<void>;
}

export interface Sink {
  deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * What an output reports, whatever its server: the same five events for
 * every output, relayed to the metrics in one place (metrics/outputs.ts).
 * `request`: one request to the server answered, in `ms`, carrying `items`;
 * `requestFailed`: one request that got no usable answer; `delivered`:
 * messages the server acknowledged; `retried`: messages sent again;
 * `deadLettered`: messages refused for good and written aside instead.
 */
export interface SinkEvents {
  request?(ms: number, items: number): void;
  requestFailed?(): void;
  delivered?(n: number): void;
  retried?(n: number): void;
  deadLettered?(n: number): void;
}
export type SinkEventName = keyof SinkEvents;

/**
 * Is the output's server able to take writes? Checked on an interval from
 * the main thread; `notReady` is the reason it is not (for /readyz, /in's
 * 503 and /stats), undefined when it is.
 */
export interface Health {
  readonly notReady: string | undefined;
  /** First check done; later checks run on an interval until stop(). */
  start(): Promise<void>;
  stop(): void;
  /** Called once, the first time the server is ready (and, for an index, its templates are in place). */
  onFirstReady?: () => void;
}

/** What an output's build() returns. */
export interface BuiltOutput {
  sink: Sink;
  /** Absent when the output has nothing to check (files: checked at build). */
  health?: Health;
}

export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(message: string, readonly status?: number, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(Math.random() * ceiling));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
