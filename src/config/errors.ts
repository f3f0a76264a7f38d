/** A configuration error: one line, printed as `spillway: <message>` with exit code 2 (defined in src/errors.ts). */
export { ConfigError } from '../errors.js';
