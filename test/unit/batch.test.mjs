// Unit tests for src/stage/batch.ts (parseBatch of a rtbeat MessageBatch).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BatchError, parseBatch } from '../../dist/stage/batch.js';
import { messageJson } from '../../dist/store/message.js';

const BATCH = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
const UUIDS = ['0f8b3c1e-7c2d-4a4b-9f1e-2b3c4d5e6f70', '1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'];

const message = (i = 0, over = {}) => ({
  seq: `20240305${String(i).padStart(11, '0')}`,
  time: '2024-03-05T10:20:30.123Z',
  uuid: UUIDS[i % UUIDS.length],
  producer: 'sensor-1',
  label: '/room/kitchen',
  key: 'temp',
  payload: { i, celsius: 21.5 },
  ...over,
});
const batch = (messages, over = {}) => JSON.stringify({ uuid: BATCH, size: messages.length, messages, ...over });

function refused(text, pattern, what = text.length > 200 ? text.slice(0, 200) + '…' : text) {
  assert.throws(
    () => parseBatch(text),
    (e) => {
      assert.ok(e instanceof BatchError, `expected BatchError, got ${e?.constructor?.name}: ${e?.message}`);
      if (pattern) assert.match(e.message, pattern);
      return true;
    },
    `parseBatch should refuse ${what}`,
  );
}

describe('parseBatch: accepted batches', () => {
  test('a rtbeat MessageBatch becomes StoredMessages', () => {
    const ms = [message(0), message(1)];
    const out = parseBatch(batch(ms));
    assert.equal(out.uuid, BATCH);
    assert.equal(out.messages.length, 2);
    assert.deepEqual(out.messages[0], {
      seq: ms[0].seq, time: ms[0].time, uuid: ms[0].uuid, producer: 'sensor-1', key: 'temp', label: '/room/kitchen',
      payloadJson: '{"i":0,"celsius":21.5}',
    });
    assert.equal(out.messages[1].uuid, UUIDS[1]);
  });

  test('order of messages is kept', () => {
    const ms = Array.from({ length: 50 }, (_, i) => message(i));
    assert.deepEqual(parseBatch(batch(ms)).messages.map((m) => m.seq), ms.map((m) => m.seq));
  });

  test('Go\'s "messages": null is an empty batch', () => {
    const out = parseBatch(`{"uuid":"${BATCH}","size":0,"messages":null}`);
    assert.deepEqual(out, { uuid: BATCH, messages: [] });
  });

  test('"messages": [] is an empty batch', () => {
    assert.deepEqual(parseBatch(batch([])).messages, []);
  });

  test('uuid and size may be absent', () => {
    const out = parseBatch(JSON.stringify({ messages: [message(0)] }));
    assert.equal(out.uuid, '');
    assert.equal(out.messages.length, 1);
  });

  test('a Go time with a zone offset and nanoseconds is normalised to UTC "Z"', () => {
    const out = parseBatch(batch([message(0, { time: '2018-03-19T16:54:38.267901234-07:00' })]));
    assert.equal(out.messages[0].time, '2018-03-19T23:54:38.267Z');
  });

  test('offsets that cross midnight move the date', () => {
    const times = ['2024-01-01T01:30:00+02:00', '2024-12-31T22:00:00-05:00', '2024-06-01T00:00:00+00:00'];
    const out = parseBatch(batch(times.map((time, i) => message(i, { time }))));
    assert.deepEqual(out.messages.map((m) => m.time), ['2023-12-31T23:30:00.000Z', '2025-01-01T03:00:00.000Z', '2024-06-01T00:00:00.000Z']);
  });

  test('a UTC "Z" time is kept as sent', () => {
    const out = parseBatch(batch([message(0, { time: '2024-05-06T07:08:09.123Z' })]));
    assert.equal(out.messages[0].time, '2024-05-06T07:08:09.123Z');
  });

  test('every accepted time is RFC 3339 UTC', () => {
    const times = ['2024-05-06T07:08:09Z', '2024-05-06T07:08:09.5+01:00', '2024-05-06T07:08:09.123456789Z', '2024-05-06T07:08:09.000-00:30'];
    for (const m of parseBatch(batch(times.map((time, i) => message(i, { time })))).messages) {
      assert.match(m.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, m.time);
    }
  });

  test('upper-case uuids are lower-cased', () => {
    const out = parseBatch(batch([message(0, { uuid: UUIDS[0].toUpperCase() })]));
    assert.equal(out.messages[0].uuid, UUIDS[0]);
  });

  test('unicode and quotes in producer, key, label and payload survive', () => {
    const m = message(0, { producer: 'p"ü', key: 'k\\😀', label: '/日本/"x"', payload: { s: 'a"b\\c', nested: { list: [1, null, 'z'] } } });
    const out = parseBatch(batch([m])).messages[0];
    assert.equal(out.producer, m.producer);
    assert.equal(out.key, m.key);
    assert.equal(out.label, m.label);
    assert.deepEqual(JSON.parse(out.payloadJson), m.payload);
    assert.deepEqual(JSON.parse(messageJson(out)).payload, m.payload);
  });

  test('extra fields are ignored', () => {
    const out = parseBatch(batch([{ ...message(0), extra: 1 }], { other: true }));
    assert.equal(out.messages.length, 1);
    assert.ok(!('extra' in out.messages[0]));
  });

  test('an accepted batch re-serialises to the same messages', () => {
    const ms = [message(0), message(1, { payload: {} }), message(2)];
    const out = parseBatch(batch(ms));
    assert.deepEqual(out.messages.map((m) => JSON.parse(messageJson(m))), ms);
  });
});

