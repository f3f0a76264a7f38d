/**
 * What this build is: Spillway's version (package.json), Node's and the
 * uWebSockets.js build's. Read once; `spillway --version` and the
 * spillway_build_info gauge print the same three.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface BuildInfo {
  version: string;
  node: string;
  uws: string;
}

let cached: BuildInfo | undefined;

function packageVersion(url: URL): string {
  try {
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let uws = 'unknown';
  try {
    // The npm alias's version is "20.30.0-unofficial.0": the uWS release it builds, and the packager's suffix.
    uws = (require('uWebSockets.js/package.json') as { version: string }).version;
  } catch {
    // package.json not exported or the package missing: the daemon's own start says why.
  }
  cached = {
    version: packageVersion(new URL('../../package.json', import.meta.url)),
    node: process.versions.node,
    uws,
  };
  return cached;
}
