// The CLI contract: start-up errors are one line on stderr and exit code 2,
// --help exits 0, SIGTERM stops quickly with 0, and a foreign file where a
// shard should be is refused and left untouched.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { MAIN, freePort, removeDir, runCli, runProcess, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import { post, sleep } from '../helpers/edge-client.mjs';

/** Exit 2 with exactly one non-empty line on stderr, no stack trace. */
function assertOneLineError(r, mention, what) {
  const shown = `${what}: code ${r.code} signal ${r.signal}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 500)}`;
  assert.equal(r.signal, null, shown);
  assert.equal(r.code, 2, shown);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: stderr is not one line:\n${r.stderr}`);
  assert.ok(lines[0].length > 0, `${what}: empty stderr`);
  assert.ok(!/^\s+at /m.test(r.stderr), `${what}: stack trace on stderr`);
  if (mention) assert.match(lines[0], mention, `${what}: the error does not say what is wrong`);
}

/** Cleanups for one test, run last-registered first (a daemon stops before its directory goes). */
function deferrer(t) {
  const fns = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn) => fns.push(fn);
}

/** runCli, as another user (spawn's uid/gid) when given. */
function runCliAs(args, { uid, gid } = {}, timeoutMs = 8000) {
  return runProcess(process.execPath, [MAIN, ...args], { uid, gid, cwd: '/', timeoutMs });
}

/** Edge arguments that would start fine on their own. */
async function edgeArgs(dir) {
  return ['edge', '--host', '127.0.0.1', '--port', String(await freePort()), '--path', dir, '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'warn'];
}

describe('--help', () => {
  // Without a mode: every flag. With one: that mode's flags only (test/metrics/help.test.mjs checks which).
  const shown = {
    all: ['--port', '--path', '--name', '--shards', '--batch', '--interval', '--maxq', '--es', '--index'],
    edge: ['--port', '--path', '--name', '--shards', '--batch', '--interval', '--maxq', '--ingest'],
    beat: ['--port', '--name', '--es', '--index'],
  };
  for (const args of [['--help'], ['-h'], ['edge', '--help'], ['beat', '--help'], ['all', '--help']]) {
    test(`${args.join(' ')} prints usage and exits 0`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Usage: spillway/);
      const flags = args.length === 1 ? [...shown.all, '--ingest'] : shown[args[0]];
      for (const flag of flags) {
        assert.ok(r.stdout.includes(flag), `--help does not list ${flag}`);
      }
      assert.equal(r.stderr, '');
    });
  }
});

describe('configuration errors → one line on stderr, exit 2', () => {
  const cases = [
    ['unknown flag', ['--bogus', '1'], /bogus/],
    ['unknown flag with =', ['--no-such-flag=3'], /no-such-flag/],
    ['negative --batch', ['--batch', '-5'], /batch/],
    ['negative --batch with =', ['--batch=-1'], /batch/],
    ['zero --batch', ['--batch', '0'], /batch/],
    ['fractional --batch', ['--batch', '1.5'], /batch/],
    ['non-numeric --batch', ['--batch', 'many'], /batch/],
    ['--port above 65535', ['--port', '70000'], /port/],
    ['negative --port', ['--port', '-1'], /port/],
    ['--maxq 0', ['--maxq', '0'], /maxq/],
    ['negative --interval', ['--interval', '-1'], /interval/],
    ['--overflow not a choice', ['--overflow', 'sideways'], /overflow/],
    ['--ingest not a URL', ['--ingest', 'not a url'], /ingest/],
    ['--ingest not http', ['--ingest', 'ftp://127.0.0.1/in'], /ingest/],
    ['--name with a space', ['--name', 'bad name'], /name/],
    ['--max-body not a size', ['--max-body', '5XB'], /max-body/],
    ['flag without its value', ['--port'], /port/],
    ['stray argument', ['oops'], /oops/],
  ];
  for (const [what, extra, mention] of cases) {
    test(what, async () => {
      const dir = tempDir('spillway-cli-');
      try {
        const r = await runCli([...(await edgeArgs(dir)), ...extra]);
        assertOneLineError(r, mention, what);
      } finally {
        removeDir(dir);
      }
    });
  }

  test('unknown mode', async () => {
    const r = await runCli(['edgy', '--port', '0']);
    assertOneLineError(r, /edgy/, 'unknown mode');
  });

  test('a bad value from the environment (SPILLWAY_BATCH=-1)', async () => {
    const dir = tempDir('spillway-cli-');
    try {
      const r = await runCli(await edgeArgs(dir), { env: { SPILLWAY_BATCH: '-1' } });
      assertOneLineError(r, /SPILLWAY_BATCH/, 'SPILLWAY_BATCH=-1');
    } finally {
      removeDir(dir);
    }
  });
});

describe('environment variables', () => {
  test('SPILLWAY_PORT, SPILLWAY_PATH, SPILLWAY_INGEST and SPILLWAY_NAME configure an edge', async (t) => {
    const dir = tempDir('spillway-cli-');
    const rcv = await startReceiver();
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN, 'edge', '--host', '127.0.0.1', '--interval', '0.2'], {
      env: {
        ...process.env, SPILLWAY_PORT: String(port), SPILLWAY_PATH: dir, SPILLWAY_INGEST: rcv.url,
        SPILLWAY_NAME: 'fromenv', SPILLWAY_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    t.after(async () => {
      child.kill('SIGKILL');
      await exited;
      await rcv.close();
      removeDir(dir);
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor('the edge on SPILLWAY_PORT', async () => (await fetch(url + '/healthz').catch(() => undefined))?.ok, { timeoutMs: 20_000 });
    const s = await stats(url);
    assert.equal(s.name, 'fromenv');
    const r = await post(url, '/rx/env/k/l', '{"env":true}');
    assert.equal(r.status, 200);
    await waitFor('delivery to SPILLWAY_INGEST', () => rcv.state.counts.has(r.json.uuid), { timeoutMs: 20_000 });
    assert.ok(statSync(join(dir, 'fromenv-00.mdb')).isFile());
  });

  test('a flag wins over its environment variable', async (t) => {
    const defer = deferrer(t);
    const dir = tempDir('spillway-cli-');
    defer(() => removeDir(dir));
    const d = await startDaemon('edge', ['--path', dir, '--ingest', 'http://127.0.0.1:9/in', '--name', 'fromflag', '--log-level', 'warn'], {
      env: { SPILLWAY_NAME: 'fromenv' },
    });
    defer(() => d.stop());
    assert.equal((await stats(d.url)).name, 'fromflag');
  });
});

describe('unwritable --path → one line, exit 2', () => {
  test('--path below a regular file', async () => {
    const dir = tempDir('spillway-cli-');
    try {
      writeFileSync(join(dir, 'plainfile'), 'x');
      const r = await runCli([...(await edgeArgs(dir)), '--path', join(dir, 'plainfile', 'data')]);
      assertOneLineError(r, /path|plainfile/, 'path below a file');
    } finally {
      removeDir(dir);
    }
  });

  test('--path that is a regular file', async () => {
    const dir = tempDir('spillway-cli-');
    try {
      writeFileSync(join(dir, 'plainfile'), 'x');
      const r = await runCli([...(await edgeArgs(dir)), '--path', join(dir, 'plainfile')]);
      assertOneLineError(r, /path|plainfile/, 'path is a file');
      assert.equal(readFileSync(join(dir, 'plainfile'), 'utf8'), 'x');
    } finally {
      removeDir(dir);
    }
  });

  test('--path in a directory the daemon may not write to (EACCES)', async () => {
    const dir = tempDir('spillway-cli-');
    try {
      const ro = join(dir, 'readonly');
      mkdirSync(ro);
      chmodSync(dir, 0o755);
      chmodSync(ro, 0o555);
      // Root writes anywhere: run the daemon as nobody then.
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      for (const path of [join(ro, 'data'), ro]) {
        const r = await runCliAs([...(await edgeArgs(dir)), '--path', path], asUser);
        assertOneLineError(r, /path|readonly/, `--path ${path}`);
      }
    } finally {
      chmodSync(join(dir, 'readonly'), 0o755);
      removeDir(dir);
    }
  });

  test('--path on a file system that refuses new entries (/proc)', async () => {
    const dir = tempDir('spillway-cli-');
    try {
      const r = await runCli([...(await edgeArgs(dir)), '--path', '/proc/spillway-test-data'], { timeoutMs: 8000 });
      assertOneLineError(r, /path|proc/, '/proc');
    } finally {
      removeDir(dir);
    }
  });
});

describe('port in use → one line, exit 2', () => {
  test('held by another program', async () => {
    const dir = tempDir('spillway-cli-');
    const srv = net.createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = srv.address().port;
      const r = await runCli(['edge', '--host', '127.0.0.1', '--port', String(port), '--path', dir, '--ingest', 'http://127.0.0.1:9/in']);
      assertOneLineError(r, new RegExp(String(port)), 'port held by net.Server');
    } finally {
      srv.close();
      removeDir(dir);
    }
  });

  test('held by another Spillway', async (t) => {
    const dir1 = tempDir('spillway-cli-');
    const dir2 = tempDir('spillway-cli-');
    const d = await startDaemon('edge', ['--path', dir1, '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'warn']);
    t.after(async () => {
      await d.stop();
      removeDir(dir1);
      removeDir(dir2);
    });
    const r = await runCli(['edge', '--host', '127.0.0.1', '--port', String(d.port), '--path', dir2, '--ingest', 'http://127.0.0.1:9/in'], {
      timeoutMs: 8000,
    });
    assertOneLineError(r, new RegExp(String(d.port)), 'port held by a spillway');
  });
});

describe('signals', () => {
  test('SIGTERM on an idle edge exits 0 quickly', async (t) => {
    const defer = deferrer(t);
    const dir = tempDir('spillway-cli-');
    defer(() => removeDir(dir));
    const rcv = await startReceiver();
    defer(() => rcv.close());
    const d = await startDaemon('edge', ['--path', dir, '--ingest', rcv.url, '--interval', '0.2', '--log-level', 'warn']);
    defer(() => d.kill());
    const r = await post(d.url, '/rx/sig/k/l', '{}');
    assert.equal(r.status, 200);
    await waitFor('delivery', () => rcv.state.counts.size === 1, { timeoutMs: 10_000 });
    const t0 = Date.now();
    const exit = await d.stop('SIGTERM');
    const ms = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(ms < 3000, `SIGTERM took ${ms} ms`);
  });

  test('SIGINT exits 0 too', async (t) => {
    const defer = deferrer(t);
    const dir = tempDir('spillway-cli-');
    defer(() => removeDir(dir));
    const d = await startDaemon('edge', ['--path', dir, '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'warn']);
    defer(() => d.kill());
    const exit = await d.stop('SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('SIGTERM with a backlog and the stage down exits 0 quickly, keeping the backlog', async (t) => {
    const defer = deferrer(t);
    const dir = tempDir('spillway-cli-');
    defer(() => removeDir(dir));
    const ingest = `http://127.0.0.1:${await freePort()}/in`;
    const args = ['--path', dir, '--ingest', ingest, '--interval', '0.2', '--retry-max', '0.5', '--log-level', 'warn'];
    const d = await startDaemon('edge', args);
    defer(() => d.kill());
    for (let i = 0; i < 50; i++) assert.equal((await post(d.url, `/rx/sig/k${i % 4}/l`, JSON.stringify({ i }))).status, 200);
    await waitFor('failed deliveries', async () => (await stats(d.url)).edge.txFails >= 2, { timeoutMs: 10_000 });
    const t0 = Date.now();
    const exit = await d.stop('SIGTERM');
    const ms = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null });
    // Retrying a stage that refuses connections is no reason to hold up a stop.
    assert.ok(ms < 5000, `SIGTERM took ${ms} ms with the stage down`);
    const d2 = await startDaemon('edge', args);
    defer(() => d2.kill());
    assert.equal((await stats(d2.url)).edge.inQueue, 50);
  });
});

