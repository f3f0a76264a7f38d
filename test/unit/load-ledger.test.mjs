// The exactly-once ledger and the POST loop (load/lib/ledger.mjs,
// load/lib/post-loop.mjs) that the bench, the load runner and the test
// helpers share: a set comparison must catch one lost, one duplicated or one
// unacknowledged message, and the loop must record exactly what was answered.
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { batchUuids, compareSets, consumeAgainst, countCopies, createLedger, describeComparison, uuidsOfAnswers } from '../../load/lib/ledger.mjs';
import { postBatches, postLoop } from '../../load/lib/post-loop.mjs';

const ids = (n) => Array.from({ length: n }, () => randomUUID());

describe('compareSets', () => {
  test('the same set, each once, is exact', () => {
    const a = ids(1000);
    const c = compareSets(new Set(a), a);
    assert.equal(c.exact, true);
    assert.equal(describeComparison(c), 'exact');
  });

  test('one loss and one extra do not cancel out as a count would', () => {
    const a = ids(1000);
    const arrived = [...a.slice(1), randomUUID()];
    assert.equal(arrived.length, a.length);
    const c = compareSets(new Set(a), arrived);
    assert.equal(c.exact, false);
    assert.equal(c.missingCount, 1);
    assert.equal(c.extraCount, 1);
    assert.deepEqual(c.missing, [a[0]]);
  });

  test('one duplicate is caught, from a list with repeats or a Map of copies', () => {
    const a = ids(100);
    for (const arrived of [[...a, a[5]], countCopies([...a, a[5]])]) {
      const c = compareSets(new Set(a), arrived);
      assert.equal(c.exact, false);
      assert.deepEqual(c.duplicated, [[a[5], 2]]);
      assert.equal(c.arrived, 101);
    }
  });

  test('unacknowledged extras pass only within the allowance', () => {
    const a = ids(10);
    const arrived = [...a, ...ids(3)];
    assert.equal(compareSets(new Set(a), arrived, { extraAllowed: 3 }).exact, true);
    assert.equal(compareSets(new Set(a), arrived, { extraAllowed: 2 }).exact, false);
    assert.equal(describeComparison(compareSets(new Set(a), arrived)), '3 unacknowledged extra');
  });
});

describe('consumeAgainst (one set in memory, for millions)', () => {
  const isV5 = (u) => u[14] === '5';
  const run = (acked, arrivals) => {
    const c = consumeAgainst(new Set(acked), { isAcknowledged: isV5 });
    for (const u of arrivals) c.arrived(u);
    return c.result();
  };
  const a = batchUuids('p', 'k', 'x', 100);

  test('the same set is exact', () => {
    assert.equal(run(a, a).exact, true);
  });

  test('one loss, one duplicate, one extra: each caught and named', () => {
    const lost = run(a, a.slice(1));
    assert.deepEqual([lost.exact, lost.missingCount, lost.missing[0]], [false, 1, a[0]]);
    const dup = run(a, [...a, a[7]]);
    assert.deepEqual([dup.exact, dup.duplicatedCount, dup.duplicated[0]], [false, 1, [a[7], 2]]);
    const extra = randomUUID();
    const ext = run(a, [...a.slice(1), extra]);
    assert.deepEqual([ext.exact, ext.missingCount, ext.extraCount, ext.extra[0], ext.arrived], [false, 1, 1, extra, 100]);
  });
});

describe('ledger', () => {
  test('a uuid acknowledged twice is counted, though the set holds it once', () => {
    const l = createLedger({ details: true });
    l.ack('u1', { i: 0 });
    l.ack('u1', { i: 1 });
    assert.equal(l.acked.size, 1);
    assert.equal(l.ackedTwice, 1);
    assert.deepEqual(l.details.get('u1'), { i: 1 });
  });

  test('batchUuids follows the documented Idempotency-Key scheme: v5, distinct, stable', () => {
    const a = batchUuids('p', 'k', 'key-1', 3);
    assert.deepEqual(a, batchUuids('p', 'k', 'key-1', 3));
    assert.equal(new Set(a).size, 3);
    for (const u of a) assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notDeepEqual(batchUuids('p', 'k', 'key-2', 3), a);
  });

  test('uuidsOfAnswers reads named and unnamed answers', () => {
    const u = randomUUID();
    const r = uuidsOfAnswers(`{"status":"OK","uuid":"${u}","seq":"1"}\n{"status":"OK"}\n{}\n`);
    assert.deepEqual(r.named, [u]);
    assert.equal(r.unnamed, 2);
  });
});

describe('postLoop and postBatches against a real HTTP server', () => {
  let server;
  let base;
  let n = 0;
  const stored = [];
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        n++;
        if (req.url.startsWith('/rxb/')) {
          const lines = body.trim().split('\n').length;
          const [, , producer, key] = req.url.split('/');
          const uuids = batchUuids(producer, key, req.headers['idempotency-key'], lines);
          stored.push(...uuids);
          res.writeHead(200).end(JSON.stringify({ status: 'OK', count: lines, uuid: uuids[0] }));
        } else if (n % 10 === 0) res.writeHead(503).end('{"status":"FAIL"}');
        else {
          const uuid = randomUUID();
          stored.push(uuid);
          res.writeHead(200).end(JSON.stringify({ status: 'OK', uuid, seq: String(n) }));
        }
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  test('every 200 is in the ledger, every refusal counted, details kept on request', async () => {
    stored.length = 0;
    n = 0;
    const l = await postLoop(base, { total: 200, connections: 8, details: true });
    assert.equal(l.sent, 200);
    assert.equal(l.acked.size + (l.refused.get(503) ?? 0), 200);
    assert.equal(l.refused.get(503), 20);
    assert.equal(compareSets(l.acked, stored).exact, true);
    const [uuid, d] = l.details.entries().next().value;
    assert.ok(l.acked.has(uuid));
    assert.equal(typeof d.body, 'string');
  });

  test('postBatches knows every line\'s uuid', async () => {
    stored.length = 0;
    const l = await postBatches(base, 1000, { lines: 100, concurrency: 4 });
    assert.equal(l.acked.size, 1000);
    assert.equal(compareSets(l.acked, stored).exact, true);
    assert.ok(l.seconds > 0);
  });
});
