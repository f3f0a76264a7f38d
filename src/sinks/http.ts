/**
 * Edge sink: POST a MessageBatch to the stage's /in (Spillway's or rtbeat's)
 * over an undici keep-alive pool. Only a 200 delivers; anything else rejects
 * and the forwarder retries the identical batch. Credentials, TLS and gzip
 * towards the stage: security/link.ts (`link`).
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Pool } from 'undici';
import { refusesGzip, type LinkOptions } from '../security/link.js';
import { messageBatchJson, type StoredMessage } from '../store/message.js';
import { DeliveryError, type DeliverOptions, type Sink } from './types.js';

export interface HttpSinkOptions {
  url: string;
  connections: number;
  timeoutMs: number;
  /** Authorization, TLS and gzip (security/link.ts); none: plain JSON, no credentials. */
  link?: LinkOptions;
}

const gzip = promisify(gzipCb);
/** Level 1: most of the saving on batch JSON for a fraction of level 6's CPU (docs/security.md). */
const GZIP_LEVEL = 1;

export class HttpSink implements Sink {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly authorization: string | undefined;
  private zip: boolean;
  private readonly gzipAuto: boolean;

  constructor(opts: HttpSinkOptions) {
    const url = new URL(opts.url);
    this.path = url.pathname + url.search;
    this.authorization = opts.link?.authorization;
    // auto starts plain and gzips once the stage says it reads gzip (Accept-Encoding, RFC 7694).
    this.zip = opts.link?.gzip === 'on';
    this.gzipAuto = opts.link?.gzip === 'auto';
    this.pool = new Pool(url.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connectTimeout: 10_000,
      ...(opts.link?.connect ? { connect: opts.link.connect } : {}),
    });
  }

  async deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const json = messageBatchJson(opts.batchUuid, messages);
    const zipped = this.zip;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    if (zipped) headers['content-encoding'] = 'gzip';
    const body = zipped ? await gzip(json, { level: GZIP_LEVEL }) : json;
    let res;
    try {
      res = await this.pool.request({ path: this.path, method: 'POST', headers, body, signal: opts.signal });
    } catch (e) {
      throw new DeliveryError(`POST ${this.path}: ${(e as Error).message}`);
    }
    const text = await res.body.text().catch(() => '');
    if (!zipped && this.gzipAuto && !this.zip && /\bgzip\b/i.test(String(res.headers['accept-encoding'] ?? ''))) this.zip = true;
    if (zipped && this.gzipAuto && refusesGzip(res.statusCode, text)) {
      // A stage that cannot read gzip (a Go rtbeat, an older Spillway): plain from now on.
      this.zip = false;
      return this.deliver(messages, opts);
    }
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
