// The load runner's payload (load/lib/payload.mjs) and ack check
// (load/lib/posting.mjs): ~300 B point-of-sale events that vary per arrival,
// NDJSON batches, paths, and what counts as an ack.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { posEvent, posEventJson, posEventNdjson, rxPath } from '../../load/lib/payload.mjs';
import { ackProblem } from '../../load/lib/posting.mjs';
import { settingsFrom } from '../../load/lib/settings.mjs';
import * as batch from '../../load/scenarios/batch.mjs';
import * as ingest from '../../load/scenarios/ingest.mjs';

describe('posEvent', () => {
  test('about 300 bytes of JSON, with the k6 script\'s fields', () => {
    const sizes = Array.from({ length: 2000 }, (_, n) => Buffer.byteLength(posEventJson(n)));
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    assert.ok(mean > 270 && mean < 330, `mean size ${mean}`);
    assert.ok(Math.min(...sizes) > 200 && Math.max(...sizes) < 400, `sizes ${Math.min(...sizes)}..${Math.max(...sizes)}`);
    assert.deepEqual(Object.keys(posEvent(0)), ['store', 'terminal', 'cashier', 'txn', 'type', 'currency', 'total', 'tax', 'items', 'tender', 'card', 'loyalty', 'at', 'fw', 'tags']);
  });

  test('varies per arrival: no two of a thousand events are the same', () => {
    const at = new Date('2026-11-25T00:00:00Z');
    const bodies = new Set(Array.from({ length: 1000 }, (_, n) => posEventJson(n, { at })));
    assert.equal(bodies.size, 1000);
    const tenders = new Set(Array.from({ length: 10 }, (_, n) => posEvent(n).tender));
    assert.deepEqual([...tenders].sort(), ['card', 'cash', 'voucher']);
    assert.equal(posEvent(3).card, null, 'cash has no card');
    assert.equal(typeof posEvent(0).card.last4, 'string');
  });

  test('the till in the path is the event\'s terminal', () => {
    const paths = { route: 'rx', producer: 'pos', label: 'sale', fleet: 1000 };
    assert.equal(rxPath(paths, 1234), '/rx/pos/till-234/sale');
    assert.equal(posEvent(1234, { fleet: 1000 }).terminal, 'till-234');
    const spec = ingest.describe(settingsFrom({ FLEET: '10', PRODUCER: 'shop', LABEL: '/a/b', ROUTE: 'rxa' }), { runTag: 'x' });
    const req = spec.request({ index: 17, phase: 'main' });
    assert.equal(req.path, '/rxa/shop/till-7/a/b');
    assert.equal(JSON.parse(req.body).terminal, 'till-7');
    assert.equal(req.headers['content-type'], 'application/json');
  });
});

describe('NDJSON batches', () => {
  test('BATCH_LINES distinct events, one per line, trailing newline', () => {
    const text = posEventNdjson(3, 100);
    assert.ok(text.endsWith('}\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines.length, 100);
    const events = lines.map((l) => JSON.parse(l));
    assert.equal(new Set(events.map((e) => e.txn)).size, 100);
    assert.equal(events[0].txn, posEvent(300).txn, 'batch 3 starts at event 300');
    assert.equal(new Set(events.map((e) => e.at)).size, 1, 'one timestamp per batch');
  });

  test('the batch scenario checks count against the lines sent, and gzips on GZIP=1', () => {
    const spec = batch.describe(settingsFrom({ BATCH_LINES: '5', GZIP: '1' }), { runTag: 'x' });
    const req = spec.request({ index: 2, phase: 'main' });
    assert.equal(req.path, '/rxb/pos/till-2/sale');
    assert.equal(req.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(req.body).toString().trim().split('\n').length, 5);
    assert.equal(req.messages, 5);
    assert.equal(spec.check(200, { status: 'OK', count: 5 }), undefined);
    assert.match(spec.check(200, { status: 'OK', count: 4 }), /count 4 is not the 5 lines sent/);
    assert.match(spec.check(503, { status: 'FAIL', message: 'store is full' }), /HTTP 503 store is full/);
  });
});

describe('ackProblem', () => {
  test('an ack is 200 with {"status":"OK"}', () => {
    assert.equal(ackProblem(200, { status: 'OK', uuid: 'u', seq: '1' }), undefined);
    assert.equal(ackProblem(200, undefined), 'check: body is not JSON');
    assert.equal(ackProblem(200, { status: 'FAIL' }), 'check: body status is not OK');
    assert.equal(ackProblem(201, { status: 'OK' }), 'HTTP 201');
    assert.equal(ackProblem(503, { status: 'FAIL', message: 'shutting down' }), 'HTTP 503 shutting down');
    assert.equal(ackProblem(404, undefined), 'HTTP 404');
  });
});
