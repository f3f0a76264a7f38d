/**
 * The security flags: TLS on the listener, bearer tokens on /rx* and /in,
 * a per-token rate limit, CORS, and the edge's credentials towards its
 * stage. Each flag also has its SPILLWAY_* environment variable and its key
 * in --config (the same table drives all three: config/options.ts). Secrets
 * are files, so that they stay out of `ps` and the environment; the one
 * exception, --ingest-token, has --ingest-token-file beside it.
 */
import type { OptionSpec } from '../config/options.js';

export interface SecurityConfig {
  tlsCert: string;
  tlsKey: string;
  tlsCa: string;
  tlsClientAuth: string;
  opsPort: number;
  opsHost: string;
  authTokens: string;
  inAuthTokens: string;
  corsOrigins: string[];
  rateLimit: number;
  rateBurst: number;
  ingestToken: string;
  ingestTokenFile: string;
  ingestCa: string;
  ingestCert: string;
  ingestKey: string;
  ingestGzip: string;
}

function opt(
  key: keyof SecurityConfig, flag: string, kind: OptionSpec['kind'], def: unknown, help: string,
  extra: Partial<OptionSpec> = {},
): OptionSpec {
  return { key, flag, env: 'SPILLWAY_' + flag.toUpperCase().replace(/-/g, '_'), kind, def, help, ...extra };
}

export const SECURITY_FLAGS: readonly OptionSpec[] = [
  opt('tlsCert', 'tls-cert', 'string', '', 'PEM certificate (chain) file: serve HTTPS (TLS 1.2+) instead of HTTP'),
  opt('tlsKey', 'tls-key', 'string', '', 'PEM private key file of --tls-cert'),
  opt('tlsCa', 'tls-ca', 'string', '', 'PEM CA file: client certificates presented must chain to it'),
  opt('tlsClientAuth', 'tls-client-auth', 'string', 'optional', 'with --tls-ca: optional (verify the certificates presented); require is refused: uWebSockets.js cannot enforce it (docs/security.md)', {
    choices: ['optional', 'require'],
  }),
  opt('opsPort', 'ops-port', 'int', 0, 'serve /metrics /stats /healthz /readyz on this port instead of --port (0: on --port)', { min: 0 }),
  opt('opsHost', 'ops-host', 'string', '127.0.0.1', 'address of --ops-port'),
  opt('authTokens', 'auth-tokens', 'string', '', 'file of bearer tokens for /rx* (one a line: TOKEN [producer,...]); reread on SIGHUP'),
  opt('inAuthTokens', 'in-auth-tokens', 'string', '', 'file of bearer tokens for /in (one a line); reread on SIGHUP'),
  opt('corsOrigins', 'cors-origins', 'list', ['*'], 'origins browsers may post from, comma-separated (* for any, as rxtx)'),
  opt('rateLimit', 'rate-limit', 'number', 0, 'requests per second per token (per client address without tokens); 0: no limit', { min: 0 }),
  opt('rateBurst', 'rate-burst', 'number', 0, 'requests a token may send at once above --rate-limit (0: one second of --rate-limit)', { min: 0 }),
  opt('ingestToken', 'ingest-token', 'string', '', 'edge: bearer token sent to the stage (prefer --ingest-token-file)'),
  opt('ingestTokenFile', 'ingest-token-file', 'string', '', 'edge: file holding the bearer token sent to the stage'),
  opt('ingestCa', 'ingest-ca', 'string', '', "edge: PEM CA file the stage's certificate must chain to"),
  opt('ingestCert', 'ingest-cert', 'string', '', 'edge: PEM client certificate presented to the stage'),
  opt('ingestKey', 'ingest-key', 'string', '', 'edge: PEM private key of --ingest-cert'),
  opt('ingestGzip', 'ingest-gzip', 'string', 'auto', 'edge: gzip batches to the stage: auto (once the stage answers Accept-Encoding: gzip), on, off', {
    choices: ['auto', 'on', 'off'],
  }),
];
