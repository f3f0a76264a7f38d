/**
 * Turning a request body into payload JSON text, or a precise refusal.
 * Pure functions, run in the writer threads.
 */
import { gunzipSync } from 'node:zlib';
import { isUtf8 } from 'node:buffer';

export class PayloadError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Inflate a gzip body, refusing (413) once it grows past `limit` bytes. */
export function inflate(body: Uint8Array, limit: number): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new PayloadError(413, `body is larger than ${limit} bytes once inflated`);
    }
    throw new PayloadError(400, `gzip body does not inflate: ${err.message}`);
  }
}

/**
 * Nesting depth of JSON text, by a scan that skips strings. Runs before
 * JSON.parse so that no parser or encoder ever recurses on hostile input.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) max = depth;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}

/**
 * Validate one JSON document that must be an object; returns its text.
 * `where` prefixes error messages (e.g. "line 3: ").
 */
export function payloadText(bytes: Uint8Array, maxDepth: number, where = ''): string {
  if (bytes.length === 0) throw new PayloadError(400, `${where}empty body: a JSON object is required`);
  if (!isUtf8(bytes)) throw new PayloadError(400, `${where}body is not valid UTF-8`);
  return objectText(asBuffer(bytes).toString('utf8'), maxDepth, where);
}

/** The checks of payloadText on text already decoded from valid UTF-8. */
function objectText(text: string, maxDepth: number, where: string): string {
  const depth = jsonDepth(text);
  if (depth > maxDepth) {
    throw new PayloadError(400, `${where}payload nests ${depth} levels deep; the limit is ${maxDepth}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PayloadError(400, `${where}invalid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new PayloadError(400, `${where}payload must be a JSON object, not ${kind}`);
  }
  return text.trim();
}

/**
 * NDJSON: every non-blank line an object; all valid or a 400 naming the
 * first bad line. The body is checked as UTF-8 and decoded once, then split
 * as text (a newline byte never occurs inside a UTF-8 sequence).
 */
export function ndjsonPayloads(bytes: Uint8Array, maxDepth: number): string[] {
  if (bytes.length === 0) throw new PayloadError(400, 'empty body: NDJSON lines of JSON objects are required');
  if (!isUtf8(bytes)) throw new PayloadError(400, 'body is not valid UTF-8');
  const text = asBuffer(bytes).toString('utf8');
  const out: string[] = [];
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    if (!isBlank(text, start, end)) out.push(objectText(text.slice(start, end), maxDepth, `line ${line}: `));
    start = end + 1;
  }
  if (out.length === 0) throw new PayloadError(400, 'body holds no NDJSON lines');
  return out;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Only spaces, tabs and CRs between start and end. */
function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
