// Unit tests for src/store/payload.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { PayloadError, inflate, jsonDepth, ndjsonPayloads, payloadText } from '../../dist/store/payload.js';

const enc = (s) => new TextEncoder().encode(s);

function refused(fn, status, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof PayloadError, `expected PayloadError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, status, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

describe('jsonDepth', () => {
  test('counts objects and arrays', () => {
    assert.equal(jsonDepth('1'), 0);
    assert.equal(jsonDepth('"x"'), 0);
    assert.equal(jsonDepth('{}'), 1);
    assert.equal(jsonDepth('[]'), 1);
    assert.equal(jsonDepth('{"a":[1,{"b":[]}]}'), 4);
    assert.equal(jsonDepth('{"a":{},"b":{},"c":{}}'), 2, 'siblings do not add up');
    assert.equal(jsonDepth('[[[]],[[[[]]]]]'), 5);
  });

  test('ignores brackets inside strings', () => {
    assert.equal(jsonDepth('{"a":"[[[[{{{{"}'), 1);
    assert.equal(jsonDepth('{"[[[":"}}}]]]","b":{}}'), 2);
  });

  test('handles escaped quotes and backslashes in strings', () => {
    // "a\"[[[" is one string; the brackets are inside it.
    assert.equal(jsonDepth(String.raw`{"k":"a\"[[[["}`), 1);
    // "\\" ends after the escaped backslash; the following [ is real.
    assert.equal(jsonDepth(String.raw`{"k":"\\","l":[[1]]}`), 3);
    assert.equal(jsonDepth(String.raw`{"k":"\\\"{{{"}`), 1);
    assert.equal(jsonDepth(String.raw`{"\u005b":"\u007b"}`), 1);
  });

  test('agrees with the real depth of parsed values', () => {
    const depthOf = (v) =>
      v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
    const samples = [
      { a: '[', b: ['"]', { c: '\\' }] },
      [[], [[['x']]], { '{': '}' }],
      { s: 'quote " and backslash \\ and {[', n: [1, [2, [3, [4]]]] },
    ];
    for (const v of samples) assert.equal(jsonDepth(JSON.stringify(v)), depthOf(v));
  });

  test('is linear: a 1 MB string of brackets is scanned quickly', () => {
    const text = '[' .repeat(500_000) + ']'.repeat(500_000);
    const t0 = performance.now();
    assert.equal(jsonDepth(text), 500_000);
    assert.ok(performance.now() - t0 < 500);
  });
});

describe('payloadText', () => {
  test('returns the validated object text, trimmed', () => {
    assert.equal(payloadText(enc('{"a":1}'), 64), '{"a":1}');
    assert.equal(payloadText(enc('  \n{"a":[1,2]}\r\n\t'), 64), '{"a":[1,2]}');
    assert.equal(payloadText(enc('{ "keep" : "spacing" }'), 64), '{ "keep" : "spacing" }', 'inner text is not re-serialised');
    assert.equal(payloadText(enc('{"ü":"😀"}'), 64), '{"ü":"😀"}');
  });

  test('accepts a Buffer and a Uint8Array view into a larger buffer', () => {
    assert.equal(payloadText(Buffer.from('{"b":2}'), 64), '{"b":2}');
    const big = enc('xxx{"c":3}yyy');
    assert.equal(payloadText(big.subarray(3, 10), 64), '{"c":3}');
  });

  test('empty body → 400', () => {
    refused(() => payloadText(new Uint8Array(0), 64), 400, /empty body/);
  });

  test('invalid UTF-8 → 400', () => {
    refused(() => payloadText(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 64), 400, /not valid UTF-8/);
    // Overlong encoding of "/" and a lone surrogate encoded in UTF-8.
    refused(() => payloadText(Uint8Array.from([0x7b, 0xc0, 0xaf, 0x7d]), 64), 400, /UTF-8/);
    refused(() => payloadText(Uint8Array.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), 64), 400, /UTF-8/);
  });

  test('invalid JSON → 400', () => {
    for (const bad of ['{', '{"a":}', "{'a':1}", '{"a":1}}', '{"a":1} {"b":2}', '{"a":1,}', 'nope', '{"a":NaN}']) {
      refused(() => payloadText(enc(bad), 64), 400, /invalid JSON/);
    }
  });

  test('whitespace only → 400', () => {
    refused(() => payloadText(enc('   \n'), 64), 400);
  });

  test('non-objects → 400 "must be a JSON object"', () => {
    const cases = { '[]': 'an array', '[{"a":1}]': 'an array', '42': 'a number', '"str"': 'a string', 'null': 'null', 'true': 'a boolean' };
    for (const [text, kind] of Object.entries(cases)) {
      refused(() => payloadText(enc(text), 64), 400, new RegExp(`payload must be a JSON object, not ${kind}`));
    }
  });

  test('depth limit: exactly the limit is accepted, one more is 400', () => {
    const nest = (n) => '{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1);
    assert.equal(payloadText(enc(nest(3)), 3), nest(3));
    refused(() => payloadText(enc(nest(4)), 3), 400, /nests 4 levels deep; the limit is 3/);
    refused(() => payloadText(enc('{"a":[[[[[]]]]]}'), 5), 400, /nests 6 levels/);
  });

  test('10000 levels of nesting → 400 quickly, no RangeError', () => {
    const deepObj = '{"a":'.repeat(9999) + '{}' + '}'.repeat(9999);
    const deepArr = '{"a":' + '['.repeat(10000) + ']'.repeat(10000) + '}';
    for (const text of [deepObj, deepArr]) {
      const t0 = performance.now();
      refused(() => payloadText(enc(text), 64), 400, /levels deep; the limit is 64/);
      assert.ok(performance.now() - t0 < 200, 'refused quickly');
    }
  });

  test('`where` prefixes every message', () => {
    refused(() => payloadText(enc('[]'), 64, 'line 7: '), 400, /^line 7: payload must be a JSON object/);
    refused(() => payloadText(new Uint8Array(0), 64, 'line 2: '), 400, /^line 2: empty body/);
  });
});

describe('ndjsonPayloads', () => {
  test('one payload per line', () => {
    assert.deepEqual(ndjsonPayloads(enc('{"a":1}\n{"b":2}\n{"c":3}'), 64), ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  test('trailing newline, blank and whitespace-only lines are skipped', () => {
    assert.deepEqual(ndjsonPayloads(enc('\n{"a":1}\n\n   \n\t\n{"b":2}\n'), 64), ['{"a":1}', '{"b":2}']);
  });

  test('CRLF line endings', () => {
    assert.deepEqual(ndjsonPayloads(enc('{"a":1}\r\n{"b":2}\r\n\r\n{"c":"x\\r"}\r\n'), 64), ['{"a":1}', '{"b":2}', '{"c":"x\\r"}']);
  });

  test('a single object without newline', () => {
    assert.deepEqual(ndjsonPayloads(enc('{"only":true}'), 64), ['{"only":true}']);
  });

  test('the first bad line is named, counting blank lines', () => {
    refused(() => ndjsonPayloads(enc('{"a":1}\n\n{"b":\n[1]\n'), 64), 400, /^line 3: invalid JSON/);
    refused(() => ndjsonPayloads(enc('{"a":1}\r\n[1]\r\n'), 64), 400, /^line 2: payload must be a JSON object, not an array/);
    refused(() => ndjsonPayloads(enc('42\n{"a":1}'), 64), 400, /^line 1: /);
  });

  test('a too-deep line is named', () => {
    refused(() => ndjsonPayloads(enc('{"a":1}\n{"a":{"b":{}}}'), 2), 400, /^line 2: payload nests 3 levels deep; the limit is 2/);
  });

  test('all or nothing: one bad line refuses the body', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `{"i":${i}}`);
    lines[57] = '{"i":57';
    refused(() => ndjsonPayloads(enc(lines.join('\n')), 64), 400, /^line 58: /);
  });

  test('empty body, blank-only body and invalid UTF-8 → 400', () => {
    refused(() => ndjsonPayloads(new Uint8Array(0), 64), 400, /empty body/);
    refused(() => ndjsonPayloads(enc('\n \r\n\n'), 64), 400, /no NDJSON lines/);
    refused(() => ndjsonPayloads(Uint8Array.from([0x7b, 0x7d, 0x0a, 0xfe]), 64), 400, /UTF-8/);
  });

  test('a multi-byte character is never split between lines', () => {
    assert.deepEqual(ndjsonPayloads(enc('{"k":"日本"}\n{"k":"😀"}'), 64), ['{"k":"日本"}', '{"k":"😀"}']);
  });
});

describe('inflate', () => {
  test('inflates a good gzip body', () => {
    const text = '{"hello":"world"}'.repeat(100);
    const out = inflate(gzipSync(text), 1 << 20);
    assert.ok(Buffer.isBuffer(out));
    assert.equal(out.toString(), text);
  });

  test('an inflated size equal to the limit is accepted, one byte over is 413', () => {
    const body = gzipSync(Buffer.alloc(1000, 97));
    assert.equal(inflate(body, 1000).length, 1000);
    refused(() => inflate(body, 999), 413, /larger than 999 bytes once inflated/);
  });

  test('corrupt or truncated gzip → 400', () => {
    refused(() => inflate(Buffer.from('{"not":"gzip"}'), 1 << 20), 400, /gzip body does not inflate/);
    const good = gzipSync('{"a":1}'.repeat(50));
    refused(() => inflate(good.subarray(0, good.length - 12), 1 << 20), 400, /does not inflate/);
    const flipped = Buffer.from(good);
    flipped[20] ^= 0xff;
    refused(() => inflate(flipped, 1 << 20), 400, /does not inflate/);
    refused(() => inflate(new Uint8Array(0), 1 << 20), 400);
  });

  test('a gzip bomb is refused with 413 without inflating it all', () => {
    const bomb = gzipSync(Buffer.alloc(32 << 20), { level: 9 }); // 32 MiB of zeros, ~32 KB
    assert.ok(bomb.length < 100_000);
    const t0 = performance.now();
    refused(() => inflate(bomb, 1 << 20), 413, /larger than 1048576 bytes/);
    assert.ok(performance.now() - t0 < 500);
  });
});
