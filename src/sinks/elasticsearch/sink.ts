/**
 * The Elasticsearch sink: one batch of messages → _bulk create requests.
 *
 * Per item: created (201) or already there (409) is delivered; 429, 5xx and
 * cluster blocks are retried with backoff, only those items; a 400 (mapping
 * or parse error) is written to the dead-letter index instead. deliver()
 * resolves when every message is delivered or dead-lettered, and rejects at
 * the deadline otherwise; because every write is a create with _id = uuid,
 * the caller's retry can never make a second copy.
 *
 * Flow control: bulk bodies of at most `bulkBytes`, and at most
 * `concurrency` requests in flight for the whole sink, whatever the number
 * of batches waiting.
 *
 * The same logic serves every server that speaks _bulk (OpenSearch too,
 * src/sinks/opensearch/): BulkSink takes the request as a BulkTransport.
 */
import type { Client } from '@elastic/elasticsearch';
import type { StoredMessage } from '../../store/message.js';
import { backoffMs, DeliveryError, sleep, type DeliverOptions, type Sink, type SinkEvents } from '../types.js';
import { createAction, deadLetterDocument, eventDocument, type ItemError } from './documents.js';
import { IndexPattern } from './index-name.js';
import { withTimeout } from '../../stage/readiness.js';

export type { SinkEvents } from '../types.js';

export interface BulkResponse {
  errors: boolean;
  items: Record<string, { status: number; error?: { type?: string; reason?: string } }>[];
}

/** One _bulk request of NDJSON `body`, answered with (at least) errors and items.*.status/error. */
export interface BulkTransport {
  bulk(body: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<BulkResponse>;
  close(): Promise<void>;
}

export const BULK_FILTER_PATH = 'errors,items.*.status,items.*.error';

export function elasticsearchTransport(client: Client): BulkTransport {
  return {
    bulk: (body, signal, timeoutMs) =>
      client.bulk(
        { operations: body as never, filter_path: BULK_FILTER_PATH },
        { signal, requestTimeout: timeoutMs },
      ) as unknown as Promise<BulkResponse>,
    close: () => client.close(),
  };
}

export interface BulkSinkOptions {
  index: string;
  dlqIndex: string;
  bulkBytes: number;
  concurrency: number;
  clientIp?: string;
  retryBaseMs?: number;
  retryCapMs?: number;
  events?: SinkEvents;
}

/** One pending write: the action+document lines and what to do if it is refused. */
interface Op {
  message: StoredMessage;
  lines: string;
  deadLetter: boolean;
}

type Verdict = 'done' | 'retry' | ItemError;

export function classifyItem(status: number, error?: { type?: string; reason?: string }): Verdict {
  if (status === 201 || status === 200 || status === 409) return 'done';
  if (status === 400) return { status, type: error?.type ?? 'unknown', reason: error?.reason ?? '' };
  return 'retry';
}

class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

export class BulkSink implements Sink {
  private readonly index: IndexPattern;
  private readonly dlq: IndexPattern;
  private readonly slots: Semaphore;

  constructor(private readonly transport: BulkTransport, private readonly opts: BulkSinkOptions) {
    this.index = new IndexPattern(opts.index);
    this.dlq = new IndexPattern(opts.dlqIndex);
    this.slots = new Semaphore(opts.concurrency);
  }

  async deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const clientIp = opts.clientIp ?? this.opts.clientIp ?? '';
    let pending: Op[] = messages.map((m) => ({
      message: m,
      lines: createAction(this.index.resolve(m.time), m.uuid) + eventDocument(m, clientIp),
      deadLetter: false,
    }));
    let attempt = 0;
    let lastError = '';
    while (pending.length > 0) {
      if (Date.now() >= opts.deadline || opts.signal?.aborted) {
        throw new DeliveryError(
          `${pending.length} of ${messages.length} messages not acknowledged in time` + (lastError ? `: ${lastError}` : ''),
          504,
        );
      }
      const results = await Promise.all(this.chunks(pending).map((chunk) => this.sendChunk(chunk, clientIp, opts)));
      const next: Op[] = [];
      for (const r of results) {
        next.push(...r.retry);
        if (r.error) lastError = r.error;
      }
      if (next.length > 0) {
        this.opts.events?.retried?.(next.length);
        const wait = backoffMs(attempt++, this.opts.retryBaseMs ?? 100, this.opts.retryCapMs ?? 5000);
        await sleep(Math.min(wait, Math.max(0, opts.deadline - Date.now())), opts.signal);
        await opts.beforeRetry?.();
      }
      pending = next;
    }
  }

  private chunks(ops: Op[]): Op[][] {
    const out: Op[][] = [];
    let cur: Op[] = [];
    let bytes = 0;
    for (const op of ops) {
      if (cur.length > 0 && bytes + op.lines.length > this.opts.bulkBytes) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(op);
      bytes += op.lines.length;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  /** Send one _bulk; returns the ops to retry. Dead letters are queued as new ops. */
  private async sendChunk(chunk: Op[], clientIp: string, opts: DeliverOptions): Promise<{ retry: Op[]; error?: string }> {
    await this.slots.acquire();
    const t0 = performance.now();
    let response: BulkResponse;
    try {
      // Bounded a second past its own timeout: a client's first request can
      // hang forever on a connection closed at once (stage/readiness.ts withTimeout).
      const timeoutMs = Math.max(1000, opts.deadline - Date.now());
      response = await withTimeout(this.transport.bulk(chunk.map((op) => op.lines).join(''), opts.signal, timeoutMs), timeoutMs + 1000);
    } catch (e) {
      this.opts.events?.requestFailed?.();
      return { retry: chunk, error: (e as Error).message };
    } finally {
      this.slots.release();
    }
    this.opts.events?.request?.(performance.now() - t0, chunk.length);
    if (!response.errors) {
      this.opts.events?.delivered?.(chunk.filter((op) => !op.deadLetter).length);
      this.opts.events?.deadLettered?.(chunk.filter((op) => op.deadLetter).length);
      return { retry: [] };
    }
    const retry: Op[] = [];
    let indexed = 0;
    let deadLettered = 0;
    let error: string | undefined;
    chunk.forEach((op, i) => {
      const item = Object.values(response.items[i] ?? {})[0] ?? { status: 0 };
      const verdict = classifyItem(item.status, item.error);
      if (verdict === 'done') {
        if (op.deadLetter) deadLettered++;
        else indexed++;
      } else if (verdict === 'retry') {
        retry.push(op);
        error = `${item.status} ${item.error?.type ?? ''}`;
      } else if (!op.deadLetter) {
        // Refused for good: write the dead letter in its place (retried like any write).
        const index = this.index.resolve(op.message.time);
        retry.push({
          message: op.message,
          deadLetter: true,
          lines: createAction(this.dlq.resolve(op.message.time), op.message.uuid) +
            deadLetterDocument(op.message, clientIp, index, verdict),
        });
      } else {
        // A dead letter refused as bad input should be impossible (nothing in it is indexed);
        // keep retrying rather than lose it, and say why.
        retry.push(op);
        error = `dead letter refused: ${verdict.type} ${verdict.reason}`;
      }
    });
    this.opts.events?.delivered?.(indexed);
    this.opts.events?.deadLettered?.(deadLettered);
    return { retry, error };
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

export interface EsSinkOptions extends BulkSinkOptions {
  client: Client;
}

/** The Elasticsearch output's sink: BulkSink over the official client. */
export class ElasticsearchSink extends BulkSink {
  constructor(opts: EsSinkOptions) {
    super(elasticsearchTransport(opts.client), opts);
  }
}