describe('parseBatch: refused batches (BatchError)', () => {
  test('invalid JSON', () => {
    refused('{"uuid":', /^invalid JSON/);
    refused('', /^invalid JSON/);
    refused('{"messages":[]} trailing', /^invalid JSON/);
  });

  test('not an object', () => {
    for (const text of ['[]', 'null', '42', '"batch"', 'true', `[${batch([message(0)])}]`]) {
      refused(text, /must be a MessageBatch object/);
    }
  });

  test('messages not an array', () => {
    for (const messages of [{}, 'x', 1, true, { 0: message(0) }]) {
      refused(JSON.stringify({ uuid: BATCH, messages }), /"messages" must be an array/);
    }
    refused(JSON.stringify({ uuid: BATCH }), /"messages" must be an array/);
  });

  test('uuid not a string', () => {
    refused(JSON.stringify({ uuid: 42, size: 0, messages: [] }), /"uuid" must be a string/);
    refused(JSON.stringify({ uuid: null, size: 0, messages: [] }), /"uuid" must be a string/);
  });

  test('size mismatch', () => {
    refused(batch([message(0), message(1)], { size: 3 }), /"size" is 3 but "messages" holds 2/);
    refused(batch([message(0)], { size: 0 }), /"size" is 0 but "messages" holds 1/);
    refused(batch([message(0)], { size: '1' }), /"size" is "1"/);
    refused(`{"uuid":"${BATCH}","size":2,"messages":null}`, /"size" is 2 but "messages" holds 0/);
  });

  test('a message without uuid is named by index', () => {
    const ms = [message(0), message(1), message(2)];
    delete ms[2].uuid;
    refused(batch(ms), /^messages\[2\]: "uuid" is missing or not a UUID/);
  });

  test('a message whose uuid is not a UUID', () => {
    for (const uuid of ['', 'not-a-uuid', 42, UUIDS[0] + 'x', UUIDS[0].replace(/-/g, ''), `{${UUIDS[0]}}`, `${UUIDS[0]}"`]) {
      refused(batch([message(0), message(1, { uuid })]), /^messages\[1\]: "uuid"/);
    }
  });

  test('a message missing a string field is named', () => {
    for (const f of ['seq', 'producer', 'key', 'label']) {
      const m = message(0);
      delete m[f];
      refused(batch([m]), new RegExp(`^messages\\[0\\]: "${f}" is missing or not a string`));
      refused(batch([message(0, { [f]: 7 })]), new RegExp(`^messages\\[0\\]: "${f}"`));
    }
  });

  test('a message with a missing or unparsable time', () => {
    const m = message(0);
    delete m.time;
    refused(batch([m]), /^messages\[0\]: "time" is missing or not an RFC 3339 time/);
    refused(batch([message(0, { time: 'yesterday' })]), /"time"/);
    refused(batch([message(0, { time: 1709634030 })]), /"time"/);
  });

  test('non-object payload', () => {
    for (const payload of [null, [], [1], 'text', 3, true]) {
      refused(batch([message(0), message(1, { payload })]), /^messages\[1\]: "payload" must be a JSON object/);
    }
    const m = message(0);
    delete m.payload;
    refused(batch([m]), /^messages\[0\]: "payload" must be a JSON object/);
  });

  test('a message that is not an object', () => {
    for (const bad of [null, 1, 'm', [message(0)]]) {
      refused(batch([message(0), bad]), /^messages\[1\]: not a Message object/);
    }
  });

  test('BatchError is an Error', () => {
    try {
      parseBatch('[]');
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof Error);
      assert.ok(e instanceof BatchError);
    }
  });
});

// The three tests below fail against the current src (see the report).
describe('parseBatch: hostile input from a foreign sender', () => {
  test('times that are not RFC 3339 are refused (Date.parse accepts far more)', () => {
    // Each is accepted by Date.parse. Those ending in "Z" are currently kept verbatim and
    // become @timestamp and the index name ("rtbeat-Jan . 2.24"); "1" silently becomes 2001.
    for (const time of ['Jan 1 2024 Z', 'Mon, 01 Jan 2024 00:00:00 Z', '1 Z', '2024-01-01 (a"b) Z', '1']) {
      refused(batch([message(0, { time })]), /^messages\[0\]: "time"/, `time ${JSON.stringify(time)}`);
    }
  });

  test('whatever is accepted renders as valid JSON (seq with a quote)', () => {
    // seq is only checked to be a string, and messageJson puts it between quotes unescaped.
    const seqs = ['2024030500000000001"', 'a"b', 'back\\slash', '2024031900000000000001'];
    for (const seq of seqs) {
      let out;
      try {
        out = parseBatch(batch([message(0, { seq })]));
      } catch (e) {
        assert.ok(e instanceof BatchError, `refusal must be a BatchError, got ${e?.constructor?.name}`);
        continue;
      }
      const text = messageJson(out.messages[0]);
      assert.doesNotThrow(() => JSON.parse(text), `messageJson of seq ${JSON.stringify(seq)} is not JSON: ${text}`);
      assert.equal(JSON.parse(text).seq, seq);
    }
  });

  test('a deeply nested payload is a BatchError (400), not a RangeError (500)', () => {
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const text = `{"uuid":"${BATCH}","size":1,"messages":[{"seq":"1","time":"2024-01-01T00:00:00Z",` +
      `"uuid":"${UUIDS[0]}","producer":"p","key":"k","label":"/l","payload":${deep}}]}`;
    refused(text);
  });
});
