/**
 * Edge routes: POST /rx, /rxs, /rxb (ack after the durable write), /rxa (ack
 * on receipt), OPTIONS preflight, 405 for other methods. Everything here is
 * HTTP: bodies go to the store's write queue, which hands them to writer
 * threads.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { EdgeMetrics } from '../metrics/registry.js';
import { shardFor } from '../store/shard.js';
import type { StoreState } from '../store/state.js';
import type { WriteQueue } from '../store/write-queue.js';
import { CORS_HEADERS, exchange, fail, readBody, send, type Exchange } from './http.js';
import { REFUSALS, refuse as refuseWith, type RefusalReason } from './intake.js';
import { checkIdempotencyKey, parseRxPath } from './route-path.js';
import { PayloadError, inflate, payloadText } from '../store/payload.js';
import { securityOf } from '../security/index.js';

export interface EdgeContext {
  config: Config;
  queue: WriteQueue;
  state: StoreState;
  metrics: EdgeMetrics;
  log: Logger;
  isClosing(): boolean;
}

const CORS_ORIGIN: [string, string][] = [CORS_HEADERS[0]!];
const RETRY_AFTER: [string, string][] = [...CORS_ORIGIN, ['Retry-After', '1']];
const OK_BODY = '{"status":"OK"}';

export function registerEdgeRoutes(app: TemplatedApp, ctx: EdgeContext): void {
  const { config, metrics } = ctx;
  // Tokens, rate limit, an origin list (src/security/): undefined when not configured, so /rx pays one check.
  const security = securityOf(app);
  const guard = security?.rx;
  const cors = security && !security.cors.any ? security.cors : undefined;
  // Every refusal: front/intake.ts REFUSALS gives its status, Connection: close and Retry-After.
  const count = (reason: RefusalReason) => {
    metrics.refused.inc({ reason });
    security?.countRefusal('rx', reason);
  };
  const refuse = (ex: Exchange, reason: RefusalReason, message: string, headers = CORS_ORIGIN, status?: number) => {
    if ((status ?? REFUSALS[reason].status) < 500) metrics.msgErrors.inc();
    refuseWith(ex, reason, message, { status, headers, count });
  };

  // A write the store could not take is refused to its client, and the
  // operator sees why: one warning a second at most, with how many since the last.
  let failureLoggedAt = 0;
  let failuresSince = 0;
  const storeFailure = (status: number, reason: string) => {
    failuresSince++;
    const now = Date.now();
    if (now - failureLoggedAt < 1000) return;
    ctx.log.warn({ status, reason, refused: failuresSince }, 'store write failed; the request was refused');
    failureLoggedAt = now;
    failuresSince = 0;
  };

  const post = (res: HttpResponse, req: HttpRequest) => {
    const ex = exchange(res);
    const done = metrics.ackLatency.start();
    const origin = cors ? cors.origin(req) : CORS_ORIGIN;
    const retryAfter = cors ? [...origin, RETRY_AFTER[1]!] : RETRY_AFTER;
    const target = parseRxPath(req.getUrl());
    if ('status' in target) return refuse(ex, 'path', target.message, origin, target.status);
    if (guard) {
      // Before the body: a refused client's body is never read (the connection closes).
      const r = guard.check(req, res, target.producer);
      if (r) return refuse(ex, r.reason, r.message, [...origin, ...r.headers]);
    }

    const encoding = req.getHeader('content-encoding').toLowerCase();
    if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip') {
      return refuse(ex, 'encoding', `Content-Encoding ${encoding} is not supported (use gzip or none)`, origin);
    }
    const idem = req.getHeader('idempotency-key');
    const idemError = idem === '' ? undefined : checkIdempotencyKey(idem);
    if (idemError) return refuse(ex, 'header', idemError, origin);

    const ndjson = target.mode === 'rxb';
    const limit = ndjson ? config.maxBatchBody : config.maxBody;
    // Refusals that do not depend on the body still read it, to keep the connection usable.
    const refusal = ctx.isClosing()
      ? 'shutting down'
      : config.overflow === 'refuse' ? ctx.state.fullReason(ctx.queue.queued) : undefined;

    readBody(ex, req, {
      limit,
      onTooLarge: () => refuse(ex, 'too_large', `body is larger than ${limit} bytes`, origin),
      onBody: (body) => {
        if (refusal) {
          // Shutting down: close the connection with the 503, so a keep-alive
          // client reconnects (to the restarted daemon) instead of meeting a reset.
          return refuse(ex, refusal.startsWith('store') ? 'full' : 'closing', refusal, retryAfter);
        }
        if (target.mode === 'rxa') {
          // /rxa answers before the write, so it checks the body here, on the
          // main thread: bad input still gets its 4xx. (Opt-in route; the cost
          // of a JSON.parse here is the price of its early answer.)
          try {
            payloadText(encoding === 'gzip' ? inflate(body, config.maxBody) : body, config.maxDepth);
          } catch (e) {
            if (!(e instanceof PayloadError)) throw e;
            return refuse(ex, 'body', e.message, origin, e.status);
          }
        }
        const shard = shardFor(target.producer, target.key, config.shards);
        const request = {
          body, producer: target.producer, key: target.key, label: target.label,
          ndjson, gzip: encoding === 'gzip', idempotencyKey: idem === '' ? undefined : idem,
        };
        if (target.mode === 'rxa') {
          send(ex, 200, OK_BODY, 'application/json', origin);
          ctx.queue.submit(shard, request, (r) => {
            if (!r.ok) ctx.log.warn({ status: r.status, reason: r.message }, '/rxa message acknowledged but not stored');
          });
          return;
        }
        ctx.queue.submit(shard, request, (r) => {
          if (r.ok) {
            done();
            // uuid and seq are plain ASCII (hex, dashes, digits): no escaping needed.
            const count = ndjson ? `"count":${r.count},` : '';
            send(ex, 200, `{"status":"OK",${count}"uuid":"${r.uuid}","seq":"${r.seq}"}`, 'application/json', origin);
          } else {
            if (r.status >= 500) {
              metrics.dbErrors.inc();
              storeFailure(r.status, r.message);
            }
            refuse(ex, r.status >= 500 ? 'store' : 'body', r.message, r.status === 503 ? retryAfter : origin, r.status);
          }
        });
      },
    });
  };

  const preflight = (res: HttpResponse, req: HttpRequest) =>
    send(exchange(res), 204, '', '', security?.customPreflight ? security.cors.preflight(req) : CORS_HEADERS);
  const notAllowed = (res: HttpResponse, req: HttpRequest) =>
    fail(exchange(res), 405, 'method not allowed: use POST', [['Allow', 'POST, OPTIONS'], ...(cors ? cors.origin(req) : CORS_ORIGIN)]);

  for (const mode of ['rx', 'rxs', 'rxa', 'rxb']) {
    app.post(`/${mode}/*`, post);
    app.options(`/${mode}/*`, preflight);
    app.any(`/${mode}/*`, notAllowed);
  }
}
