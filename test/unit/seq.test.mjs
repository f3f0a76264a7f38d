// Unit tests for src/store/seq.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SeqAllocator, dayBase, formatSeq, parseSeq } from '../../dist/store/seq.js';

const utc = (y, m, d, h = 12, min = 0) => new Date(Date.UTC(y, m - 1, d, h, min));
const fresh = () => new SeqAllocator(SeqAllocator.createShared());

describe('dayBase', () => {
  test('is YYYYMMDD followed by eleven zeros, from the UTC date', () => {
    assert.equal(dayBase(utc(2024, 3, 5)), 20240305n * 100_000_000_000n);
    assert.equal(formatSeq(dayBase(utc(2024, 12, 31))), '2024123100000000000');
  });

  test('uses the UTC day, not the local one', () => {
    // 23:30 UTC on Jan 1 is already Jan 2 east of Greenwich and still Jan 1 in UTC.
    assert.equal(formatSeq(dayBase(new Date('2024-01-01T23:30:00Z'))).slice(0, 8), '20240101');
    assert.equal(formatSeq(dayBase(new Date('2024-01-02T00:30:00+01:00'))).slice(0, 8), '20240101');
  });
});

describe('formatSeq / parseSeq', () => {
  test('formatSeq pads to 19 digits', () => {
    assert.equal(formatSeq(0n), '0000000000000000000');
    assert.equal(formatSeq(42n), '0000000000000000042');
    assert.equal(formatSeq(2024010100000000001n), '2024010100000000001');
    assert.equal(formatSeq(42n).length, 19);
  });

  test('round trip', () => {
    for (const v of [0n, 1n, 2024010100000000000n, 2024010199999999999n, 9223372036854775807n]) {
      assert.equal(parseSeq(formatSeq(v)), v);
    }
  });

  test('formatted seqs sort as strings in numeric order', () => {
    const values = [5n, 2024010100000000000n, 100n, 2023123199999999999n, 2024010100000000001n];
    const asStrings = values.map(formatSeq).sort();
    const asNumbers = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(formatSeq);
    assert.deepEqual(asStrings, asNumbers);
  });

  test('parseSeq refuses anything but exactly 19 digits', () => {
    for (const bad of ['', '123', '20240101000000000001', '202401010000000000x', ' 2024010100000000000', '-024010100000000000', '2024010100000000000\n']) {
      assert.throws(() => parseSeq(bad), /is not a 19-digit seq/, JSON.stringify(bad));
    }
  });
});

