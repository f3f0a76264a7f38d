// Drop-in migration through the real CLI (dist/cli/main.js):
//   - rxtx's command lines start `spillway edge` / `spillway rxtx` with the
//     same effective settings in every Go flag form (--print-config), and a
//     started edge listens, stores and reports them (/stats, the shard files);
//   - an rxtx queue file at -path is reported at start; -cpuprofile and
//     -memprofile write their files at stop;
//   - a minimal rtbeat.yml pointing at the local Elasticsearch delivers end to
//     end through `spillway beat -c`, and one with libbeat's output.file
//     writes NDJSON files;
//   - a bad file (YAML syntax, unknown output.*, missing ${VAR}, bad --config)
//     exits 2 with one line naming the key or the file.
// Elasticsearch is needed by the end-to-end test only (it fails under CI when
// Elasticsearch is missing, and skips elsewhere).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { test, describe } from 'node:test';
import { freePort, MAIN, removeDir, runCli, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { checkExactlyOnce, count, es, ES_URL, requireElasticsearch, testIndex } from '../helpers/es.mjs';

/** The environment without the variables that would override a file under test. */
function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SPILLWAY_') || k.startsWith('ES_')) delete env[k];
  return { ...env, ...extra };
}

const cli = (args, env = {}) => runCli(args, { env: cleanEnv(env) }).then((r) => ({ ...r, env: undefined }));

