/**
 * Spillway's own error classes, in one place: each has a name (what the
 * class is) and a stable code (SPW_ERR_*), so that logs, tests and callers
 * can tell them apart without matching messages. The shape follows undici's
 * lib/core/errors.js (one base class, a name and a code per subclass) and
 * fastify's lib/errors.js (one table of codes); the HTTP refusals of the
 * intake, with their status codes, are listed in front/intake.ts.
 *
 * Every message is one line fit to print after `spillway: ` with exit code
 * 2 (start-up errors) and never holds a secret: a file is named, its content
 * never.
 *
 * Errors still defined beside their code (store/payload.ts PayloadError,
 * stage/batch.ts BatchError, sinks/types.ts DeliveryError) carry an HTTP
 * status or a retry hint of their own; they are candidates to move here.
 */
export class SpillwayError extends Error {
  override name = 'SpillwayError';
  readonly code: string = 'SPW_ERR';
}

/** A setting is wrong (flag, environment, --config, beat YAML): exit 2. */
export class ConfigError extends SpillwayError {
  override name = 'ConfigError';
  override readonly code = 'SPW_ERR_CONFIG';
}

/** --tls-cert, --tls-key or --tls-ca cannot be used (unreadable, no PEM, key does not match, ...). */
export class TlsFileError extends SpillwayError {
  override name = 'TlsFileError';
  override readonly code = 'SPW_ERR_TLS_FILE';
}

/** --auth-tokens or --in-auth-tokens cannot be read or parsed (names the line, never the token). */
export class TokenFileError extends SpillwayError {
  override name = 'TokenFileError';
  override readonly code = 'SPW_ERR_TOKEN_FILE';
}

/** The edge's link to its stage: --ingest-token(-file), --ingest-ca, --ingest-cert, --ingest-key. */
export class LinkFileError extends SpillwayError {
  override name = 'LinkFileError';
  override readonly code = 'SPW_ERR_LINK_FILE';
}

/** A NAME_FILE secret (ES_PASSWORD_FILE, ...) that cannot be read, is empty, or comes with NAME. */
export class SecretFileError extends SpillwayError {
  override name = 'SecretFileError';
  override readonly code = 'SPW_ERR_SECRET_FILE';
}

/** The native uWebSockets.js server does not load (Spillway refuses the pure-JS fallback). */
export class NativeServerError extends SpillwayError {
  override name = 'NativeServerError';
  override readonly code = 'SPW_ERR_NATIVE_SERVER';
}
