// spillway --version, spillway help [MODE], spillway MODE --help: each mode
// shows only its flags, sizes in binary units, and the full help keeps every
// flag (test/unit/config.test.mjs checks helpText itself).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, ROOT } from '../helpers/daemon.mjs';
import { OPTIONS } from '../../dist/config/options.js';
import { flagInMode, humanBytes } from '../../dist/cli/help.js';
import { parseBytes } from '../../dist/config/parse.js';

const flagsIn = (text) => new Set([...text.matchAll(/^ {2}--([a-z0-9-]+) +.*\[[A-Z0-9_]+\] \(default: /gm)].map((m) => m[1]));

describe('spillway --version', () => {
  test('prints the version, Node and uWebSockets.js', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const uws = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'uWebSockets.js', 'package.json'), 'utf8'));
    for (const args of [['--version'], ['version'], ['edge', '--version']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `spillway ${pkg.version} (Node ${process.versions.node}, uWebSockets.js ${uws.version})\n`);
    }
  });
});

describe('per-mode help', () => {
  test('each mode lists exactly the flags it reads', async () => {
    for (const mode of ['all', 'edge', 'beat', 'rxtx']) {
      for (const args of [[mode, '--help'], ['help', mode]]) {
        const r = await runCli(args);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^Usage: spillway ${mode} `));
        const want = new Set(OPTIONS.filter((o) => flagInMode(o, mode)).map((o) => o.flag));
        assert.deepEqual([...flagsIn(r.stdout)].sort(), [...want].sort(), args.join(' '));
      }
    }
  });

  test('edge has no output flags, beat no store flags, all has both', async () => {
    const edge = flagsIn((await runCli(['edge', '--help'])).stdout);
    const beat = flagsIn((await runCli(['beat', '--help'])).stdout);
    const all = flagsIn((await runCli(['all', '--help'])).stdout);
    for (const f of ['es', 'index', 'output', 'bulk-bytes', 'ack-timeout']) assert.ok(!edge.has(f), `edge shows --${f}`);
    for (const f of ['ingest', 'shards', 'maxq', 'path', 'tx-timeout']) assert.ok(!beat.has(f), `beat shows --${f}`);
    for (const f of ['es', 'index', 'shards', 'maxq', 'path']) assert.ok(all.has(f), `all lacks --${f}`);
    for (const f of ['ingest', 'ack-timeout']) assert.ok(!all.has(f), `all shows --${f}`);
  });

  test('rxtx mode shows its own defaults', async () => {
    const r = await runCli(['rxtx', '--help']);
    assert.match(r.stdout, /--interval .*\(default: 60\)/);
    assert.match(r.stdout, /--maxq .*\(default: 100000\)/);
  });

  test('sizes in binary units, and they parse back', async () => {
    const r = await runCli(['beat', '--help']);
    assert.match(r.stdout, /--max-inflight-bytes .*\(default: 256 MiB\)/);
    assert.match(r.stdout, /--bulk-bytes .*\(default: 5 MiB\)/);
    for (const n of [0, 1, 1000, 1024, 5 * 1024 * 1024, 64 * 1024 * 1024, 3 * 1024 ** 3, 1536]) {
      const h = humanBytes(n);
      assert.equal(parseBytes(h), n, `${n} → ${h}`);
    }
    assert.equal(humanBytes(1536), '1536 B');
  });

  test('the full help keeps every flag, with sizes in binary units', async () => {
    for (const args of [['--help'], ['help']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([...flagsIn(r.stdout)].sort(), OPTIONS.map((o) => o.flag).sort());
      assert.match(r.stdout, /--max-batch-body .*\(default: 64 MiB\)/);
      assert.doesNotMatch(r.stdout, /\(default: 67108864\)/);
    }
  });

  test('an unknown mode is one line on stderr and exit 2', async () => {
    const r = await runCli(['help', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^spillway: help: unknown mode "nope"/);
  });
});
