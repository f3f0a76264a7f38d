/**
 * The intake's checks and refusals in one place, for /rx* (front/edge-routes.ts)
 * and /in (stage/in-route.ts).
 *
 * Two ordered phases, as fastify runs a request's hooks before and after the
 * body is parsed:
 *
 * 1. header checks, decided before one byte of the body is read, in this order:
 *    the route and its path; the bearer token and the rate limit
 *    (security/guard.ts); the Content-Encoding; the Idempotency-Key (/rx*);
 *    then whether the daemon can take the request at all: shutting down, the
 *    store full (/rx*), an output away or the bytes of batches in flight at
 *    their bound (/in).
 * 2. body checks, after the body is read: its size (also while it streams
 *    in), gzip (inflated under the same limit), UTF-8 and JSON, then what the
 *    writer or the batch parser finds.
 *
 * REFUSALS lists every refusal once: its reason (the label metrics count it
 * by), status, phase, whether the answer closes the connection, and whether
 * it carries Retry-After. A header-phase refusal whose answer does not close
 * (`drain`) is answered once the body has been read and dropped, so that a
 * keep-alive client (an edge's pool, a till posting in a loop) keeps its
 * connection; on /in a batch announcing more than EARLY_REFUSAL_BYTES is
 * refused unread instead, and the connection closes, so that a stage under
 * pressure never reads a 64 MiB batch only to refuse it.
 */
import { fail, type Exchange } from './http.js';

export type IntakeRoute = 'rx' | 'in';

export interface RefusalRule {
  /** The status; `statuses` when a reason has more than one. */
  status: number;
  statuses?: readonly number[];
  phase: 'header' | 'body';
  /** The answer carries Connection: close (the body, or its rest, is never read). */
  close: boolean;
  /** Decided from the headers, answered after the body is read and dropped (keeps the connection). */
  drain?: boolean;
  /** The answer carries Retry-After (1 s; the rate limiter's wait for `rate`). */
  retryAfter: boolean;
  routes: readonly IntakeRoute[];
  what: string;
}

export const REFUSALS = {
  path: { status: 404, statuses: [400, 404], phase: 'header', close: false, retryAfter: false, routes: ['rx'], what: 'not /rx/PRODUCER/KEY/LABEL..., or a path with bad escapes or control characters' },
  method: { status: 405, phase: 'header', close: false, retryAfter: false, routes: ['rx', 'in'], what: 'a method other than POST (OPTIONS is the CORS preflight)' },
  auth: { status: 401, phase: 'header', close: true, retryAfter: false, routes: ['rx', 'in'], what: 'no bearer token, another scheme, or an unknown token (WWW-Authenticate: Bearer)' },
  forbidden: { status: 403, phase: 'header', close: true, retryAfter: false, routes: ['rx'], what: 'a token posting as a producer its line does not list' },
  rate: { status: 429, phase: 'header', close: true, retryAfter: true, routes: ['rx'], what: 'a token (or client address) over --rate-limit' },
  encoding: { status: 415, phase: 'header', close: true, retryAfter: false, routes: ['rx', 'in'], what: 'a Content-Encoding other than gzip or identity' },
  header: { status: 400, phase: 'header', close: false, retryAfter: false, routes: ['rx'], what: 'an Idempotency-Key that is not 1 to 255 visible ASCII characters' },
  closing: { status: 503, phase: 'header', close: true, drain: true, retryAfter: true, routes: ['rx', 'in'], what: 'shutting down: the client reconnects, to the restarted daemon' },
  full: { status: 503, phase: 'header', close: false, drain: true, retryAfter: true, routes: ['rx'], what: 'the store is at --maxq or --max-bytes (--overflow refuse)' },
  away: { status: 503, phase: 'header', close: false, drain: true, retryAfter: true, routes: ['in'], what: 'an output is not ready (/readyz says which)' },
  busy: { status: 503, phase: 'header', close: false, drain: true, retryAfter: true, routes: ['in'], what: 'the bytes of batches in flight would pass --max-inflight-bytes' },
  too_large: { status: 413, phase: 'body', close: true, retryAfter: false, routes: ['rx', 'in'], what: 'a body (announced, streamed, or inflated) over --max-body / --max-batch-body' },
  body: { status: 400, statuses: [400, 413, 415], phase: 'body', close: false, retryAfter: false, routes: ['rx', 'in'], what: 'a body that is not UTF-8, JSON, a JSON object, or a MessageBatch; bad gzip' },
  store: { status: 500, statuses: [500, 503], phase: 'body', close: false, retryAfter: false, routes: ['rx'], what: 'the write to the store failed (503 with Retry-After: full meanwhile)' },
} as const satisfies Record<string, RefusalRule>;

export type RefusalReason = keyof typeof REFUSALS;

/** /in: a batch announcing more than this is refused unread (and the connection closed) by a drain refusal. */
export const EARLY_REFUSAL_BYTES = 1024 * 1024;

export const RETRY_AFTER: [string, string] = ['Retry-After', '1'];

/**
 * Send the refusal for `reason` with `message`: its status (or `status`, one
 * of the reason's), Retry-After when its rule says so (unless `headers`
 * already holds one), Connection: close when its rule says so or `close`.
 * Counts it with `count`. Safe after an abort.
 */
export function refuse(
  ex: Exchange, reason: RefusalReason, message: string,
  opts: { status?: number; headers?: [string, string][]; close?: boolean; count?: (reason: RefusalReason) => void } = {},
): void {
  const rule: RefusalRule = REFUSALS[reason];
  opts.count?.(reason);
  let headers = opts.headers ?? [];
  if (rule.retryAfter && !headers.some(([k]) => k === 'Retry-After')) headers = [...headers, RETRY_AFTER];
  fail(ex, opts.status ?? rule.status, message, headers, opts.close ?? rule.close);
}
