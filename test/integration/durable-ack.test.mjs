// "An acknowledged message is on disk before the 200 leaves." A SIGKILL test
// cannot catch a missing fsync (the page cache outlives the process), so this
// one watches the system calls: the real daemon runs under strace, answers a
// known sequence of POSTs one at a time, and for each answer the trace must
// show that every write to a shard file since the previous answer was made
// durable (an fdatasync/fsync of that file after the write, or a write
// through a descriptor opened O_DSYNC/O_SYNC) before the sendto that carries
// the 200 with that message's uuid.
//
// Needs strace and ptrace: under CI a missing one fails the test (.ci/run
// installs strace); elsewhere the test is skipped with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, tempDir, removeDir, freePort } from '../helpers/daemon.mjs';
import { post, getJson } from '../helpers/edge-client.mjs';

const TRACED = 'openat,fdatasync,fsync,msync,sync_file_range,pwrite64,pwritev,pwritev2,write,writev,sendto,sendmsg';

function straceWorks() {
  try {
    execFileSync('strace', ['-f', '-o', '/dev/null', '-e', 'trace=write', 'true'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * strace -f -tt -y output → events in the order strace saw them. A call split
 * into "<unfinished ...>" and "<... resumed>" becomes one event at the
 * resumed line (its completion), with the arguments of the first line.
 */
function parseTrace(text) {
  const pending = new Map();
  const events = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const m = /^(\d+) +\S+ (.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m;
    let call;
    let result;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const start = pending.get(pid);
      pending.delete(pid);
      if (!start || start.name !== resumed[1]) continue;
      call = start;
      result = resumed[2];
    } else {
      const c = /^(\w+)\((.*)$/.exec(rest);
      if (!c) continue;
      if (rest.endsWith('<unfinished ...>')) {
        pending.set(pid, { name: c[1], args: c[2], startLine: i });
        continue;
      }
      call = { name: c[1], args: c[2], startLine: i };
      result = c[2];
    }
    const ret = /\) += (-?\d+)/.exec(result);
    const fd = /^(\d+)<([^>]*)>/.exec(call.args);
    events.push({
      line: i, startLine: call.startLine, pid, name: call.name, args: call.args,
      ok: ret ? Number(ret[1]) >= 0 : false, ret: ret ? Number(ret[1]) : undefined,
      fd: fd ? Number(fd[1]) : undefined, path: fd ? fd[2] : undefined, result,
    });
  }
  return events;
}

const SYNCS = new Set(['fdatasync', 'fsync', 'sync_file_range', 'msync']);
const WRITES = new Set(['pwrite64', 'pwritev', 'pwritev2', 'write', 'writev']);

/**
 * For each uuid answered (in order), the verdict of its window: the shard
 * writes since the previous HTTP answer and whether each was durable before
 * the answer. Returns [{ uuid, writes, syncs, undurable: [...] }].
 */
function durabilityWindows(events, isShard) {
  const dsyncFds = new Map(); // fd → opened with O_DSYNC/O_SYNC (latest openat of a shard)
  const answers = [];
  let windowStart = -1;
  let writes = [];
  let syncs = [];
  for (const e of events) {
    if (e.name === 'openat' && e.ok) {
      const path = /"([^"]*)"/.exec(e.args)?.[1];
      if (path && isShard(path)) dsyncFds.set(e.ret, /O_DSYNC|O_SYNC/.test(e.args));
      continue;
    }
    if (e.name === 'sendto' || e.name === 'sendmsg' || (WRITES.has(e.name) && e.path?.startsWith('socket:'))) {
      if (!/HTTP\/1\.[01] \d{3}/.test(e.args)) continue;
      const uuid = /\\"uuid\\":\\"([0-9a-f-]{36})\\"/.exec(e.args)?.[1];
      if (uuid) {
        const undurable = writes.filter((w) => !w.dsync && !syncs.some((s) => s.line > w.line && (s.name === 'msync' || s.path === w.path)));
        answers.push({ uuid, status: Number(/HTTP\/1\.[01] (\d{3})/.exec(e.args)[1]), writes: writes.length, syncs: syncs.length, undurable, from: windowStart, at: e.startLine });
      }
      windowStart = e.startLine;
      writes = [];
      syncs = [];
      continue;
    }
    if (WRITES.has(e.name) && e.path && isShard(e.path) && e.ok) {
      writes.push({ line: e.line, path: e.path, fd: e.fd, dsync: dsyncFds.get(e.fd) === true, name: e.name });
    } else if (SYNCS.has(e.name) && e.ok && (e.name === 'msync' || (e.path && isShard(e.path)))) {
      syncs.push({ line: e.line, path: e.path, name: e.name });
    }
  }
  return answers;
}

test('every 200 of /rx, /rxs and /rxb leaves only after the shard writes behind it were synced', { timeout: 120_000 }, async (t) => {
  if (!straceWorks()) {
    const why = 'strace is missing or cannot trace here (apt-get install strace; ptrace must be allowed)';
    if (process.env.CI) throw new Error(why);
    t.skip(why);
    return;
  }
  const dir = tempDir('spillway-durable-');
  const traceFile = join(dir, 'trace.txt');
  const dataDir = join(dir, 'data');
  // Nobody listens on the ingest port: the forwarder only fails, so the only
  // shard writes are the stores of the POSTs below.
  const ingest = `http://127.0.0.1:${await freePort()}/in`;
  let d;
  t.after(async () => {
    await d?.kill();
    removeDir(dir);
  });
  d = await startDaemon('edge', [
    '--path', dataDir, '--ingest', ingest, '--shards', '4', '--interval', '0.2', '--retry-max', '5', '--log-level', 'warn',
  ], {
    wrap: ['strace', '-f', '-tt', '-y', '-s', '400', '-e', `trace=${TRACED}`, '-o', traceFile],
    waitMs: 60_000,
  });

  const answered = [];
  for (let i = 0; i < 24; i++) {
    // Several producers/keys: the messages land on every shard.
    const mode = ['rx', 'rxs', 'rxb'][i % 3];
    const body = mode === 'rxb' ? `{"i":${i},"line":0}\n{"i":${i},"line":1}\n` : JSON.stringify({ i });
    const r = await post(d.url, `/${mode}/durable${i % 5}/k${i % 7}/l`, body);
    assert.equal(r.status, 200, `POST ${i}: ${r.text}`);
    answered.push(r.json.uuid);
    // A GET between two POSTs is an answer too: the windows stay one POST wide.
    assert.equal((await getJson(d.url, '/healthz')).status, 200);
  }
  const exit = await d.stop('SIGTERM');
  assert.equal(exit.code, 0, `strace/daemon exit ${JSON.stringify(exit)}\n${d.logs().slice(-2000)}`);

  const text = readFileSync(traceFile, 'utf8');
  const isShard = (p) => p.startsWith(dataDir + '/') && p.endsWith('.mdb');
  const windows = durabilityWindows(parseTrace(text), isShard);
  const byUuid = new Map(windows.map((w) => [w.uuid, w]));
  const sampleOf = (w) => text.split('\n').slice(Math.max(0, w.from), w.at + 1).filter((l) => /mdb|HTTP/.test(l)).join('\n').slice(0, 3000);
  for (const uuid of answered) {
    const w = byUuid.get(uuid);
    assert.ok(w, `the 200 carrying ${uuid} is not in the trace (${windows.length} answers with a uuid found)`);
    assert.equal(w.status, 200);
    assert.ok(w.writes > 0, `no write to a shard file before the 200 of ${uuid}:\n${sampleOf(w)}`);
    assert.ok(w.syncs > 0, `no fdatasync/fsync of a shard file before the 200 of ${uuid}:\n${sampleOf(w)}`);
    assert.deepEqual(w.undurable, [], `shard writes not synced before the 200 of ${uuid}:\n${sampleOf(w)}`);
  }
  t.diagnostic(`${answered.length} answers; shard writes per answer ${windows.map((w) => w.writes).join(',')}; syncs ${windows.map((w) => w.syncs).join(',')}`);
});
