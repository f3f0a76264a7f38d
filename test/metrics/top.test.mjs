// spillway top under a pseudo-terminal (tmux): against a loaded edge its row
// shows figures that move from one second to the next, and a URL where
// nothing listens keeps its row, marked unreachable. tmux runs on a socket of
// its own (-L), killed at the end whatever happens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { startDaemon, tempDir, removeDir, freePort, waitFor, MAIN } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import { postLoop } from '../../load/lib/post-loop.mjs';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** The cells of the row that starts with `url` (columns are two or more spaces apart), or undefined. */
function rowOf(screen, url) {
  const line = screen.split('\n').find((l) => l.startsWith(url));
  return line?.trim().split(/\s{2,}/);
}

test('spillway top shows moving figures for a loaded edge and marks an unreachable one', { timeout: 120_000 }, async (t) => {
  if (!hasTmux) {
    const why = 'tmux is not installed (apt-get install tmux)';
    if (process.env.CI) throw new Error(why);
    return t.skip(why);
  }
  // Undone in reverse order at the end, whatever happens: tmux, the load, the edge, the receiver, the directory.
  const undo = [];
  t.after(async () => {
    for (const f of undo.reverse()) await f();
  });
  const dir = tempDir();
  undo.push(() => removeDir(dir));
  const receiver = await startReceiver();
  undo.push(() => receiver.close());
  const edge = await startDaemon('edge', ['--path', dir, '--ingest', receiver.url, '--interval', '0.2', '--log-level', 'warn']);
  undo.push(() => edge.kill());
  const dead = `http://127.0.0.1:${await freePort()}`;

  let loading = true;
  const load = postLoop(edge.url, { total: 10_000_000, connections: 4, stopWhen: () => !loading });
  undo.push(async () => {
    loading = false;
    await load;
  });

  const socket = `spillway-top-${process.pid}-${Date.now()}`;
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  undo.push(() => spawnSync('tmux', ['-L', socket, 'kill-server']));
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'top', '-x', '200', '-y', '20',
    `${process.execPath} ${MAIN} top ${edge.url} ${dead}; sleep 60`);
  const capture = () => tmux('capture-pane', '-p', '-t', 'top');

  // Two readings are needed for a rate: wait for a row with in/s above 0.
  const first = await waitFor('a row with in/s > 0', () => {
    const cells = rowOf(capture(), edge.url);
    return cells && Number(cells[2]) > 0 ? cells : undefined;
  }, { timeoutMs: 30_000, everyMs: 200 });
  assert.equal(first[1], 'edge');
  // The next second's figures differ (in/s, out/s, backlog or the p99 move under load).
  const second = await waitFor('the row to change', () => {
    const cells = rowOf(capture(), edge.url);
    return cells && cells.slice(2, 8).join(' ') !== first.slice(2, 8).join(' ') ? cells : undefined;
  }, { timeoutMs: 15_000, everyMs: 200 });
  assert.ok(Number(second[2]) > 0 || second[2].endsWith('k'), `in/s ${second[2]}`);

  const screen = capture();
  const deadRow = screen.split('\n').find((l) => l.startsWith(dead));
  assert.ok(deadRow, `no row for ${dead}:\n${screen}`);
  assert.match(deadRow, /unreachable: ECONNREFUSED/);
  assert.match(screen, /^spillway top — \d\d:\d\d:\d\d UTC — 1\/2 answering/m);
  assert.match(screen, /^fleet .* 1 unreachable/m);
  if (process.env.SPILLWAY_TOP_SCREEN) console.log(screen);

  // q quits, and the terminal gets its cursor back.
  tmux('send-keys', '-t', 'top', 'q');
  await waitFor('top to exit on q', () => tmux('display-message', '-p', '-t', 'top', '#{pane_current_command}').trim() === 'sleep', { timeoutMs: 10_000 });
});

test('spillway top --once: two readings, plain text, exit 1 when one daemon does not answer', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const { spawnSync: run } = await import('node:child_process');
  const r = run(process.execPath, [MAIN, 'top', '--once', '--interval', '0.2', dead], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, new RegExp(`^${dead.replace(/[.]/g, '\\.')} +unreachable: ECONNREFUSED`, 'm'));
  assert.doesNotMatch(r.stdout, /\x1b\[/);
  const bad = run(process.execPath, [MAIN, 'top', 'ftp://x'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not an http\(s\) URL/);
});
