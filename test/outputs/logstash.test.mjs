// spillway all --output logstash against the real lumberjack v2 server
// (go-lumber, test/servers/lumberjack): every acknowledged uuid arrives as a
// Beats event shaped like rtbeat's; compression on and off; TLS with a client
// certificate; the server killed mid-stream and restarted under load (nothing
// acknowledged lost, duplicates counted: at least once); failover to a second
// host; a server that acks in halves and cuts (only the unacknowledged half is
// resent); bad options exit 2 with one line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, runCli, startDaemon, stats, tempDir, waitFor } from '../helpers/daemon.mjs';
import { postMany } from '../helpers/load.mjs';
import { makeCertificates, receivedUuids, requireLumberjack, startLumberjack } from '../helpers/lumberjack.mjs';
import { compareSets } from '../helpers/opensearch.mjs';

async function setup(t, { servers = [{}], args = [], env = {} } = {}) {
  const bin = requireLumberjack(t);
  if (!bin) return undefined;
  const dir = tempDir();
  const started = [];
  let d;
  t.after(async () => {
    try {
      await d?.kill();
    } finally {
      for (const s of started) await s.kill();
      for (const s of started) removeDir(s.out.replace(/\/events\.ndjson$/, ''));
      removeDir(dir);
    }
  });
  for (const o of servers) started.push(await startLumberjack(bin, o));
  d = await startDaemon('all', [
    '--path', dir, '--output', 'logstash', '--logstash-hosts', started.map((s) => s.address).join(','),
    '--interval', '0.2', ...args,
  ], { env });
  return { d, servers: started };
}

const drained = (d, timeoutMs = 120_000) => waitFor('the store to drain', async () => (await stats(d.url)).edge.inQueue === 0, { timeoutMs });

function allReceived(servers) {
  const uuids = [];
  let torn = 0;
  const events = [];
  for (const s of servers) {
    const r = s.received();
    torn += r.torn;
    events.push(...r.events);
    uuids.push(...receivedUuids(r.events));
  }
  return { uuids, torn, events };
}

test('spillway all --output logstash: every acknowledged message once, as rtbeat\'s Beats event', { timeout: 180_000 }, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const load = await postMany(s.d.url, { total: 20_000, connections: 32 });
  assert.equal(load.acked.size, 20_000);
  await drained(s.d);
  const { uuids, torn, events } = allReceived(s.servers);
  assert.equal(torn, 0);
  assert.deepEqual(compareSets(load.acked, uuids), { missing: [], extra: [], duplicates: [] });
  const e = events[0];
  assert.deepEqual(Object.keys(e), ['@timestamp', '@metadata', 'type', 'clientIp', 'rxtxMsg']);
  assert.deepEqual(e['@metadata'], { beat: 'rtbeat', type: '_doc', version: '7.17.29' });
  assert.equal(e.type, 'rtbeat');
  assert.equal(e.clientIp, '127.0.0.1');
  assert.deepEqual(Object.keys(e.rxtxMsg), ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload']);
  assert.equal(e['@timestamp'], e.rxtxMsg.time);
  assert.equal(typeof e.rxtxMsg.payload, 'object');
  const o = (await stats(s.d.url)).outputs.logstash;
  assert.equal(o.delivered, 20_000);
  assert.equal(o.ready, true);
});

test('compression off (--logstash-compression-level 0), a small window and --logstash-index', { timeout: 120_000 }, async (t) => {
  const s = await setup(t, { args: ['--logstash-compression-level', '0', '--logstash-window-size', '100', '--logstash-index', 'edge-a'] });
  if (!s) return;
  const load = await postMany(s.d.url, { total: 5_000, connections: 16 });
  await drained(s.d);
  const { uuids, events } = allReceived(s.servers);
  assert.deepEqual(compareSets(load.acked, uuids), { missing: [], extra: [], duplicates: [] });
  assert.equal(events[0]['@metadata'].beat, 'edge-a');
});

test('TLS with a client certificate (--logstash-tls-ca, -cert, -key)', { timeout: 120_000 }, async (t) => {
  const certs = tempDir('spillway-lj-certs-');
  t.after(() => removeDir(certs));
  const c = makeCertificates(certs);
  const s = await setup(t, {
    servers: [{ tls: { cert: c.cert, key: c.key, ca: c.ca } }],
    args: ['--logstash-tls-ca', c.ca, '--logstash-tls-cert', c.clientCert, '--logstash-tls-key', c.clientKey],
  });
  if (!s) return;
  const load = await postMany(s.d.url, { total: 5_000, connections: 16 });
  await drained(s.d);
  assert.deepEqual(compareSets(load.acked, allReceived(s.servers).uuids), { missing: [], extra: [], duplicates: [] });
});

