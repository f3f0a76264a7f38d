// Unit tests for src/front/route-path.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkIdempotencyKey, parseRxPath } from '../../dist/front/route-path.js';

function target(url) {
  const v = parseRxPath(url);
  assert.ok(!('status' in v), `${url} should be accepted, got ${JSON.stringify(v)}`);
  return v;
}
function refusal(url, status, pattern) {
  const v = parseRxPath(url);
  assert.ok('status' in v, `${url} should be refused, got ${JSON.stringify(v)}`);
  assert.equal(v.status, status, `${url}: ${v.message}`);
  assert.equal(typeof v.message, 'string');
  assert.ok(v.message.length > 0);
  if (pattern) assert.match(v.message, pattern);
  return v;
}

describe('parseRxPath: modes and parts', () => {
  test('every mode', () => {
    for (const mode of ['rx', 'rxs', 'rxa', 'rxb']) {
      assert.deepEqual(parseRxPath(`/${mode}/prod/key/label`), { mode, producer: 'prod', key: 'key', label: '/label' });
    }
  });

  test('the label keeps its leading slash and every further segment', () => {
    assert.equal(target('/rx/p/k/a/b/c').label, '/a/b/c');
    assert.equal(target('/rx/p/k/a/').label, '/a/', 'trailing slash kept');
    assert.equal(target('/rx/p/k//a').label, '//a');
  });

  test('unknown routes → 404', () => {
    for (const url of ['/', '/rx', '/rx/', '/rx/p', '/rxx/p/k/l', '/tx/p/k/l', '/RX/p/k/l', 'rx/p/k/l', '/in', '/rx/p/k/l/'.slice(1)]) {
      refusal(url, 404);
    }
  });

  test('label required → 404', () => {
    refusal('/rx/p/k', 404, /label is required/);
    refusal('/rx/p/k/', 404, /label is required/);
    refusal('/rx/p/k///', 404, /label is required/);
    refusal('/rxb/p/k/%2F', 404, /label is required/);
  });

  test('empty producer or key → 404', () => {
    refusal('/rx//k/l', 404, /must not be empty/);
    refusal('/rx/p//l', 404, /must not be empty/);
    refusal('/rx///l', 404);
  });

  test('segments are percent-decoded', () => {
    assert.deepEqual(target('/rx/my%20producer/k%2Fey/l%C3%A4bel/%E6%97%A5'), {
      mode: 'rx', producer: 'my producer', key: 'k/ey', label: '/läbel/日',
    });
    assert.equal(target('/rxs/%F0%9F%98%80/k/l').producer, '😀');
    assert.equal(target('/rx/a+b/k/l').producer, 'a+b', '"+" is not a space in a path');
    assert.equal(target('/rx/p/k/%25').label, '/%', 'decoded once only');
  });

  test('malformed percent-encoding → 400', () => {
    for (const url of ['/rx/p/k/%E0%A4%A', '/rx/%E0%A4%A/k/l', '/rx/p/%zz/l', '/rx/p/k/%', '/rx/p/k/%C3', '/rx/p/k/%ED%A0%80']) {
      refusal(url, 400, /malformed percent-encoding/);
    }
  });

  test('control characters → 400', () => {
    for (const url of ['/rx/p%00/k/l', '/rx/p/k%0A/l', '/rx/p/k/l%09x', '/rx/p/k/l%7F', '/rx/p/k/l%1F', '/rx/p\u0001/k/l']) {
      refusal(url, 400, /control characters/);
    }
  });

  test('segment length limits: producer/key 256, label 1024 (after decoding)', () => {
    assert.equal(target(`/rx/${'p'.repeat(256)}/k/l`).producer.length, 256);
    refusal(`/rx/${'p'.repeat(257)}/k/l`, 400, /limited to 256/);
    assert.equal(target(`/rx/p/${'k'.repeat(256)}/l`).key.length, 256);
    refusal(`/rx/p/${'k'.repeat(257)}/l`, 400, /limited/);
    assert.equal(target(`/rx/p/k/${'l'.repeat(1023)}`).label.length, 1024);
    refusal(`/rx/p/k/${'l'.repeat(1024)}`, 400, /the label to 1024/);
    // 256 encoded characters (768 bytes of %XX) decode to 256 characters: accepted.
    assert.equal(target(`/rx/${'%C3%A9'.repeat(256)}/k/l`).producer, 'é'.repeat(256));
  });

  test('a very long path is refused, not crashed on', () => {
    refusal(`/rx/p/k/${'a/'.repeat(100_000)}`, 400);
  });
});

describe('checkIdempotencyKey', () => {
  test('accepts 1 to 255 visible ASCII characters', () => {
    for (const ok of ['a', 'x'.repeat(255), '0f8b3c1e-7c2d-4a4b-9f1e-2b3c4d5e6f70', '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']) {
      assert.equal(checkIdempotencyKey(ok), undefined, ok);
    }
  });

  test('refuses empty, too long, spaces, controls and non-ASCII with a message', () => {
    for (const bad of ['', 'x'.repeat(256), 'a b', ' a', 'a\t', 'a\n', 'a\u007f', 'ключ', 'é', '😀']) {
      const why = checkIdempotencyKey(bad);
      assert.equal(typeof why, 'string', JSON.stringify(bad));
      assert.match(why, /Idempotency-Key must be 1 to 255 visible ASCII characters/);
    }
  });
});
