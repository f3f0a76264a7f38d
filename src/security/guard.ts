/**
 * The header-phase checks of an intake route, decided before one byte of
 * the body is read: the bearer token (401 missing/unknown, 403 a producer
 * the token does not cover) and the per-token rate limit (429 with
 * Retry-After). A refusal closes the connection, so a refused client's body
 * is never read and nothing of it is stored. Without --auth-tokens and
 * --rate-limit a route has no guard at all and pays nothing.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { RateLimiter } from './rate.js';
import type { TokenTable } from './tokens.js';

export type RefusalReason = 'auth' | 'forbidden' | 'rate';

export interface Refusal {
  status: 401 | 403 | 429;
  reason: RefusalReason;
  message: string;
  headers: [string, string][];
}

export class IntakeGuard {
  constructor(
    readonly route: 'rx' | 'in',
    /** Replaced on SIGHUP (security/index.ts). */
    public tokens: TokenTable | undefined,
    private readonly limiter: RateLimiter | undefined,
    private readonly count: (reason: RefusalReason) => void,
  ) {}

  /** Undefined: go on. Must be called synchronously in the route handler (uWS request lifetime). */
  check(req: HttpRequest, res: HttpResponse, producer: string | undefined): Refusal | undefined {
    let key: string | undefined;
    if (this.tokens) {
      const v = this.tokens.check(req.getHeader('authorization'), producer);
      if (!v.ok) {
        const reason = v.status === 401 ? 'auth' : 'forbidden';
        this.count(reason);
        const headers: [string, string][] = v.status === 401 ? [['WWW-Authenticate', 'Bearer realm="spillway"']] : [];
        return { status: v.status, reason, message: v.message, headers };
      }
      key = v.entry.id;
    }
    if (this.limiter) {
      key ??= Buffer.from(res.getRemoteAddressAsText()).toString();
      const wait = this.limiter.take(key);
      if (wait > 0) {
        this.count('rate');
        return { status: 429, reason: 'rate', message: 'rate limit exceeded (--rate-limit)', headers: [['Retry-After', String(wait)]] };
      }
    }
    return undefined;
  }
}
