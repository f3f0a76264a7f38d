/**
 * POST /in: a MessageBatch in, 200 only once every output has acknowledged
 * every message (an index output: indexed or dead-lettered), 504 TIMEOUT
 * when that takes longer than --ack-timeout (the sender keeps its copy and
 * retries), 503 with Retry-After when an output is not ready or the bytes in
 * flight are at their bound. Its checks and refusals run in the two phases
 * of front/intake.ts.
 */
import { isUtf8 } from 'node:buffer';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import { exchange, fail, ok, readBody, send, type Exchange } from '../front/http.js';
import { EARLY_REFUSAL_BYTES, refuse, type RefusalReason } from '../front/intake.js';
import type { StageMetrics } from '../metrics/registry.js';
import type { Sink } from '../sinks/types.js';
import { BatchError, parseBatch } from './batch.js';
import { securityOf } from '../security/index.js';
import { PayloadError, inflate } from '../store/payload.js';

export interface StageContext {
  config: Config;
  sink: Sink;
  metrics: StageMetrics;
  log: Logger;
  notReady(): string | undefined;
  isClosing(): boolean;
}

/** RFC 7694: tells a Spillway edge (--ingest-gzip auto) that this stage reads gzip batches. */
const ACCEPTS_GZIP: [string, string][] = [['Accept-Encoding', 'gzip']];

function clientIp(res: HttpResponse, req: HttpRequest): string {
  const forwarded = req.getHeader('x-forwarded-for').split(',')[0]!.trim();
  if (forwarded) return forwarded;
  const text = Buffer.from(res.getRemoteAddressAsText()).toString();
  const mapped = /^(?:0000:){5}ffff:([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(text);
  if (!mapped) return text;
  const n = parseInt(mapped[1]! + mapped[2]!, 16);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function registerStageRoutes(app: TemplatedApp, ctx: StageContext): { inflight(): number } {
  const { config, metrics } = ctx;
  let inflightBytes = 0;
  let inflightBatches = 0;
  const security = securityOf(app);
  const count = (reason: RefusalReason) => security?.countRefusal('in', reason);

  const handle = (ex: Exchange, ip: string, body: Buffer) => {
    metrics.batchesReceived.inc();
    if (!isUtf8(body)) return refuse(ex, 'body', 'body is not valid UTF-8', { count });
    let batch;
    try {
      batch = parseBatch(body.toString('utf8'), config.maxDepth);
    } catch (e) {
      const status = e instanceof BatchError ? 400 : 500;
      ctx.log.warn({ ip, reason: (e as Error).message }, '/in batch refused');
      return refuse(ex, 'body', (e as Error).message, { status, count });
    }
    const n = batch.messages.length;
    metrics.messagesParsed.inc(n);
    if (n === 0) return ok(ex, {}, ACCEPTS_GZIP);
    inflightBytes += body.length;
    inflightBatches++;
    metrics.currentAcks.inc(n);
    ctx.sink
      .deliver(batch.messages, { batchUuid: batch.uuid, deadline: Date.now() + config.ms.ackTimeout, clientIp: ip })
      .then(
        () => {
          metrics.acksReceived.inc(n);
          ok(ex, {}, ACCEPTS_GZIP);
        },
        (e: Error) => {
          metrics.timeouts.inc();
          ctx.log.warn({ batch: batch.uuid, messages: n, reason: e.message }, '/in batch not acknowledged in time');
          send(ex, 504, JSON.stringify({ status: 'TIMEOUT', message: e.message }));
        },
      )
      .finally(() => {
        inflightBytes -= body.length;
        inflightBatches--;
        metrics.currentAcks.dec(n);
      });
  };

  // The two phases of front/intake.ts. Header phase: --in-auth-tokens (src/security/; undefined
  // when not set), the encoding, then closing, an output away, the bytes in flight.
  const guard = security?.in;
  const busy = (bytes: number) =>
    inflightBytes + bytes > config.maxInflightBytes && inflightBatches > 0
      ? `busy: ${inflightBytes} bytes of batches in flight (--max-inflight-bytes ${config.maxInflightBytes})`
      : undefined;
  /** The daemon cannot take a batch of `bytes` now: why, as a refusal. */
  const unable = (bytes: number): [RefusalReason, string] | undefined => {
    if (ctx.isClosing()) return ['closing', 'shutting down'];
    const away = ctx.notReady();
    if (away) return ['away', away];
    const b = busy(bytes);
    return b ? ['busy', b] : undefined;
  };
  app.post('/in', (res, req) => {
    const ex = exchange(res);
    const ip = clientIp(res, req);
    if (guard) {
      const r = guard.check(req, res, undefined);
      if (r) return refuse(ex, r.reason, r.message, { headers: r.headers, count });
    }
    // gzip batches from Spillway edges (--ingest-gzip); inflated under the same limit as the body.
    const encoding = req.getHeader('content-encoding').toLowerCase();
    const gzip = encoding === 'gzip';
    if (!gzip && encoding !== '' && encoding !== 'identity') {
      return refuse(ex, 'encoding', `Content-Encoding ${encoding} is not supported (use gzip or none)`, { count });
    }
    // A batch announcing more than EARLY_REFUSAL_BYTES that could not be taken is refused unread
    // (the connection closes); a smaller one is read and dropped, so the edge keeps its connection.
    const declared = Number(req.getHeader('content-length') || -1);
    if (declared > EARLY_REFUSAL_BYTES) {
      const early = unable(declared);
      if (early) return refuse(ex, early[0], early[1], { count, close: true });
    }
    readBody(ex, req, {
      limit: config.maxBatchBody,
      onTooLarge: () => refuse(ex, 'too_large', `batch is larger than ${config.maxBatchBody} bytes`, { count }),
      onBody: (body) => {
        const refusal = unable(body.length);
        if (refusal) return refuse(ex, refusal[0], refusal[1], { count });
        // Body phase: inflate, then UTF-8 and the MessageBatch (handle).
        if (gzip) {
          try {
            body = inflate(body, config.maxBatchBody);
          } catch (e) {
            if (!(e instanceof PayloadError)) throw e;
            return refuse(ex, e.status === 413 ? 'too_large' : 'body', e.message, { status: e.status, count });
          }
        }
        handle(ex, ip, body);
      },
    });
  });
  app.any('/in', (res) => {
    count('method');
    fail(exchange(res), 405, 'method not allowed: use POST', [['Allow', 'POST']]);
  });
  return { inflight: () => inflightBatches };
}
