// Where promtool is: $PROMTOOL, else the one deploy/scripts/tools.sh builds
// into the cache (/var/cache/spillway/bin/promtool, a link to the versioned
// binary). Under CI a test that needs it fails when it is missing.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export function promtoolPath() {
  const cache = process.env.SPILLWAY_CACHE ?? '/var/cache/spillway';
  for (const p of [process.env.PROMTOOL, `${cache}/bin/promtool`]) if (p && existsSync(p)) return p;
  return undefined;
}

/** The promtool path, or undefined after t.skip (outside CI); throws under CI. */
export function requirePromtool(t) {
  const p = promtoolPath();
  if (p) return p;
  const why = 'promtool is not installed (bash deploy/scripts/tools.sh builds it)';
  if (process.env.CI) throw new Error(why);
  t.skip(why);
  return undefined;
}

/** Run promtool with `args` (and `input` on stdin): { status, stdout, stderr }. */
export function promtool(path, args, input) {
  const r = spawnSync(path, args, { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}\n${r.stderr}` };
}

/** The promtool path; without one: throws under CI, else notes it on `t` and returns undefined (the test goes on). */
export function promtoolOrNote(t) {
  const p = promtoolPath();
  if (p) return p;
  const why = 'promtool is not installed (bash deploy/scripts/tools.sh builds it)';
  if (process.env.CI) throw new Error(why);
  t.diagnostic(`${why}: promtool check metrics not run`);
  return undefined;
}