test('the server killed mid-stream and restarted under load: nothing acknowledged lost, duplicates counted', { timeout: 240_000 }, async (t) => {
  // The server holds each window 100 ms before its ACK, so the kill usually finds one written but
  // not acknowledged: it is sent again (a duplicate the at-least-once guarantee allows).
  const s = await setup(t, { servers: [{ ackDelay: '100ms' }], args: ['--logstash-timeout', '5'] });
  if (!s) return;
  const [server] = s.servers;
  let cut = false;
  const loading = postMany(s.d.url, {
    total: 30_000, connections: 32,
    onAck: (n) => {
      if (n === 8_000 && !cut) {
        cut = true;
        void (async () => {
          await server.kill();
          await new Promise((r) => setTimeout(r, 3000)); // away for a while, under load
          await server.restart();
        })();
      }
    },
  });
  const load = await loading;
  assert.ok(cut, 'the server was cut');
  assert.equal(load.acked.size, 30_000);
  await drained(s.d, 180_000);
  const { uuids, torn } = allReceived(s.servers);
  // A kill -9 may leave the last line half written: the event was not acked, so it is resent.
  assert.ok(torn <= 1, `${torn} torn lines`);
  const r = compareSets(load.acked, uuids);
  assert.deepEqual({ missing: r.missing, extra: r.extra }, { missing: [], extra: [] });
  t.diagnostic(`duplicates after the kill: ${r.duplicates.length} of ${uuids.length} events (at least once)`);
  const o = (await stats(s.d.url)).outputs.logstash;
  assert.ok(o.retried > 0 || o.requestFailures > 0, 'the cut was seen');
});

test('failover: the active host dies, the other takes the rest; nothing lost', { timeout: 180_000 }, async (t) => {
  const s = await setup(t, { servers: [{}, {}], args: ['--logstash-timeout', '5'] });
  if (!s) return;
  // Failover sends to one host at a time (each forwarder thread picks its own): once a host
  // receives, kill it (the rest of the first part may still be on its way), then send the second part.
  const first = await postMany(s.d.url, { total: 5_000, connections: 32 });
  const active = await waitFor('a host to receive', () => s.servers.find((x) => x.received().events.length > 0), { everyMs: 50 });
  await active.kill();
  const second = await postMany(s.d.url, { total: 10_000, connections: 32 });
  const load = { acked: new Set([...first.acked, ...second.acked]) };
  assert.equal(load.acked.size, 15_000);
  await drained(s.d);
  const { uuids } = allReceived(s.servers);
  const r = compareSets(load.acked, uuids);
  assert.deepEqual({ missing: r.missing, extra: r.extra }, { missing: [], extra: [] });
  assert.ok(s.servers.every((x) => x.received().events.length > 0), 'both hosts received events');
  t.diagnostic(`duplicates after the failover: ${r.duplicates.length}`);
});

test('--logstash-loadbalance: windows spread over both hosts; together they hold every message once', { timeout: 120_000 }, async (t) => {
  const s = await setup(t, { servers: [{}, {}], args: ['--logstash-loadbalance', '--logstash-window-size', '200'] });
  if (!s) return;
  const load = await postMany(s.d.url, { total: 8_000, connections: 16 });
  await drained(s.d);
  assert.deepEqual(compareSets(load.acked, allReceived(s.servers).uuids), { missing: [], extra: [], duplicates: [] });
  const counts = s.servers.map((x) => x.received().events.length);
  assert.ok(counts.every((n) => n > 0), `both hosts received windows: ${counts}`);
});

test('a server that acks half a window and cuts: only the unacknowledged half is sent again', { timeout: 120_000 }, async (t) => {
  const s = await setup(t, {
    servers: [{ dropAfterPartial: 1 }],
    args: ['--forwarders', '1', '--shards', '1', '--inflight', '1', '--interval', '5', '--batch', '1000', '--logstash-window-size', '1000'],
  });
  if (!s) return;
  const load = await postMany(s.d.url, { total: 1000, connections: 16 });
  await drained(s.d);
  const { uuids } = allReceived(s.servers);
  const c = compareSets(load.acked, uuids);
  assert.deepEqual({ missing: c.missing, extra: c.extra }, { missing: [], extra: [] });
  // The first window (n events, written in full by the server) was acked to n/2, then cut: the
  // resend repeats exactly its second half, the events at positions floor(n/2) .. n-1 of the file.
  const d = c.duplicates.length;
  assert.ok(d > 0, 'the cut happened');
  const first = c.duplicates.map((u) => uuids.indexOf(u)).sort((a, b) => a - b);
  const from = first[0];
  assert.deepEqual(first, Array.from({ length: d }, (_, i) => from + i), 'one contiguous block');
  assert.ok(from === d || from === d - 1, `the duplicated block starts at ${from}, not at half of a window of ${2 * d} or ${2 * d - 1}`);
});

