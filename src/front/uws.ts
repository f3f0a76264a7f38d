/**
 * Loads uWebSockets.js and refuses its silent pure-JS fallback.
 *
 * The npm build we depend on (@trufflesuite/uws-js-unofficial, aliased as
 * uWebSockets.js) catches a failed native load, prints a warning and returns a
 * slow Node.js implementation instead. Spillway's throughput rests on the
 * native server, so a fallback is a start-up error, not a warning.
 */
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

const require = createRequire(import.meta.url);

import { NativeServerError } from '../errors.js';

export { NativeServerError };

export function loadUws(): typeof UWS {
  if (/^(true|1)$/i.test(process.env.UWS_USE_FALLBACK ?? '')) {
    throw new NativeServerError('UWS_USE_FALLBACK is set; Spillway needs the native uWebSockets.js server: unset it');
  }
  const entry = require.resolve('uWebSockets.js');
  const binary = entry.replace(/src[\\/]uws\.js$/, '') +
    `binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    // Load the binary ourselves: a failure here is the reason the package would fall back.
    return require(binary) as typeof UWS;
  } catch (e) {
    throw new NativeServerError(
      `the native uWebSockets.js server does not load on ${process.platform}-${process.arch} ` +
        `Node ${process.version} (ABI ${process.versions.modules}): ${(e as Error).message.split('\n')[0]}. ` +
        'Spillway refuses to run on the slow pure-JS fallback; use Node 20 on Linux x64/arm64.',
    );
  }
}
