/**
 * CORS for the intake routes. `*` (the default, as rxtx) answers any origin
 * with `*`; a list echoes an Origin that is in it (with Vary: Origin) and
 * sends no Access-Control-Allow-Origin otherwise, so a browser on another
 * origin cannot read the answer. CORS only binds browsers: it is not access
 * control (that is --auth-tokens). With tokens on, the preflight allows the
 * Authorization header.
 */
import type { HttpRequest } from 'uWebSockets.js';

const METHODS: [string, string] = ['Access-Control-Allow-Methods', 'POST, OPTIONS'];
const MAX_AGE: [string, string] = ['Access-Control-Max-Age', '86400'];

export class CorsPolicy {
  readonly any: boolean;
  private readonly origins: ReadonlySet<string>;
  private readonly allowHeaders: [string, string];

  constructor(origins: readonly string[], tokens: boolean) {
    const list = origins.map((o) => o.trim().replace(/\/$/, '')).filter((o) => o !== '');
    this.any = list.length === 0 || list.includes('*');
    this.origins = new Set(list);
    this.allowHeaders = [
      'Access-Control-Allow-Headers',
      `Content-Type, Content-Encoding, Idempotency-Key${tokens ? ', Authorization' : ''}`,
    ];
  }

  /** The Access-Control-Allow-Origin (and Vary) headers for this request. */
  origin(req: HttpRequest): [string, string][] {
    if (this.any) return [['Access-Control-Allow-Origin', '*']];
    const origin = req.getHeader('origin');
    return origin !== '' && this.origins.has(origin)
      ? [['Access-Control-Allow-Origin', origin], ['Vary', 'Origin']]
      : [['Vary', 'Origin']];
  }

  preflight(req: HttpRequest): [string, string][] {
    return [...this.origin(req), METHODS, this.allowHeaders, MAX_AGE];
  }
}
