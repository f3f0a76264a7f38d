// Unit tests for src/store/shard.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { shardFor } from '../../dist/store/shard.js';

describe('shardFor', () => {
  test('is deterministic', () => {
    for (const [p, k] of [['p', 'k'], ['sensor-12', 'temp'], ['', ''], ['ünï', 'cødé😀']]) {
      const first = shardFor(p, k, 16);
      for (let i = 0; i < 5; i++) assert.equal(shardFor(p, k, 16), first);
    }
  });

  test('is a whole number in [0, shards)', () => {
    for (const shards of [1, 2, 3, 4, 7, 16, 64]) {
      for (let i = 0; i < 500; i++) {
        const s = shardFor(`producer-${i}`, randomUUID(), shards);
        assert.ok(Number.isInteger(s) && s >= 0 && s < shards, `${s} of ${shards}`);
      }
    }
  });

  test('one shard: always 0', () => {
    for (let i = 0; i < 100; i++) assert.equal(shardFor(randomUUID(), randomUUID(), 1), 0);
  });

  test('producer and key are separated: ("ab","c") and ("a","bc") are different inputs', () => {
    // Over many splits at least one pair lands in different shards; with a plain
    // concatenation every pair would collide.
    let differ = 0;
    for (let i = 0; i < 200; i++) {
      const s = `x${i}yz`;
      if (shardFor(s.slice(0, 2), s.slice(2), 64) !== shardFor(s.slice(0, 3), s.slice(3), 64)) differ++;
    }
    assert.ok(differ > 150, `${differ} of 200 differ`);
  });

  test('spreads random keys roughly evenly', () => {
    for (const shards of [2, 4, 8, 16]) {
      const counts = new Array(shards).fill(0);
      const n = 1000 * shards;
      for (let i = 0; i < n; i++) counts[shardFor('producer', randomUUID(), shards)]++;
      for (const c of counts) assert.ok(Math.abs(c - 1000) < 200, `${shards} shards: ${counts}`);
    }
  });

  test('spreads sequential keys and producers roughly evenly', () => {
    for (const shards of [3, 4, 8, 16]) {
      const counts = new Array(shards).fill(0);
      const n = 1000 * shards;
      for (let i = 0; i < n; i++) counts[shardFor(`device-${i % 37}`, `key-${i}`, shards)]++;
      for (const c of counts) assert.ok(Math.abs(c - 1000) < 200, `${shards} shards: ${counts}`);
      const producers = new Array(shards).fill(0);
      for (let i = 0; i < n; i++) producers[shardFor(`device-${i}`, 'k', shards)]++;
      for (const c of producers) assert.ok(Math.abs(c - 1000) < 200, `${shards} shards by producer: ${producers}`);
    }
  });

  test('uses every shard of 64', () => {
    const used = new Set();
    for (let i = 0; i < 5000; i++) used.add(shardFor('p', `k${i}`, 64));
    assert.equal(used.size, 64);
  });
});
