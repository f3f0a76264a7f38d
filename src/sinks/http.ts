/**
 * Edge sink: POST a MessageBatch to the stage's /in (Spillway's or rtbeat's)
 * over an undici keep-alive pool. Only a 200 delivers; anything else rejects
 * and the forwarder retries the identical batch. Credentials, TLS and gzip
 * towards the stage: security/link.ts (`link`).
 *
 * Several stages (--ingest A,B,...): a batch goes to the current stage; when
 * that one cannot take it (no connection, a reset or timeout, a 5xx or 429),
 * the same batch goes at once to the next in the list, wrapping, until one
 * answers 200 or each was tried once (then the drainer backs off and retries
 * as with one stage). The stage that took it becomes the current one. While
 * the current stage is not the first, the first is tried again with a real
 * batch (no separate probe: a stage is up when it takes a batch) once
 * FAILBACK_MS has passed since it last failed, doubling up to
 * FAILBACK_MAX_MS while it keeps failing; when it takes the batch the edge
 * is back on it. A 4xx other than 429 (a refused token, a body the stage
 * cannot read) is the stage's verdict on the batch, not its health: no
 * failover. What this means for a batch in flight: docs/security.md.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Pool } from 'undici';
import { ingestUrls, refusesGzip, type LinkOptions } from '../security/link.js';
import { messageBatchJson, type StoredMessage } from '../store/message.js';
import { DeliveryError, type DeliverOptions, type Sink } from './types.js';

export interface HttpSinkOptions {
  /** One stage URL, or several separated by commas (tried in order). */
  url: string;
  connections: number;
  timeoutMs: number;
  /** Authorization, TLS and gzip (security/link.ts); none: plain JSON, no credentials. */
  link?: LinkOptions;
  /** First wait before the first stage is tried again after it failed (tests shorten it). */
  failbackMs?: number;
}

const gzip = promisify(gzipCb);
/** Level 1: most of the saving on batch JSON for a fraction of level 6's CPU (docs/security.md). */
const GZIP_LEVEL = 1;
/** The first stage is tried again this long after it failed, doubling while it keeps failing, up to the max. */
export const FAILBACK_MS = 5_000;
export const FAILBACK_MAX_MS = 60_000;

/** One stage: its pool and what the edge has learnt about it. */
interface Stage {
  label: string;
  path: string;
  pool: Pool;
  authorization: string | undefined;
  zip: boolean;
  /** Date.now() before which this stage is not tried first again (failback of the first stage). */
  retryAt: number;
  wait: number;
}

/** Does this failure say the stage cannot take batches now (try the next one)? */
const unavailable = (e: DeliveryError) => e.status === undefined || e.status >= 500 || e.status === 429;

export class HttpSink implements Sink {
  private readonly stages: Stage[];
  private readonly gzipAuto: boolean;
  private readonly failbackMs: number;
  /** Index of the stage batches go to. */
  private current = 0;

  constructor(opts: HttpSinkOptions) {
    const urls = ingestUrls(opts.url);
    this.gzipAuto = opts.link?.gzip === 'auto';
    this.failbackMs = opts.failbackMs ?? FAILBACK_MS;
    this.stages = urls.map((u, i) => {
      const url = new URL(u);
      return {
        // Never a user:password@: the label goes into error messages.
        label: urls.length > 1 ? `${url.host}${url.pathname}` : url.pathname + url.search,
        path: url.pathname + url.search,
        authorization: opts.link?.authorizations ? opts.link.authorizations[i] : opts.link?.authorization,
        // auto starts plain and gzips once the stage says it reads gzip (Accept-Encoding, RFC 7694).
        zip: opts.link?.gzip === 'on',
        retryAt: 0,
        wait: this.failbackMs,
        pool: new Pool(url.origin, {
          connections: opts.connections,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          headersTimeout: opts.timeoutMs,
          bodyTimeout: opts.timeoutMs,
          connectTimeout: 10_000,
          ...(opts.link?.connect ? { connect: opts.link.connect } : {}),
        }),
      };
    });
  }

  async deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const n = this.stages.length;
    if (n === 1) return this.post(this.stages[0]!, messages, opts);
    // The first stage when its back-off has passed, else the current one; then the rest in order.
    const start = this.current !== 0 && Date.now() >= this.stages[0]!.retryAt ? 0 : this.current;
    const errors: DeliveryError[] = [];
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const stage = this.stages[i]!;
      if (k > 0 && opts.signal?.aborted) break;
      try {
        await this.post(stage, messages, opts);
      } catch (e) {
        if (!(e instanceof DeliveryError) || !unavailable(e)) throw e;
        errors.push(e);
        if (i === 0) {
          stage.retryAt = Date.now() + stage.wait;
          stage.wait = Math.min(FAILBACK_MAX_MS, stage.wait * 2);
        }
        continue;
      }
      if (i === 0) stage.wait = this.failbackMs;
      this.current = i;
      return;
    }
    // Each stage failed once: the drainer backs off (honouring the longest Retry-After asked) and retries.
    const retryAfter = Math.max(...errors.map((e) => e.retryAfterMs ?? -1));
    throw new DeliveryError(
      `no stage took the batch: ${errors.map((e) => e.message).join('; ')}`,
      errors[0]?.status,
      retryAfter >= 0 ? retryAfter : undefined,
    );
  }

  private async post(stage: Stage, messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const json = messageBatchJson(opts.batchUuid, messages);
    const zipped = stage.zip;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (stage.authorization) headers.authorization = stage.authorization;
    if (zipped) headers['content-encoding'] = 'gzip';
    const body = zipped ? await gzip(json, { level: GZIP_LEVEL }) : json;
    let res;
    try {
      res = await stage.pool.request({ path: stage.path, method: 'POST', headers, body, signal: opts.signal });
    } catch (e) {
      throw new DeliveryError(`POST ${stage.label}: ${(e as Error).message}`);
    }
    const text = await res.body.text().catch(() => '');
    if (!zipped && this.gzipAuto && !stage.zip && /\bgzip\b/i.test(String(res.headers['accept-encoding'] ?? ''))) stage.zip = true;
    if (zipped && this.gzipAuto && refusesGzip(res.statusCode, text)) {
      // A stage that cannot read gzip (a Go rtbeat, an older Spillway): plain from now on.
      stage.zip = false;
      return this.post(stage, messages, opts);
    }
    if (res.statusCode !== 200) {
      const retryAfter = Number(res.headers['retry-after']);
      throw new DeliveryError(
        `POST ${stage.label} answered ${res.statusCode}: ${text.slice(0, 200)}`,
        res.statusCode,
        Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.stages.map((s) => s.pool.close()));
  }
}
