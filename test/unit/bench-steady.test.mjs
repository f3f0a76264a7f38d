// Pure pieces of the bench's steady-state and delivery rows: which verdict
// fails the bench, which side limited a delivery row, and the counting stage
// (a real process) that the steady rows forward to.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { compareSets } from '../../load/lib/ledger.mjs';
import { startCountingStage } from '../../bench/lib/counting-stage.mjs';
import { boundBy } from '../../bench/lib/delivery.mjs';
import { requirePeers } from '../../bench/lib/peers.mjs';
import { lossOrDuplicate } from '../../bench/lib/steady.mjs';

const ids = (n) => Array.from({ length: n }, () => randomUUID());

describe('bench verdicts', () => {
  test('one lost or one duplicated message of a Spillway row fails the bench; extras within the allowance do not', () => {
    const a = ids(50);
    const ok = { exactly: compareSets(new Set(a), [...a, ...ids(3)], { extraAllowed: 64 }) };
    assert.equal(lossOrDuplicate('row', ok, { spillwayAnswers: true }), undefined);
    const lost = { exactly: compareSets(new Set(a), a.slice(1), { extraAllowed: 64 }) };
    assert.match(lossOrDuplicate('row', lost, { spillwayAnswers: true }), /^row: 1 missing/);
    const dup = { exactly: compareSets(new Set(a), [...a, a[0]], { extraAllowed: 64 }) };
    assert.match(lossOrDuplicate('row', dup, { spillwayAnswers: true }), /1 duplicated/);
    const tooMany = { exactly: compareSets(new Set(a), [...a, ...ids(65)], { extraAllowed: 64 }) };
    assert.match(lossOrDuplicate('row', tooMany, { spillwayAnswers: true }), /65 unacknowledged extra/);
  });

  test('a delivery row is bound by its feed when the feed was still posting in the last tenth of the window', () => {
    assert.equal(boundBy(5, 10), 'delivery');
    assert.equal(boundBy(8.99, 10), 'delivery');
    assert.equal(boundBy(9, 10), 'feed');
    assert.equal(boundBy(10, 10), 'feed');
  });
});

describe('counting stage', () => {
  test('records each uuid once with its copies and first arrival, answers 200 at once, refuses a non-batch', async (t) => {
    const stage = await startCountingStage();
    t.after(() => stage.stop());
    const [a, b] = ids(2);
    const post = (body) => fetch(stage.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const before = performance.timeOrigin + performance.now();
    const r1 = await post(JSON.stringify({ uuid: randomUUID(), size: 2, messages: [{ uuid: a }, { uuid: b }] }));
    assert.equal(r1.status, 200);
    assert.deepEqual(await r1.json(), { status: 'OK' });
    assert.equal((await post(JSON.stringify({ uuid: randomUUID(), size: 1, messages: [{ uuid: a }] }))).status, 200);
    assert.equal((await post('not json')).status, 400);
    const counts = await stage.counts();
    assert.deepEqual({ batches: counts.batches, messages: counts.messages, unique: counts.unique, bad: counts.bad }, { batches: 2, messages: 3, unique: 2, bad: 1 });
    const arrivals = await stage.arrivals();
    assert.equal(arrivals.get(a).copies, 2);
    assert.equal(arrivals.get(b).copies, 1);
    assert.ok(arrivals.get(a).atMs >= before - 5 && arrivals.get(a).atMs <= performance.timeOrigin + performance.now() + 5);
    assert.equal(compareSets(new Set([a, b]), new Map([...arrivals].map(([u, v]) => [u, v.copies]))).duplicatedCount, 1);
  });
});

describe('peer rows', () => {
  const context = (ci) => {
    const ctx = { ci, notRunList: {}, failures: [], log() {} };
    ctx.notRun = (name, reason) => (ctx.notRunList[name] = reason);
    ctx.fail = (reason) => ctx.failures.push(reason);
    return ctx;
  };
  const unavailable = (reason) => Object.assign(new Error(`peer unavailable: ${reason}`), { reason });
  const peers = {
    buildPeer: async (name) => {
      if (name === 'rtbeat') throw unavailable('rtbeat: go is not installed (build.sh exit 3)');
      return `/bin/${name}`;
    },
    fluentBitPath: () => '/bin/fluent-bit',
  };

  test('a peer that builds: the module is handed over, nothing noted', async () => {
    const ctx = context(true);
    assert.equal(await requirePeers(ctx, 'row', ['rxtx', 'fluent-bit'], async () => peers), peers);
    assert.deepEqual(ctx.notRunList, {});
    assert.deepEqual(ctx.failures, []);
  });

  test('a peer that cannot be built is "Not run" with the builder\'s reason, and a failure only under CI', async () => {
    const here = context(false);
    assert.equal(await requirePeers(here, 'row', ['rxtx', 'rtbeat'], async () => peers), undefined);
    assert.deepEqual(here.notRunList, { row: 'rtbeat is not available: rtbeat: go is not installed (build.sh exit 3)' });
    assert.deepEqual(here.failures, []);
    const ci = context(true);
    assert.equal(await requirePeers(ci, 'row', ['rtbeat'], async () => peers), undefined);
    assert.equal(ci.failures.length, 1);
    assert.match(ci.failures[0], /under CI a peer that cannot be built is a failure/);
  });

  test('a peers module that does not load is the same: noted, and a failure under CI', async () => {
    const ci = context(true);
    assert.equal(await requirePeers(ci, 'row', ['rxtx'], async () => { throw new Error('Cannot find module peers.mjs'); }), undefined);
    assert.match(ci.notRunList.row, /could not be loaded \(Cannot find module/);
    assert.equal(ci.failures.length, 1);
  });
});
