/**
 * TLS on the listener: uWebSockets.js's SSLApp over the PEM files of
 * --tls-cert, --tls-key and --tls-ca, checked here first so that a bad file
 * is one line naming the file and what is wrong (uWS itself only throws
 * "App construction failed").
 *
 * What uWS 20.30 (uSockets) does, measured in test/integration/security-tls:
 * - TLS 1.2 and 1.3 only: uSockets sets the minimum protocol to TLS 1.2;
 *   a TLS 1.1 ClientHello gets a protocol_version alert.
 * - With ca_file_name it asks every client for a certificate and verifies
 *   one that is presented (unknown CA, expired: handshake refused), but it
 *   does not fail a handshake without one. So `--tls-client-auth optional`
 *   is what uWS does, and `require` is refused at start-up rather than
 *   silently accepting clients with no certificate (no API in this build
 *   tells the route whether a certificate was presented).
 * - The certificate is read once, into the listening socket's context. uWS
 *   cannot swap the default context of a running app (addServerName only
 *   adds contexts for SNI names), so a new certificate takes a restart;
 *   SIGHUP checks the files and says so in the log (security/reload.ts).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as UWS from 'uWebSockets.js';
import type { Config } from '../config/options.js';

import { TlsFileError } from '../errors.js';

export { TlsFileError };

function read(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new TlsFileError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function certificates(file: string, flag: string): X509Certificate[] {
  const text = read(file, flag);
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new TlsFileError(`${flag} ${file}: no PEM certificate in the file`);
  return pems.map((pem) => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw new TlsFileError(`${flag} ${file}: not a readable certificate (${(e as Error).message})`);
    }
  });
}

function privateKey(file: string, flag: string): KeyObject {
  const text = read(file, flag);
  try {
    return createPrivateKey(text);
  } catch (e) {
    throw new TlsFileError(`${flag} ${file}: not a readable unencrypted PEM private key (${(e as Error).message})`);
  }
}

export interface TlsFiles {
  cert: X509Certificate;
  /** Days until the leaf certificate expires (negative: expired). */
  daysLeft: number;
}

/**
 * Check --tls-cert/--tls-key/--tls-ca: readable, PEM, the key matches the
 * certificate. Throws TlsFileError (one line). Undefined when TLS is off.
 */
export function checkTlsFiles(c: Pick<Config, 'tlsCert' | 'tlsKey' | 'tlsCa' | 'tlsClientAuth'>): TlsFiles | undefined {
  if (!c.tlsCert && !c.tlsKey) {
    if (c.tlsCa) throw new TlsFileError('--tls-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  if (!c.tlsCert) throw new TlsFileError('--tls-key needs --tls-cert');
  if (!c.tlsKey) throw new TlsFileError('--tls-cert needs --tls-key');
  const [leaf] = certificates(c.tlsCert, '--tls-cert');
  const key = privateKey(c.tlsKey, '--tls-key');
  if (!leaf!.checkPrivateKey(key)) {
    throw new TlsFileError(`--tls-key ${c.tlsKey}: does not match the certificate in ${c.tlsCert}`);
  }
  if (c.tlsCa) certificates(c.tlsCa, '--tls-ca');
  if (c.tlsCa && c.tlsClientAuth === 'require') {
    throw new TlsFileError(
      '--tls-client-auth require: uWebSockets.js 20.30 verifies client certificates that are presented but cannot ' +
        'refuse a client that presents none; use optional with --auth-tokens, or a TLS proxy that requires them (docs/security.md)',
    );
  }
  const daysLeft = (Date.parse(leaf!.validTo) - Date.now()) / 86_400_000;
  return { cert: leaf!, daysLeft };
}

/** The app of the listener: SSLApp over the checked files, or the plain App. */
export function createTlsApp(uws: typeof UWS, c: Config): { app: UWS.TemplatedApp; tls: TlsFiles | undefined } {
  const tls = checkTlsFiles(c);
  if (!tls) return { app: uws.App(), tls };
  const options: UWS.AppOptions = { cert_file_name: c.tlsCert, key_file_name: c.tlsKey };
  if (c.tlsCa) options.ca_file_name = c.tlsCa;
  try {
    return { app: uws.SSLApp(options), tls };
  } catch (e) {
    throw new TlsFileError(`cannot start TLS with --tls-cert ${c.tlsCert} --tls-key ${c.tlsKey}: ${(e as Error).message}`);
  }
}
