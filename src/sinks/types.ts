/**
 * A sink takes a batch of stored messages and resolves once every one of
 * them is safely delivered (or, for the Elasticsearch sink, dead-lettered).
 * It rejects with a DeliveryError otherwise; the caller keeps its copy and
 * retries the same messages, which the receivers treat idempotently.
 */
import type { StoredMessage } from '../store/message.js';

export interface DeliverOptions {
  /** Identity of the batch; the same on every retry of it. */
  batchUuid: string;
  /** Give up (reject) at this Date.now() value. */
  deadline: number;
  signal?: AbortSignal;
}

export interface Sink {
  deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void>;
  close(): Promise<void>;
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
