// The npm "test" script runs test files only. `node --test test/` (Node 20)
// also runs every other .mjs under a directory named test (helpers, chaos
// scenarios, the chaos runner) and counts each as a passing test, so the
// script names the files by a shell glob instead. These checks keep that
// glob and the tree in step: a test file the glob cannot reach would
// silently never run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/daemon.mjs';

const GLOB = 'test/*/*.test.mjs';

function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(relative(ROOT, p));
  }
  return out;
}

test('npm test runs the test files by the glob test/*/*.test.mjs, not the whole test/ tree', () => {
  const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.test;
  const args = script.split('&&').pop().trim().split(/\s+/);
  assert.equal(args[0], 'node');
  assert.ok(args.includes('--test'), script);
  const paths = args.filter((a) => !a.startsWith('-') && a !== 'node');
  assert.deepEqual(paths, [GLOB], `the test script runs ${paths.join(' ')}`);
});

test('every *.test.mjs under test/ is reached by that glob, and nothing else it reaches is a helper', () => {
  const all = filesUnder(join(ROOT, 'test')).filter((f) => /\.[cm]?js$/.test(f));
  const tests = all.filter((f) => f.endsWith('.test.mjs'));
  const reached = (f) => /^test\/[^/]+\/[^/]+\.test\.mjs$/.test(f);
  assert.deepEqual(tests.filter((f) => !reached(f)), [], 'test files the npm test glob does not reach');
  assert.ok(tests.length >= 20, `only ${tests.length} test files found`);
  // Other test-runner file names Node would pick up by default do not exist either.
  const otherNames = all.filter((f) => !f.endsWith('.test.mjs') && /(^|\/)(test-[^/]*|[^/]*[-_.]test\.[cm]?js|test\.[cm]?js)$/.test(f));
  assert.deepEqual(otherNames, [], 'files named like tests that the glob leaves out');
});