async function printConfig(args, env = {}) {
  const r = await runProcess(args.concat('--print-config'), env);
  assert.equal(r.code, 0, `spillway ${args.join(' ')} --print-config: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function runProcess(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => (clearTimeout(t), resolve({ code, stdout, stderr })));
  });
}

/**
 * Start `spillway ...args` exactly as given (no --port added): the test knows
 * the port from the args or the file. Resolves once /healthz answers.
 */
async function spawnSpillway(args, port, { env = {}, waitMs = 20_000 } = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + waitMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`spillway ${args.join(' ')} exited (${child.exitCode}):\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`spillway did not answer /healthz in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    url, child, exited, logs: () => out,
    async stop(sig = 'SIGTERM') {
      if (running()) child.kill(sig);
      return exited;
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };
}

const FORMS = [
  (f, v) => [`-${f}`, v],
  (f, v) => [`-${f}=${v}`],
  (f, v) => [`--${f}`, v],
  (f, v) => [`--${f}=${v}`],
];
const pick = (c) => ({ port: c.port, path: c.path, ingest: c.ingest, interval: c.interval, batch: c.batch, maxq: c.maxq, overflow: c.overflow });

describe("rxtx's command line", () => {
  test("the seed deployment's line gives the same settings in every flag form, for edge and rxtx", { timeout: 120_000 }, async () => {
    const pairs = [['port', '8080'], ['path', './data/'], ['ingest', 'http://rtbeat:8081/in'], ['interval', '5'], ['batch', '500'], ['maxq', '250000']];
    const want = { port: 8080, path: './data/', ingest: 'http://rtbeat:8081/in', interval: 5, batch: 500, maxq: 250000, overflow: 'refuse' };
    for (const form of FORMS) {
      const args = pairs.flatMap(([f, v]) => form(f, v));
      assert.deepEqual(pick((await printConfig(['edge', ...args])).config), want, args.join(' '));
      assert.deepEqual(pick((await printConfig(['rxtx', ...args])).config), { ...want, path: './data' }, args.join(' '));
    }
  });

  test('spillway edge started with rxtx\'s flags listens on -port, stores under -path, reports -maxq', { timeout: 60_000 }, async (t) => {
    const dir = tempDir('dropin-edge-');
    t.after(() => removeDir(dir));
    const port = await freePort();
    const edge = await spawnSpillway(
      ['edge', '-port', String(port), '-path', `${dir}/`, '-ingest', 'http://127.0.0.1:9/in', '-interval', '2', '-batch', '50', '-maxq', '1234'],
      port,
    );
    t.after(() => edge.kill());
    const s = await stats(edge.url);
    assert.equal(s.role, 'edge');
    assert.equal(s.edge.maxq, 1234);
    const r = await fetch(`${edge.url}/rx/p/k/l`, { method: 'POST', body: '{"a":1}' });
    assert.equal(r.status, 200);
    assert.ok(readdirSync(dir).some((f) => /^rxtx-\d\d\.mdb$/.test(f)), `shard files in ${dir}: ${readdirSync(dir)}`);
    assert.equal((await edge.stop()).code, 0);
  });

  test('spillway rxtx without flags takes rxtx.go\'s defaults', async () => {
    const p = await printConfig(['rxtx']);
    assert.equal(p.mode, 'rxtx');
    assert.deepEqual(pick(p.config), { port: 8080, path: '.', ingest: 'http://localhost:8081/in', interval: 60, batch: 100, maxq: 100000, overflow: 'refuse' });
  });

  test('an rxtx queue file at -path is reported in one warning line at start', { timeout: 60_000 }, async (t) => {
    const dir = tempDir('dropin-rxtxdb-');
    t.after(() => removeDir(dir));
    const page = Buffer.alloc(32768);
    page.writeUInt32LE(0xed0cdaed, 16);
    writeFileSync(join(dir, 'rxtx.db'), page);
    const port = await freePort();
    const edge = await spawnSpillway(['edge', '-port', String(port), '-path', `${dir}/`, '-ingest', 'http://127.0.0.1:9/in'], port);
    t.after(() => edge.kill());
    await edge.stop();
    const warns = edge.logs().split('\n').filter((l) => l.includes('"level":40')).map((l) => JSON.parse(l).msg);
    assert.deepEqual(warns.filter((m) => m.includes('rxtx.db')), [
      `found rxtx's bbolt queue file ${dir}/rxtx.db (32768 bytes): Spillway does not read it, so messages still queued in it are not forwarded; ` +
        'drain it with the Go rxtx until rxtx_messages_in_queue is 0, then remove the file (docs/migrating.md)',
    ]);
    assert.ok(existsSync(join(dir, 'rxtx.db')), 'the file is left alone');
  });

  test('-cpuprofile and -memprofile write a V8 CPU profile and a heap snapshot at stop', { timeout: 90_000 }, async (t) => {
    const dir = tempDir('dropin-prof-');
    t.after(() => removeDir(dir));
    const port = await freePort();
    const cpu = join(dir, 'rxtxcpu.prof');
    const mem = join(dir, 'rxtxmem.prof');
    const edge = await spawnSpillway(
      ['edge', `--path=${dir}/data/`, `--cpuprofile=${cpu}`, `--memprofile=${mem}`, '-port', String(port), '-ingest', 'http://127.0.0.1:9/in'],
      port,
    );
    t.after(() => edge.kill());
    await fetch(`${edge.url}/rx/p/k/l`, { method: 'POST', body: '{"a":1}' });
    assert.equal((await edge.stop('SIGINT')).code, 0, edge.logs());
    const profile = JSON.parse(readFileSync(cpu, 'utf8'));
    assert.ok(Array.isArray(profile.nodes) && profile.nodes.length > 0 && profile.endTime > profile.startTime, 'a .cpuprofile');
    const snapshot = JSON.parse(readFileSync(mem, 'utf8'));
    assert.ok(snapshot.snapshot?.meta && snapshot.nodes.length > 0, 'a .heapsnapshot');
    // A file that cannot be created refuses the start, as rxtx does.
    const bad = await cli(['edge', '-cpuprofile', join(dir, 'no', 'such', 'dir.prof'), '-port', '0', '-path', `${dir}/x/`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^spillway: --cpuprofile: cannot create .*dir\.prof \(ENOENT\)\n$/);
  });
});

