/**
 * Small pieces every route shares: JSON replies (corked, safe after an
 * abort), CORS headers, and reading a body with a limit enforced while it
 * streams in.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 429: 'Too Many Requests',
  408: 'Request Timeout', 411: 'Length Required', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export const CORS_HEADERS: [string, string][] = [
  ['Access-Control-Allow-Origin', '*'],
  ['Access-Control-Allow-Methods', 'POST, OPTIONS'],
  ['Access-Control-Allow-Headers', 'Content-Type, Content-Encoding, Idempotency-Key'],
  ['Access-Control-Max-Age', '86400'],
];

/** A response plus the state uWS does not keep for us. */
export interface Exchange {
  res: HttpResponse;
  aborted: boolean;
  done: boolean;
}

export function exchange(res: HttpResponse): Exchange {
  const ex: Exchange = { res, aborted: false, done: false };
  res.onAborted(() => {
    ex.aborted = true;
  });
  return ex;
}

export function send(
  ex: Exchange, status: number, body: string, contentType = 'application/json',
  headers: [string, string][] = [], close = false,
): void {
  if (ex.aborted || ex.done) return;
  ex.done = true;
  ex.res.cork(() => {
    ex.res.writeStatus(`${status} ${STATUS_TEXT[status] ?? ''}`);
    if (body !== '') ex.res.writeHeader('Content-Type', contentType);
    for (const [k, v] of headers) ex.res.writeHeader(k, v);
    ex.res.end(body, close);
  });
}

export function ok(ex: Exchange, fields: Record<string, unknown> = {}, headers: [string, string][] = []): void {
  send(ex, 200, JSON.stringify({ status: 'OK', ...fields }), 'application/json', headers);
}

export function fail(
  ex: Exchange, status: number, message: string, headers: [string, string][] = [], close = false,
): void {
  send(ex, status, JSON.stringify({ status: 'FAIL', message }), 'application/json', headers, close);
}

export interface BodyOptions {
  limit: number;
  /** Called once with the whole body; never after an abort or a refusal. */
  onBody: (body: Buffer) => void;
  /** Refusal to send when the body exceeds the limit (the connection is then closed). */
  onTooLarge: () => void;
}

/**
 * Read the body of `req`, refusing it early: a Content-Length above the
 * limit is refused before one byte is read, a streamed body the moment it
 * crosses it. Must be called synchronously inside the route handler.
 */
export function readBody(ex: Exchange, req: HttpRequest, opts: BodyOptions): void {
  const declared = req.getHeader('content-length');
  const length = declared === '' ? -1 : Number(declared);
  if (length > opts.limit) {
    opts.onTooLarge();
    return;
  }
  let buf = Buffer.allocUnsafe(length > 0 ? length : 0);
  let size = 0;
  ex.res.onData((chunk, isLast) => {
    if (ex.done || ex.aborted) return;
    const bytes = new Uint8Array(chunk);
    if (size + bytes.length > opts.limit) {
      opts.onTooLarge();
      return;
    }
    if (size + bytes.length > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(opts.limit, Math.max(buf.length * 2, size + bytes.length, 4096)));
      buf.copy(grown, 0, 0, size);
      buf = grown;
    }
    buf.set(bytes, size);
    size += bytes.length;
    if (isLast) opts.onBody(buf.subarray(0, size));
  });
}
