/** A configuration error: one line, printed as `spillway: <message>` with exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
