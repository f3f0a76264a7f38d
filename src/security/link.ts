/**
 * The edge's side of the edge → stage link: how it proves who it is and
 * checks who the stage is, and whether it gzips.
 *
 * - Authorization: `Bearer` from --ingest-token or --ingest-token-file (the
 *   file's first line); otherwise `Basic` from the user:password@ of
 *   --ingest (kept out of the URL undici connects to, never logged).
 * - TLS: the stage's certificate must chain to --ingest-ca (else the system
 *   CAs); --ingest-cert/--ingest-key are presented for mutual TLS.
 * - gzip: auto (the default) sends plain JSON until the stage's answer
 *   carries `Accept-Encoding: gzip` (RFC 7694; a Spillway stage sends it, a
 *   Go rtbeat does not), then gzips; should the stage then refuse gzip (415,
 *   or a 400/500 about the body's JSON or UTF-8), that batch is sent again
 *   plain and so is every later one. on gzips from the first batch; off never.
 *
 * Several --ingest URLs share the token and the TLS files; each has its own
 * user:password@.
 *
 * Read in the main thread at start (checkLink, so a bad file exits 2 with
 * one line) and again in each forwarder thread (linkOptions).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/options.js';

import { LinkFileError } from '../errors.js';

export { LinkFileError };

export interface LinkOptions {
  /** The Authorization header value, if any (Basic: the first --ingest URL's). */
  authorization?: string;
  /** Without a token: each --ingest URL's own Basic header from its user:password@ (undefined: none). */
  authorizations?: (string | undefined)[];
  /** undici's connect options (TLS). */
  connect?: { ca?: string; cert?: string; key?: string };
  gzip: 'auto' | 'on' | 'off';
}

type LinkConfig = Pick<Config, 'ingest' | 'ingestToken' | 'ingestTokenFile' | 'ingestCa' | 'ingestCert' | 'ingestKey' | 'ingestGzip'>;

/** The stage URLs of --ingest: one, or several separated by commas (tried in order, sinks/http.ts). */
export function ingestUrls(ingest: string): string[] {
  return ingest.split(',').map((u) => u.trim()).filter((u) => u !== '');
}

function basic(u: string): string | undefined {
  const url = new URL(u);
  if (!url.username && !url.password) return undefined;
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

function read(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new LinkFileError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function pem(file: string, flag: string, what: RegExp): string {
  const text = read(file, flag);
  if (!what.test(text)) throw new LinkFileError(`${flag} ${file}: no PEM ${what === CERT ? 'certificate' : 'private key'} in the file`);
  return text;
}

const CERT = /-----BEGIN CERTIFICATE-----/;
const KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export function linkOptions(c: LinkConfig): LinkOptions {
  const out: LinkOptions = { gzip: (c.ingestGzip || 'auto') as LinkOptions['gzip'] };
  let token = c.ingestToken;
  if (c.ingestTokenFile) {
    if (token) throw new LinkFileError('give --ingest-token or --ingest-token-file, not both');
    token = read(c.ingestTokenFile, '--ingest-token-file').split(/\r?\n/)[0]!.trim();
    if (!token) throw new LinkFileError(`--ingest-token-file ${c.ingestTokenFile}: the first line is empty`);
  }
  if (token) {
    if (/\s/.test(token)) throw new LinkFileError('--ingest-token: a token has no spaces');
    out.authorization = `Bearer ${token}`;
  } else {
    const each = ingestUrls(c.ingest).map(basic);
    if (each.some((a) => a !== undefined)) {
      out.authorization = each[0];
      out.authorizations = each;
    }
  }
  if (c.ingestCert || c.ingestKey) {
    if (!c.ingestCert || !c.ingestKey) throw new LinkFileError('--ingest-cert and --ingest-key go together');
    out.connect = { cert: pem(c.ingestCert, '--ingest-cert', CERT), key: pem(c.ingestKey, '--ingest-key', KEY) };
  }
  if (c.ingestCa) out.connect = { ...out.connect, ca: pem(c.ingestCa, '--ingest-ca', CERT) };
  if (out.connect && ingestUrls(c.ingest).some((u) => new URL(u).protocol !== 'https:')) {
    throw new LinkFileError('--ingest-ca/--ingest-cert need an https:// --ingest URL');
  }
  return out;
}

/** Would a stage answering `status` with `text` to a gzip batch be one that cannot read gzip? */
export function refusesGzip(status: number, text: string): boolean {
  return status === 415 || ((status === 400 || status === 500) && /unmarshal|UTF-8|JSON|gzip/i.test(text));
}
