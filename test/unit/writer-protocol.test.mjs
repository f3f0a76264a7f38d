// The packed task and outcome between the write queue and the writers: what
// goes in comes out, for any producer/key/label the routes accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { packItems, unpackItems, unpackOutcome } from '../../dist/workers/writer-protocol.js';
import { formatSeq } from '../../dist/store/seq.js';

// What route-path.ts lets through: no control characters, label with a leading slash.
const segment = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
const item = fc.record({
  len: fc.nat({ max: 10_000 }),
  producer: segment,
  key: segment,
  label: segment.map((s) => `/${s}`),
  ndjson: fc.boolean(),
  gzip: fc.boolean(),
  idempotencyKey: fc.option(fc.stringMatching(/^[\x21-\x7e]{1,20}$/), { nil: undefined }),
});

test('packItems/unpackItems round-trip every item, with offsets end to end', () => {
  fc.assert(
    fc.property(fc.array(item, { minLength: 1, maxLength: 30 }), (items) => {
      const packed = packItems(items);
      const out = unpackItems({ buffer: new Uint8Array(0), groups: [], ...packed });
      let off = 0;
      assert.equal(out.length, items.length);
      out.forEach((o, i) => {
        assert.deepEqual(o, { off, ...items[i] });
        off += items[i].len;
      });
    }),
  );
});

test('unpackOutcome gives each item its uuid, consecutive seqs by count, and refusals in place', () => {
  const u = (n) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`;
  const results = unpackOutcome(
    {
      counts: Uint32Array.from([1, 0, 3, 1, 0]),
      uuids: u(1) + u(2) + u(3),
      firstSeq: '2026113000000000100',
      errors: [[1, 400, 'invalid JSON'], [4, 413, 'too large']],
      written: 5, bytes: 500, dropped: 0,
    },
    formatSeq,
  );
  assert.deepEqual(results, [
    { ok: true, uuid: u(1), seq: '2026113000000000100', count: 1 },
    { ok: false, status: 400, message: 'invalid JSON' },
    { ok: true, uuid: u(2), seq: '2026113000000000101', count: 3 },
    { ok: true, uuid: u(3), seq: '2026113000000000104', count: 1 },
    { ok: false, status: 413, message: 'too large' },
  ]);
});

test('an outcome where nothing was stored refuses every item', () => {
  const results = unpackOutcome(
    { counts: new Uint32Array(2), uuids: '', firstSeq: '', errors: [[0, 503, 'disk full'], [1, 503, 'disk full']], written: 0, bytes: 0, dropped: 0 },
    formatSeq,
  );
  assert.deepEqual(results.map((r) => r.status), [503, 503]);
});
