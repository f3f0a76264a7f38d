// The Redis output's AUTH (password, ACL user), TLS, bad options (exit 2, one
// line naming the output) and a fan-out to Elasticsearch and Redis, each
// against a real redis-server (private instances for AUTH and TLS).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, runCli, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { checkExactlyOnce, requireElasticsearch, testIndex } from '../helpers/es.mjs';
import { postMany } from '../helpers/load.mjs';
import { compareSets } from '../helpers/opensearch.mjs';
import {
  assertAnswered, makeCertificates, readLists, REDIS_URL, redisClient, requireRedis, requireRedisServerBinary, startRedisServer, testKey,
} from '../helpers/redis.mjs';

/** Post `n` messages, wait until the store is empty, read the list back: the comparison of uuid sets. */
async function deliverAndRead(t, d, key, n, readOpts) {
  const load = await postMany(d.url, { total: n, connections: 8 });
  assertAnswered(t, load, n, d);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 120_000 });
  return compareSets(load.acked, (await readLists([key], readOpts)).map((e) => e.rxtxMsg.uuid));
}

const exact = { missing: [], extra: [], duplicates: [] };

test('Redis AUTH: the password, an ACL user, and a wrong password (not ready, nothing written, kept in the store)', { timeout: 240_000 }, async (t) => {
  if (!requireRedisServerBinary(t)) return;
  const server = await startRedisServer({ args: ['--requirepass', 'def-pass', '--user', 'spill', 'on', '>acl-pass', '~*', '+@all'] });
  const dirs = [];
  const daemons = [];
  t.after(async () => {
    for (const d of daemons) await d.kill();
    for (const dir of dirs) removeDir(dir);
    await server.stop();
  });
  const url = `redis://127.0.0.1:${server.port}`;
  const run = async (env, key) => {
    const dir = tempDir();
    dirs.push(dir);
    const d = await startDaemon('all', ['--path', dir, '--output', 'redis', '--redis', url, '--redis-key', key, '--interval', '0.1'], { env });
    daemons.push(d);
    return d;
  };

  const withPassword = await run({ REDIS_PASSWORD: 'def-pass' }, 'by-password');
  assert.deepEqual(await deliverAndRead(t, withPassword, 'by-password', 500, { port: server.port, password: 'def-pass' }), exact);

  const withUser = await run({ REDIS_USERNAME: 'spill', REDIS_PASSWORD: 'acl-pass' }, 'by-user');
  assert.deepEqual(await deliverAndRead(t, withUser, 'by-user', 500, { port: server.port, password: 'def-pass' }), exact);

  const wrong = await run({ REDIS_USERNAME: 'spill', REDIS_PASSWORD: 'not-it' }, 'by-wrong');
  const r = await (await fetch(`${wrong.url}/rx/p/k/l`, { method: 'POST', body: '{"a":1}' })).json();
  assert.equal(r.status, 'OK'); // store and forward: kept until Redis takes it
  const s = await waitFor('the redis output to say why it is not ready', async () => {
    const o = (await stats(wrong.url)).outputs.redis;
    return o.ready === false && /WRONGPASS|invalid username-password/i.test(o.reason ?? '') ? o : undefined;
  }, { timeoutMs: 30_000 });
  assert.doesNotMatch(wrong.logs() + JSON.stringify(s), /not-it/, 'the password never reaches a log or /stats');
  assert.equal((await stats(wrong.url)).edge.inQueue, 1);
  const c = await redisClient({ port: server.port, password: 'def-pass' });
  try {
    assert.equal(await c.exists('by-wrong'), 0);
  } finally {
    c.destroy();
  }
});

