/**
 * Bearer tokens from a file: one a line, `TOKEN` or `TOKEN producer1,producer2`
 * (the producers that token may post as on /rx*); blank lines and lines
 * starting with # are skipped.
 *
 * Only SHA-256 digests of the tokens are kept. A presented token is hashed,
 * its digest found in a Map and confirmed with crypto.timingSafeEqual on the
 * two 32-byte digests: what a timing difference could reveal is where a
 * digest differs, which says nothing useful about the token (preimage
 * resistance), and the cost stays one hash per request however many tokens
 * the file holds. Tokens never reach a log line: errors name line numbers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { TokenFileError } from '../errors.js';

export { TokenFileError };

export interface TokenEntry {
  digest: Buffer;
  /** Hex of the digest's first 8 bytes: a name for the token in rate limits, never logged with the token. */
  id: string;
  /** Producers this token may post as; undefined: any. */
  producers: ReadonlySet<string> | undefined;
}

export type TokenVerdict = { ok: true; entry: TokenEntry } | { ok: false; status: 401 | 403; message: string };

const digestOf = (token: string) => createHash('sha256').update(token).digest();

export class TokenTable {
  private constructor(private readonly byDigest: Map<string, TokenEntry>) {}

  get size(): number {
    return this.byDigest.size;
  }

  static parse(text: string, source: string): TokenTable {
    const map = new Map<string, TokenEntry>();
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const [token, list, ...rest] = line.split(/\s+/);
      if (rest.length > 0) throw new TokenFileError(`${source}:${i + 1}: expected TOKEN [producer,producer...]`);
      if (token!.length < 16) throw new TokenFileError(`${source}:${i + 1}: token shorter than 16 characters`);
      const digest = digestOf(token!);
      const key = digest.toString('hex');
      if (map.has(key)) throw new TokenFileError(`${source}:${i + 1}: the same token is listed twice`);
      const producers = list === undefined ? undefined : new Set(list.split(',').filter((p) => p !== ''));
      map.set(key, { digest, id: key.slice(0, 16), producers });
    });
    return new TokenTable(map);
  }

  static load(file: string, flag: string): TokenTable {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new TokenFileError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return TokenTable.parse(text, `${flag} ${file}`);
  }

  /**
   * The verdict on an Authorization header value for `producer` (undefined:
   * no producer binding, as on /in).
   */
  check(authorization: string, producer: string | undefined): TokenVerdict {
    if (authorization === '') return { ok: false, status: 401, message: 'missing Authorization: Bearer token' };
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!m) return { ok: false, status: 401, message: 'Authorization must be Bearer TOKEN' };
    const digest = digestOf(m[1]!);
    const entry = this.byDigest.get(digest.toString('hex'));
    if (!entry || !timingSafeEqual(entry.digest, digest)) return { ok: false, status: 401, message: 'unknown token' };
    if (producer !== undefined && entry.producers && !entry.producers.has(producer)) {
      return { ok: false, status: 403, message: 'this token may not post as this producer' };
    }
    return { ok: true, entry };
  }
}