describe("rtbeat's YAML: spillway beat -c", () => {
  test('a minimal rtbeat.yml pointing at the local Elasticsearch delivers end to end', { timeout: 120_000 }, async (t) => {
    if (!(await requireElasticsearch(t))) return;
    const idx = testIndex('dropin-beat');
    const dir = tempDir('dropin-beat-');
    t.after(async () => {
      removeDir(dir);
      await idx.cleanup();
    });
    const port = await freePort();
    const file = join(dir, 'rtbeat.yml');
    writeFileSync(file, [
      'rtbeat:',
      '  port: "${RTBEAT_PORT}"',
      '  timeout: 30',
      '  shutdown_timeout: 10',
      'output.elasticsearch:',
      '  hosts: ["${ES_HOSTPORT:localhost:9200}"]',
      `  index: "${idx.pattern}"`,
      `setup.template.name: "${idx.all.replace(/-\*$/, '')}"`,
      `setup.template.pattern: "${idx.all}"`,
      'setup.ilm.enabled: false',
      'logging.level: warning',
      '',
    ].join('\n'));
    chmodSync(file, 0o600);
    const hostport = new URL(ES_URL).host;
    const beat = await spawnSpillway(['beat', '-c', file, '-e'], port, { env: { RTBEAT_PORT: String(port), ES_HOSTPORT: hostport } });
    t.after(() => beat.kill());
    const s = await stats(beat.url);
    assert.equal(s.role, 'beat');
    const now = new Date();
    const messages = Array.from({ length: 25 }, (_, i) => ({
      seq: `${now.toISOString().slice(0, 10).replace(/-/g, '')}${String(i).padStart(11, '0')}`,
      time: now.toISOString(), uuid: randomUUID(), producer: 'dropin', label: '/beat/yml', key: 'k', payload: { i },
    }));
    await waitFor('Elasticsearch reachable from the beat', async () => (await stats(beat.url)).elasticsearch?.reachable, { timeoutMs: 30_000 });
    const r = await fetch(`${beat.url}/in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uuid: randomUUID(), size: messages.length, messages }) });
    assert.equal(r.status, 200, await r.text());
    const ids = new Set(messages.map((m) => m.uuid));
    await waitFor('documents', async () => (await count(idx.all)) >= ids.size, { timeoutMs: 30_000 });
    const check = await checkExactlyOnce(idx.all, ids);
    assert.deepEqual(check.missing, []);
    assert.equal(check.total, ids.size);
    const doc = (await es(`/${idx.all}/_doc/${messages[0].uuid}`.replace('-*', `-${now.toISOString().slice(0, 10).replace(/-/g, '.')}`))).body;
    assert.equal(doc?._source?.type, 'rtbeat', JSON.stringify(doc));
    assert.equal(doc._source.rxtxMsg.uuid, messages[0].uuid, "rtbeat's fields: rxtxMsg, type, clientIp");
    assert.ok('clientIp' in doc._source);
    assert.equal((await beat.stop()).code, 0);
  });

  test("libbeat's output.file writes every message, with rtbeat's fields, as NDJSON", { timeout: 60_000 }, async (t) => {
    const dir = tempDir('dropin-file-');
    t.after(() => removeDir(dir));
    const port = await freePort();
    const file = join(dir, 'rtbeat.yml');
    writeFileSync(file, `rtbeat:\n  port: "${port}"\noutput.file:\n  path: "${dir}/out"\n  filename: rtbeat\n  number_of_files: 7\n`);
    const beat = await spawnSpillway(['beat', '-c', file, '-e'], port);
    t.after(() => beat.kill());
    const now = new Date().toISOString();
    const messages = Array.from({ length: 10 }, (_, i) => ({
      seq: `20261130${String(i).padStart(11, '0')}`, time: now, uuid: randomUUID(), producer: 'dropin', label: '/file', key: 'k', payload: { i },
    }));
    const r = await fetch(`${beat.url}/in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uuid: randomUUID(), size: 10, messages }) });
    assert.equal(r.status, 200, await r.text());
    assert.equal((await beat.stop()).code, 0);
    const files = readdirSync(join(dir, 'out'));
    assert.ok(files.length > 0 && files.every((f) => f.startsWith('rtbeat-beat-')), `files: ${files}`);
    const lines = files.flatMap((f) => readFileSync(join(dir, 'out', f), 'utf8').split('\n').filter(Boolean)).map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((d) => d.rxtxMsg.uuid).sort(), messages.map((m) => m.uuid).sort());
    assert.ok(lines.every((d) => d.type === 'rtbeat' && 'clientIp' in d && d['@timestamp'] === now));
    const warn = beat.logs().split('\n').filter((l) => l.includes('"level":40')).map((l) => JSON.parse(l).msg);
    assert.ok(warn.includes('rtbeat.yml: not supported by Spillway, ignored: output.file.number_of_files'), warn.join('\n'));
  });

  test('bad files exit 2 with one line naming the key or the file', { timeout: 60_000 }, async (t) => {
    const dir = tempDir('dropin-bad-');
    t.after(() => removeDir(dir));
    const cases = [
      ['syntax.yml', 'rtbeat:\n  port: "8081"\n timeout: 5\n', [], /^spillway: .*syntax\.yml: YAML syntax error: line 3, column \d+: /],
      ['console.yml', 'rtbeat.port: "8081"\noutput.console:\n  pretty: true\n', [], /^spillway: console\.yml: output\.console: Spillway cannot deliver to this output/],
      ['channel.yml', 'output.redis:\n  hosts: ["redis:6379"]\n  datatype: channel\n', [], /^spillway: channel\.yml: output\.redis\.datatype: channel \(PUBLISH\) is not supported/],
      ['var.yml', 'output.elasticsearch:\n  hosts: ["es:9200"]\n  password: "${ES_PASSWORD_FOR_DROPIN}"\n', [], /^spillway: .*var\.yml: output\.elasticsearch\.password: \$\{ES_PASSWORD_FOR_DROPIN\} is not set/],
      ['drop.yml', 'processors:\n  - drop_fields: {fields: [clientIp]}\n', [], /^spillway: drop\.yml: processors\[0\]\.drop_fields: /],
      ['unknown.yml', 'port: 1\nbatchsize: 2\n', ['--config'], /^spillway: .*unknown\.yml: unknown key "batchsize"/],
      ['type.yml', 'shards: many\n', ['--config'], /^spillway: .*type\.yml: shards: "many" is not a whole number\n/],
    ];
    for (const [name, text, flag, pattern] of cases) {
      const f = join(dir, name);
      writeFileSync(f, text);
      const r = await cli(flag.length ? [...flag, f] : ['beat', '-c', f]);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${name}: one line: ${r.stderr}`);
      assert.match(r.stderr, pattern, name);
    }
    const missing = await cli(['--config', join(dir, 'nope.yml')]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `spillway: ${join(dir, 'nope.yml')}: cannot read (ENOENT)\n`);
  });

  test("the YAML's credentials reach Elasticsearch: username/password as Basic, api_key as ApiKey", { timeout: 60_000 }, async (t) => {
    const dir = tempDir('dropin-cred-');
    t.after(() => removeDir(dir));
    // A recording stand-in for Elasticsearch: it only has to see the requests' Authorization header.
    const seen = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify({ version: { number: '8.19.0' }, cluster_name: 'x', status: 'green', acknowledged: true }));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
    const host = `127.0.0.1:${server.address().port}`;
    for (const [auth, want] of [
      ['  username: "${ES_USER_FOR_DROPIN}"\n  password: pw-dropin\n', `Basic ${Buffer.from('elastic:pw-dropin').toString('base64')}`],
      ['  api_key: "kid:ksecret"\n', `ApiKey ${Buffer.from('kid:ksecret').toString('base64')}`],
    ]) {
      seen.length = 0;
      const port = await freePort();
      const file = join(dir, 'rtbeat.yml');
      writeFileSync(file, `rtbeat.port: "${port}"\noutput.elasticsearch:\n  hosts: ["${host}"]\n  index: "cred-%{+yyyy.MM.dd}"\n${auth}setup.ilm.enabled: false\n`);
      const beat = await spawnSpillway(['beat', '-c', file], port, { env: { ES_USER_FOR_DROPIN: 'elastic' } });
      try {
        await waitFor('a request to Elasticsearch', () => seen.length > 0, { timeoutMs: 20_000 });
        assert.deepEqual([...new Set(seen)], [want]);
        assert.ok(!beat.logs().includes('pw-dropin') && !beat.logs().includes('ksecret'), 'credentials are not logged');
      } finally {
        await beat.kill();
      }
    }
  });

  test('--print-config redacts secrets from the YAML', async (t) => {
    const dir = tempDir('dropin-redact-');
    t.after(() => removeDir(dir));
    const f = join(dir, 'rtbeat.yml');
    writeFileSync(f, 'output.elasticsearch:\n  hosts: ["https://user:pw@es:9200"]\n  index: i\n  username: elastic\n  password: hunter2\n  api_key: "id:key"\n');
    const r = await runProcess(['beat', '-c', f, '--print-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('hunter2') && !r.stdout.includes(':pw@') && !r.stdout.includes(Buffer.from('id:key').toString('base64')), r.stdout);
    const p = JSON.parse(r.stdout);
    assert.deepEqual(p.credentials, { apiKey: '<redacted>', username: 'elastic', password: '<redacted>' });
    // Secrets on the command line too: user:password@ in a URL, a token.
    const e = await runProcess(['edge', '-ingest', 'http://u:pw2@stage:8081/in', '--ingest-token', 'tok123', '--print-config']);
    assert.equal(e.code, 0, e.stderr);
    assert.ok(!e.stdout.includes('pw2') && !e.stdout.includes('tok123'), e.stdout);
    assert.equal(JSON.parse(e.stdout).config.ingest, 'http://redacted:redacted@stage:8081/in');
  });
});