describe('SeqAllocator', () => {
  test('createShared gives a SharedArrayBuffer of at least 8 bytes', () => {
    const sab = SeqAllocator.createShared();
    assert.ok(sab instanceof SharedArrayBuffer);
    assert.ok(sab.byteLength >= 8);
  });

  test('first seq of the day is the day base; then consecutive', () => {
    const a = fresh();
    const day = utc(2024, 3, 5);
    assert.equal(formatSeq(a.reserve(1, day)), '2024030500000000000');
    assert.equal(formatSeq(a.reserve(1, day)), '2024030500000000001');
    assert.equal(formatSeq(a.reserve(10, day)), '2024030500000000002');
    assert.equal(formatSeq(a.reserve(1, day)), '2024030500000000012', 'a range of 10 was reserved');
  });

  test('unique, strictly increasing, 19 digits with the date prefix', () => {
    const a = fresh();
    const day = utc(2025, 7, 9);
    const seen = new Set();
    let prev = -1n;
    for (let i = 0; i < 5000; i++) {
      const count = 1 + (i % 7);
      const first = a.reserve(count, day);
      assert.ok(first > prev, 'increasing');
      for (let j = 0n; j < BigInt(count); j++) {
        const s = formatSeq(first + j);
        assert.equal(s.length, 19);
        assert.ok(s.startsWith('20250709'), s);
        assert.ok(!seen.has(s), `unique: ${s}`);
        seen.add(s);
      }
      prev = first + BigInt(count) - 1n;
    }
    assert.equal(seen.size, [...Array(5000).keys()].reduce((n, i) => n + 1 + (i % 7), 0));
  });

  test('day rollover jumps to the new day base', () => {
    const a = fresh();
    a.reserve(500, utc(2024, 2, 28, 23, 59));
    const next = a.reserve(1, utc(2024, 2, 29, 0, 0));
    assert.equal(formatSeq(next), '2024022900000000000');
    assert.equal(formatSeq(a.reserve(1, utc(2024, 3, 1, 0, 0))), '2024030100000000000');
    assert.equal(formatSeq(a.reserve(1, utc(2025, 1, 1, 0, 0))), '2025010100000000000', 'year rollover');
  });

  test('a clock that steps back never makes seqs go back', () => {
    const a = fresh();
    const today = utc(2024, 6, 15);
    const s1 = a.reserve(3, today);
    const s2 = a.reserve(1, utc(2024, 6, 14)); // clock stepped back a day
    assert.ok(s2 > s1 + 2n);
    assert.equal(s2, s1 + 3n, 'it continues the counter');
    assert.ok(formatSeq(s2).startsWith('20240615'), 'keeps the later day prefix');
    const s3 = a.reserve(1, utc(1999, 1, 1));
    assert.equal(s3, s2 + 1n);
    // Back to the right day: still increasing.
    assert.equal(a.reserve(1, today), s3 + 1n);
  });

  test('default `now` is the current UTC day', () => {
    const a = fresh();
    const before = formatSeq(dayBase(new Date())).slice(0, 8);
    const s = formatSeq(a.reserve(1));
    const after = formatSeq(dayBase(new Date())).slice(0, 8);
    assert.ok(s.slice(0, 8) === before || s.slice(0, 8) === after, s);
  });

  test('advancePast moves the next seq above a seq found on disk', () => {
    const a = fresh();
    const day = utc(2024, 1, 10);
    const onDisk = parseSeq('2024011000000000041');
    a.advancePast(onDisk);
    assert.equal(formatSeq(a.reserve(1, day)), '2024011000000000042');
  });

  test('advancePast never moves the counter backwards', () => {
    const a = fresh();
    const day = utc(2024, 1, 10);
    a.reserve(100, day); // next is ...100
    a.advancePast(parseSeq('2024011000000000005'));
    assert.equal(formatSeq(a.reserve(1, day)), '2024011000000000100');
    a.advancePast(parseSeq('2024011000000000100')); // equal to the last reserved
    assert.equal(formatSeq(a.reserve(1, day)), '2024011000000000101');
  });

  test('advancePast with a seq of an earlier day: the new day still starts at its base', () => {
    const a = fresh();
    a.advancePast(parseSeq('2024010999999999000'));
    assert.equal(formatSeq(a.reserve(1, utc(2024, 1, 10))), '2024011000000000000');
  });

  test('advancePast with a seq from a later day (clock behind the disk) keeps increasing', () => {
    const a = fresh();
    const future = parseSeq('2030010100000000007');
    a.advancePast(future);
    const s = a.reserve(1, utc(2024, 1, 10));
    assert.ok(s > future);
    assert.equal(formatSeq(s), '2030010100000000008');
  });

  test('two allocators over the same shared buffer never hand out the same seq', () => {
    const sab = SeqAllocator.createShared();
    const a = new SeqAllocator(sab);
    const b = new SeqAllocator(sab);
    const day = utc(2024, 8, 1);
    const seen = new Set();
    for (let i = 0; i < 1000; i++) {
      for (const alloc of [a, b]) {
        const first = alloc.reserve(3, day);
        for (let j = 0n; j < 3n; j++) {
          const s = formatSeq(first + j);
          assert.ok(!seen.has(s), s);
          seen.add(s);
        }
      }
    }
    assert.equal(seen.size, 6000);
  });
});

describe('SeqAllocator across threads', () => {
  test('worker threads sharing the buffer reserve disjoint ranges', async () => {
    const { Worker } = await import('node:worker_threads');
    const { fileURLToPath } = await import('node:url');
    const modulePath = fileURLToPath(new URL('../../dist/store/seq.js', import.meta.url));
    const sab = SeqAllocator.createShared();
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { pathToFileURL } = require('node:url');
      import(pathToFileURL(workerData.modulePath).href).then(({ SeqAllocator }) => {
        const a = new SeqAllocator(workerData.sab);
        const day = new Date(Date.UTC(2024, 8, 1, 12));
        const firsts = [];
        for (let i = 0; i < 2000; i++) firsts.push(a.reserve(2, day));
        parentPort.postMessage(firsts);
      });`;
    const run = () =>
      new Promise((resolve, reject) => {
        const w = new Worker(source, { eval: true, workerData: { sab, modulePath } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const results = await Promise.all([run(), run(), run()]);
    const all = new Set();
    for (const firsts of results) {
      for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i] > firsts[i - 1], 'increasing within a thread');
      for (const f of firsts) {
        for (const s of [f, f + 1n]) {
          assert.ok(!all.has(s), `seq ${s} handed out twice`);
          all.add(s);
        }
      }
    }
    assert.equal(all.size, 3 * 2000 * 2);
    // Together they used exactly the first 12000 seqs of the day.
    const base = dayBase(new Date(Date.UTC(2024, 8, 1)));
    assert.equal([...all].reduce((m, s) => (s > m ? s : m), 0n), base + 11999n);
  });
});
