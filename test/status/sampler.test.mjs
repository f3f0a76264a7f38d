// The status page's parts on their own: the ring of samples, the Origin
// rule of /status/ws, and the sampler's arithmetic (rates over the measured
// interval, per-shard lag, refusals by reason, an output's health from its
// last attempts) on real prom-client metrics and a store view at known values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { EdgeMetrics, newRegistry } from '../../dist/metrics/registry.js';
import { OutputMetrics } from '../../dist/metrics/outputs.js';
import { Ring } from '../../dist/status/ring.js';
import { originAllowed } from '../../dist/status/routes.js';
import { StatusSampler } from '../../dist/status/sampler.js';

test('ring: keeps the last N, oldest first', () => {
  const r = new Ring(3);
  assert.deepEqual(r.toArray(), []);
  assert.equal(r.last(), undefined);
  for (const x of [1, 2]) r.push(x);
  assert.deepEqual(r.toArray(), [1, 2]);
  for (const x of [3, 4, 5]) r.push(x);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.last(), 5);
  assert.equal(r.size, 3);
  assert.throws(() => new Ring(0), RangeError);
});

test('origin rule: * allows any; a list allows its origins, the daemon\'s own, and no Origin', () => {
  assert.ok(originAllowed('https://evil.example', 'h:1', ['*']));
  const list = ['https://console.example', 'http://ops.example:8080/'];
  assert.ok(originAllowed('https://console.example', 'h:1', list));
  assert.ok(originAllowed('http://ops.example:8080', 'h:1', list));
  assert.ok(originAllowed('http://127.0.0.1:9100', '127.0.0.1:9100', list), 'same origin');
  assert.ok(originAllowed('', 'h:1', list), 'no Origin: not a browser');
  assert.ok(!originAllowed('https://evil.example', 'h:1', list));
  assert.ok(!originAllowed('http://127.0.0.1:9101', '127.0.0.1:9100', list), 'another port is another origin');
  assert.ok(!originAllowed('null', 'h:1', list));
});

test('sampler: rates over the measured interval, lag per shard, refusals by reason, health from the last attempts', async () => {
  const registry = newRegistry();
  const metrics = new EdgeMetrics(registry, 'rxtx');
  let now = 1_000_000_000_000;
  const views = [{ shard: 0, messages: 0, bytes: 0 }, { shard: 1, messages: 0, bytes: 0 }];
  const state = { held: [0, 0], shards: views };
  let notReady;
  const sampler = new StatusSampler({
    role: 'edge', name: 'rxtx', outputNames: [], registry, notReady: () => notReady,
    store: { state, metrics }, outputs: new OutputMetrics(registry, []), health: new Map(),
  }, 5, () => now);

  assert.equal(await sampler.tick(), undefined, 'the first tick only reads the totals');
  // Two seconds: 300 stored, 100 delivered, 4 refused (3 body, 1 path); shard 1 holds 200, its oldest 7.5 s old.
  metrics.received.inc(300);
  metrics.txMessages.inc(100);
  metrics.refused.inc({ reason: 'body' }, 3);
  metrics.refused.inc({ reason: 'path' }, 1);
  state.held = [0, 200];
  now += 2000;
  views[1] = { shard: 1, messages: 200, bytes: 0, oldestTime: new Date(now - 7500).toISOString() };
  let s = await sampler.tick();
  assert.equal(s.t, Math.round(now / 1000));
  assert.equal(s.in, 150);
  assert.equal(s.out, 50);
  assert.deepEqual(s.shards, [0, 200]);
  assert.equal(s.held, 200);
  assert.deepEqual(s.ages, [0, 7.5]);
  assert.equal(s.age, 7.5);
  assert.deepEqual(s.refused, { body: 1.5, path: 0.5 });
  assert.deepEqual(s.outputs.stage, { up: true, rate: 50, failed: 0, retried: 0 });
  assert.equal(s.ready, true);

  // A second of failures only: the stage is down, and stays down through a quiet second (backoff).
  metrics.txFails.inc(2);
  notReady = 'store full: test';
  now += 1000;
  s = await sampler.tick();
  assert.deepEqual(s.outputs.stage, { up: false, reason: 'deliveries failing', rate: 0, failed: 2, retried: 0 });
  assert.deepEqual(s.refused, { body: 0, path: 0 }, 'a reason seen once stays, at zero');
  assert.equal(s.ready, false);
  assert.equal(s.notReady, 'store full: test');
  now += 1000;
  s = await sampler.tick();
  assert.equal(s.outputs.stage.up, false);
  metrics.txMessages.inc(10);
  now += 1000;
  s = await sampler.tick();
  assert.equal(s.outputs.stage.up, true);
  assert.equal(sampler.ring.size, 4);
  assert.deepEqual(sampler.ring.toArray().map((x) => x.out), [50, 0, 0, 10]);

  // Where the build counts every intake refusal in one metric, that one is read alone (no reason counted twice).
  const intake = new client.Counter({ name: 'spillway_intake_refused_requests', help: 'h', labelNames: ['route', 'reason'], registers: [registry] });
  now += 1000;
  await sampler.tick();
  intake.inc({ route: 'rx', reason: 'auth' }, 2);
  intake.inc({ route: 'rx', reason: 'body' }, 4);
  intake.inc({ route: 'in', reason: 'body' }, 2);
  metrics.refused.inc({ reason: 'body' }, 4);
  now += 2000;
  s = await sampler.tick();
  assert.deepEqual(s.refused, { auth: 1, body: 3 });
});