describe('a corrupt or foreign file where a shard belongs', () => {
  const fingerprint = (file) => {
    const st = statSync(file);
    return { sha: createHash('sha256').update(readFileSync(file)).digest('hex'), size: st.size, mtimeMs: st.mtimeMs, mode: st.mode };
  };
  const foreign = {
    'random bytes': () => randomBytes(64 * 1024),
    'a text file': () => Buffer.from('this is not an LMDB file\n'.repeat(10)),
    'a single page of zeros': () => Buffer.alloc(4096),
    'a JSON file': () => Buffer.from(JSON.stringify({ some: 'config', list: [1, 2, 3] })),
  };
  for (const [what, make] of Object.entries(foreign)) {
    test(`${what} at <path>/rxtx-00.mdb → exit 2, file untouched`, async () => {
      const dir = tempDir('spillway-cli-');
      try {
        const file = join(dir, 'rxtx-00.mdb');
        writeFileSync(file, make());
        const before = fingerprint(file);
        await sleep(20);
        const r = await runCli(await edgeArgs(dir));
        assert.deepEqual(fingerprint(file), before, 'the foreign file was modified');
        assertOneLineError(r, /rxtx-00\.mdb/, what);
      } finally {
        removeDir(dir);
      }
    });
  }

  // Real shards written by a real daemon, then damaged: before the meta-page
  // check each of these killed the daemon natively (SIGBUS, SIGSEGV) at
  // every start, without a word.
  describe('a real shard, damaged', () => {
    let made;
    const realShard = async () => {
      if (made) return made;
      const dir = tempDir('spillway-cli-real-');
      const d = await startDaemon('edge', ['--path', dir, '--shards', '1', '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'warn']);
      const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(200) })).join('\n');
      for (let i = 0; i < 20; i++) assert.equal((await post(d.url, '/rxb/p/k/l', lines)).status, 200);
      assert.deepEqual(await d.stop('SIGTERM'), { code: 0, signal: null });
      made = readFileSync(join(dir, 'rxtx-00.mdb'));
      removeDir(dir);
      return made;
    };
    const damages = {
      'truncated to half': (b) => b.subarray(0, Math.floor(b.length / 2 / 4096) * 4096),
      'cut inside its meta pages': (b) => b.subarray(0, 5000),
      'garbage in a meta page': (b) => {
        const c = Buffer.from(b);
        randomBytes(200).copy(c, 100);
        c.writeUInt32LE(0xbeefc0de, 24); // the magic survives
        return c;
      },
    };
    for (const [what, damage] of Object.entries(damages)) {
      test(`${what} → exit 2 naming the file and the damage, file untouched`, async () => {
        const dir = tempDir('spillway-cli-');
        try {
          const file = join(dir, 'rxtx-00.mdb');
          writeFileSync(file, damage(await realShard()));
          const before = fingerprint(file);
          const r = await runCli([...(await edgeArgs(dir)), '--shards', '1']);
          assert.deepEqual(fingerprint(file), before, 'the damaged file was modified');
          assertOneLineError(r, /rxtx-00\.mdb is a damaged LMDB shard \((it is truncated|meta page \d)/, what);
        } finally {
          removeDir(dir);
        }
      });
    }
  });

  test('a foreign file at a later shard (rxtx-02.mdb) → exit 2, file untouched', async () => {
    const dir = tempDir('spillway-cli-');
    try {
      const file = join(dir, 'rxtx-02.mdb');
      writeFileSync(file, randomBytes(16 * 1024));
      const before = fingerprint(file);
      const r = await runCli(await edgeArgs(dir));
      assert.deepEqual(fingerprint(file), before, 'the foreign file was modified');
      assertOneLineError(r, /rxtx-02\.mdb/, 'rxtx-02.mdb');
    } finally {
      removeDir(dir);
    }
  });

  test('a directory where the shard file belongs → exit 2', async () => {
    const dir = tempDir('spillway-cli-');
    try {
      mkdirSync(join(dir, 'rxtx-00.mdb'));
      const r = await runCli(await edgeArgs(dir));
      assertOneLineError(r, /rxtx-00\.mdb/, 'directory');
    } finally {
      removeDir(dir);
    }
  });

  test('a foreign rxtx-00.mdb does not concern a daemon with another --name', async (t) => {
    const defer = deferrer(t);
    const dir = tempDir('spillway-cli-');
    defer(() => removeDir(dir));
    const file = join(dir, 'rxtx-00.mdb');
    writeFileSync(file, 'not ours');
    const before = fingerprint(file);
    const d = await startDaemon('edge', ['--path', dir, '--name', 'other', '--ingest', 'http://127.0.0.1:9/in', '--log-level', 'warn']);
    await d.stop();
    assert.deepEqual(fingerprint(file), before);
  });
});
