// Pure pieces of the bench's steady-state and delivery rows: which verdict
// fails the bench, which side limited a delivery row, and the counting stage
// (a real process) that the steady rows forward to.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { compareSets } from '../../load/lib/ledger.mjs';
import { startCountingStage } from '../../bench/lib/counting-stage.mjs';
import { boundBy } from '../../bench/lib/delivery.mjs';
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