test('Redis over TLS (rediss:// and --redis-ca): delivered; without the CA: not ready, with the reason', { timeout: 180_000 }, async (t) => {
  if (!requireRedisServerBinary(t)) return;
  const certs = tempDir('spillway-redis-tls-');
  const files = await makeCertificates(certs);
  const server = await startRedisServer({
    tlsPort: true,
    args: ['--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-cert-file', files.ca, '--tls-auth-clients', 'no'],
  });
  const dirs = [];
  const daemons = [];
  t.after(async () => {
    for (const d of daemons) await d.kill();
    for (const dir of dirs) removeDir(dir);
    await server.stop();
    removeDir(certs);
  });
  const start = async (args) => {
    const dir = tempDir();
    dirs.push(dir);
    const d = await startDaemon('all', ['--path', dir, '--output', 'redis', '--redis', `rediss://127.0.0.1:${server.port}`, '--interval', '0.1', ...args]);
    daemons.push(d);
    return d;
  };
  const good = await start(['--redis-ca', files.ca, '--redis-key', 'tls']);
  const tls = { tls: true, ca: (await import('node:fs')).readFileSync(files.ca) };
  assert.deepEqual(await deliverAndRead(t, good, 'tls', 500, { port: server.port, tls }), exact);

  const untrusted = await start(['--redis-key', 'untrusted']);
  await waitFor('the redis output to be not ready for the certificate', async () => {
    const o = (await stats(untrusted.url)).outputs.redis;
    return o.ready === false && /certificate|self.signed/i.test(o.reason ?? '');
  }, { timeoutMs: 30_000 });
});

const badOptions = [
  [['--redis', 'nonsense'], /^spillway: output redis: --redis: "nonsense" is not a URL/],
  [['--redis', 'http://127.0.0.1:6379'], /^spillway: output redis: --redis: .* must be redis:\/\/ or rediss:\/\/$/],
  [['--redis', 'redis://user:hunter2@127.0.0.1:6379/3'], /^spillway: output redis: --redis: "redis:\/\/…@127\.0\.0\.1:6379\/3": give the database with --redis-db/],
  [['--redis-key', ''], /^spillway: output redis: --redis-key: must not be empty$/],
  [['--redis-key', 'rt-%{[rxtxMsg.nope]}'], /^spillway: output redis: --redis-key: "%\{\[rxtxMsg.nope\]\}" is not a date token/],
  [['--redis-key', 'rt-%{+yyyy.MM.dd'], /^spillway: output redis: --redis-key: .* not closed$/],
  [['--redis-mode', 'pubsub'], /^spillway: output redis: --redis-mode: "pubsub" is not one of list, stream$/],
  [['--redis-db', '-1'], /--redis-db/],
  [['--redis-tls', '--redis-ca', '/nonexistent/ca.pem'], /^spillway: output redis: --redis-ca: cannot read "\/nonexistent\/ca.pem": ENOENT$/],
  [['--redis-ca', '/etc/hostname'], /^spillway: output redis: --redis-ca\/--redis-cert need TLS/],
  [['--redis-tls', '--redis-cert', '/etc/hostname'], /^spillway: output redis: --redis-cert and --redis-cert-key go together$/],
];

for (const [args, pattern] of badOptions) {
  test(`spillway all --output redis ${args.join(' ')} → exit 2, one line`, async () => {
    const r = await runCli(['all', '--output', 'redis', ...args]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  });
}

test('--help lists the redis output and its flags', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ {2}redis .*\n +delivery: at least once/m);
  for (const f of ['--redis ', '--redis-key', '--redis-mode', '--redis-db', '--redis-tls', '--redis-ca']) assert.ok(r.stdout.includes(f), f);
});

test('spillway all --output elasticsearch,redis: every acknowledged message in both (Elasticsearch exactly once)', { timeout: 240_000 }, async (t) => {
  if (!(await requireElasticsearch(t))) return;
  if (!(await requireRedis(t))) return;
  const dir = tempDir();
  const idx = testIndex();
  const k = testKey();
  const d = await startDaemon('all', [
    '--path', dir, '--output', 'elasticsearch,redis', '--index', idx.pattern, '--redis', REDIS_URL, '--redis-key', k.base, '--interval', '0.2',
  ]);
  t.after(async () => {
    await d.kill();
    removeDir(dir);
    await idx.cleanup();
    await k.cleanup();
  });
  const load = await postMany(d.url, { total: 5000, connections: 16 });
  assertAnswered(t, load, 5000, d);
  await waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs: 180_000 });
  const inEs = await checkExactlyOnce(idx.all, load.acked);
  assert.deepEqual({ total: inEs.total, missing: inEs.missing }, { total: load.acked.size, missing: [] });
  const cmp = compareSets(load.acked, (await readLists([k.base])).map((e) => e.rxtxMsg.uuid));
  assert.deepEqual({ missing: cmp.missing, extra: cmp.extra }, { missing: [], extra: [] });
  const o = (await stats(d.url)).outputs;
  assert.equal(o.elasticsearch.delivered, load.acked.size);
  assert.equal(o.redis.delivered, load.acked.size + cmp.duplicates.length);
});