const bad = [
  [['--logstash-hosts', 'localhost:99999'], /^spillway: output logstash: --logstash-hosts: "localhost:99999": port must be 1-65535$/],
  [['--logstash-hosts', 'a:b:c'], /^spillway: output logstash: --logstash-hosts: "a:b:c" is not host or host:port$/],
  [['--logstash-compression-level', '12'], /^spillway: output logstash: --logstash-compression-level: 12 is not 0 to 9$/],
  [['--logstash-timeout', '0'], /^spillway: output logstash: --logstash-timeout: must be more than 0 seconds$/],
  [['--logstash-tls-cert', '/etc/hostname'], /^spillway: output logstash: --logstash-tls-cert needs --logstash-tls-key$/],
  [['--logstash-tls-ca', '/nonexistent/ca.pem'], /^spillway: output logstash: --logstash-tls-ca: cannot read \/nonexistent\/ca.pem: ENOENT$/],
  [['--logstash-tls-ca', '/etc/hostname'], /^spillway: output logstash: --logstash-tls-ca: \/etc\/hostname holds no PEM certificate$/],
];
for (const [args, pattern] of bad) {
  test(`spillway all --output logstash ${args.join(' ')} → exit 2, one line`, async () => {
    const r = await runCli(['all', '--output', 'logstash', ...args]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  });
}

test('--help lists the logstash output, its delivery guarantee and its flags', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ {2}logstash .*\n +delivery: at least once/m);
  for (const f of ['hosts', 'loadbalance', 'workers', 'window-size', 'compression-level', 'timeout', 'index', 'tls', 'tls-ca', 'tls-cert', 'tls-key']) {
    assert.match(r.stdout, new RegExp(`--logstash-${f} .*\\[SPILLWAY_LOGSTASH_${f.toUpperCase().replace(/-/g, '_')}\\]`));
  }
});

test('beat --output logstash: /in answers 200 only once Logstash acked every event; with the server away, not 200', { timeout: 120_000 }, async (t) => {
  const bin = requireLumberjack(t);
  if (!bin) return;
  const server = await startLumberjack(bin);
  let d;
  t.after(async () => {
    try {
      await d?.kill();
    } finally {
      await server.kill();
      removeDir(server.out.replace(/\/events\.ndjson$/, ''));
    }
  });
  d = await startDaemon('beat', ['--output', 'logstash', '--logstash-hosts', server.address, '--logstash-timeout', '2', '--ack-timeout', '3']);
  await waitFor('ready', async () => (await fetch(`${d.url}/readyz`)).ok);
  const batch = (n) => {
    const messages = Array.from({ length: n }, (_, i) => ({
      seq: String(1_000_000_000_000_000_000n + BigInt(i)), time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, i)).toISOString(),
      uuid: crypto.randomUUID(), producer: 'p', key: 'k', label: '/l', payload: { i },
    }));
    return { messages, body: JSON.stringify({ uuid: crypto.randomUUID(), size: n, messages }) };
  };
  const post = (body) => fetch(`${d.url}/in`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  const a = batch(50);
  const r = await post(a.body);
  assert.equal(r.status, 200, await r.text());
  // The server writes a window before it acks it: at the 200, every event is there.
  const got = server.received().events;
  assert.deepEqual(compareSets(new Set(a.messages.map((m) => m.uuid)), receivedUuids(got)), { missing: [], extra: [], duplicates: [] });
  assert.equal(got[0].clientIp, '127.0.0.1');
  assert.deepEqual(got[0].rxtxMsg, a.messages[0]);

  await server.kill();
  const b = batch(20);
  const away = await post(b.body);
  assert.notEqual(away.status, 200, 'no 200 while the server is away');
  assert.ok([503, 504].includes(away.status), `status ${away.status}`);
  await server.restart();
  await waitFor('a 200 for the resent batch', async () => (await post(b.body)).status === 200, { timeoutMs: 60_000, everyMs: 500 });
  const all = receivedUuids(server.received().events);
  const c = compareSets(new Set([...a.messages, ...b.messages].map((m) => m.uuid)), all);
  assert.deepEqual({ missing: c.missing, extra: c.extra }, { missing: [], extra: [] });
});
