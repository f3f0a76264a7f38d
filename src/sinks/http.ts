/**
 * Edge sink: POST a MessageBatch to the stage's /in (Spillway's or rtbeat's)
 * over an undici keep-alive pool. Only a 200 delivers; anything else rejects
 * and the forwarder retries the identical batch.
 */
import { Pool } from 'undici';
import { messageBatchJson, type StoredMessage } from '../store/message.js';
import { DeliveryError, type DeliverOptions, type Sink } from './types.js';

export interface HttpSinkOptions {
  url: string;
  connections: number;
  timeoutMs: number;
}

export class HttpSink implements Sink {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(opts: HttpSinkOptions) {
    const url = new URL(opts.url);
    this.path = url.pathname + url.search;
    this.pool = new Pool(url.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connectTimeout: 10_000,
    });
  }

  async deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const body = messageBatchJson(opts.batchUuid, messages);
    let res;
    try {
      res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: opts.signal,
      });
    } catch (e) {
      throw new DeliveryError(`POST ${this.path}: ${(e as Error).message}`);
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode !== 200) {
      const retryAfter = Number(res.headers['retry-after']);
      throw new DeliveryError(
        `POST ${this.path} answered ${res.statusCode}: ${text.slice(0, 200)}`,
        res.statusCode,
        Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
