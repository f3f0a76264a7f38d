// Unit tests for src/store/message.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeRecord, messageBatchJson, messageJson, storeTime } from '../../dist/store/message.js';

const FIELDS = ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload'];

const msg = (over = {}) => ({
  seq: '2024030500000000007',
  time: '2024-03-05T10:20:30.123Z',
  uuid: '0f8b3c1e-7c2d-4a4b-9f1e-2b3c4d5e6f70',
  producer: 'sensor-1',
  key: 'temp',
  label: '/room/kitchen',
  payloadJson: '{"celsius":21.5,"ok":true}',
  ...over,
});

describe('messageJson', () => {
  test('field order is seq,time,uuid,producer,label,key,payload', () => {
    const parsed = JSON.parse(messageJson(msg()));
    assert.deepEqual(Object.keys(parsed), FIELDS);
  });

  test('is valid JSON carrying every field', () => {
    const m = msg();
    assert.deepEqual(JSON.parse(messageJson(m)), {
      seq: m.seq, time: m.time, uuid: m.uuid, producer: m.producer, label: m.label, key: m.key,
      payload: { celsius: 21.5, ok: true },
    });
  });

  test('the payload text is embedded verbatim, not re-serialised', () => {
    const payloadJson = '{ "b" : 1.50, "a":[ 1e3 ] }';
    const text = messageJson(msg({ payloadJson }));
    assert.ok(text.endsWith(`"payload":${payloadJson}}`), text);
  });

  test('producer, key and label with quotes, backslashes, control chars and unicode stay valid JSON', () => {
    const nasty = {
      producer: 'he said "hi" \\ and left',
      key: 'tab\there\nnewline\u0001ctl',
      label: '/ünïcødé/日本/😀/\u2028/"/',
    };
    const text = messageJson(msg(nasty));
    const parsed = JSON.parse(text);
    assert.equal(parsed.producer, nasty.producer);
    assert.equal(parsed.key, nasty.key);
    assert.equal(parsed.label, nasty.label);
    assert.deepEqual(Object.keys(parsed), FIELDS);
  });

  test('a lone surrogate in the producer still gives valid JSON', () => {
    const text = messageJson(msg({ producer: 'bad\ud800half' }));
    assert.equal(JSON.parse(text).producer, 'bad\ud800half');
    // Escaped, so the text survives UTF-8 encoding (a raw lone surrogate would become U+FFFD).
    assert.match(text, /\\ud800/);
    assert.equal(JSON.parse(Buffer.from(text, 'utf8').toString('utf8')).producer, 'bad\ud800half');
  });

  test('a nested payload survives', () => {
    const payload = { deep: { list: [1, { x: 'y' }], s: 'q"uote' } };
    assert.deepEqual(JSON.parse(messageJson(msg({ payloadJson: JSON.stringify(payload) }))).payload, payload);
  });
});

describe('messageBatchJson', () => {
  const BATCH = 'c2b4c2d0-1111-4222-8333-444455556666';

  test('shape {"uuid","size","messages"} in that order', () => {
    const parsed = JSON.parse(messageBatchJson(BATCH, [msg(), msg({ seq: '2024030500000000008' })]));
    assert.deepEqual(Object.keys(parsed), ['uuid', 'size', 'messages']);
    assert.equal(parsed.uuid, BATCH);
    assert.equal(parsed.size, 2);
    assert.equal(parsed.messages.length, 2);
    assert.deepEqual(parsed.messages.map((m) => m.seq), ['2024030500000000007', '2024030500000000008']);
    for (const m of parsed.messages) assert.deepEqual(Object.keys(m), FIELDS);
  });

  test('each message is exactly its messageJson', () => {
    const ms = [msg(), msg({ producer: 'q"p', payloadJson: '{"n":1}' })];
    assert.equal(messageBatchJson(BATCH, ms), `{"uuid":"${BATCH}","size":2,"messages":[${messageJson(ms[0])},${messageJson(ms[1])}]}`);
  });

  test('empty batch: messages is [] (never null) and size 0', () => {
    const text = messageBatchJson(BATCH, []);
    assert.deepEqual(JSON.parse(text), { uuid: BATCH, size: 0, messages: [] });
  });

  test('a large batch is valid JSON with the right size', () => {
    const ms = Array.from({ length: 1000 }, (_, i) => msg({ seq: String(i).padStart(19, '0'), payloadJson: `{"i":${i}}` }));
    const parsed = JSON.parse(messageBatchJson(BATCH, ms));
    assert.equal(parsed.size, 1000);
    assert.equal(parsed.messages[999].payload.i, 999);
  });
});

describe('encodeRecord / decodeRecord', () => {
  test('round trip', () => {
    const m = msg();
    const bytes = encodeRecord(m);
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual(decodeRecord(m.seq, bytes), m);
  });

  test('the seq is not stored in the value (it is the LMDB key)', () => {
    const m = msg();
    const bytes = encodeRecord(m);
    assert.ok(!Buffer.from(bytes).includes(m.seq));
    assert.equal(decodeRecord('0000000000000000001', bytes).seq, '0000000000000000001');
  });

  test('round trip of unicode, quotes, empty strings and a large payload', () => {
    const big = JSON.stringify({ blob: 'x'.repeat(200_000), list: Array.from({ length: 1000 }, (_, i) => i) });
    for (const m of [
      msg({ producer: 'ünï"cødé', key: '日本\n', label: '/😀/\u0000?', payloadJson: '{"q":"\\"}' }),
      msg({ producer: '', key: '', label: '', payloadJson: '{}' }),
      msg({ payloadJson: big }),
    ]) {
      assert.deepEqual(decodeRecord(m.seq, encodeRecord(m)), m);
    }
  });

  test('a decoded record gives the same messageJson', () => {
    const m = msg({ producer: 'p"q' });
    assert.equal(messageJson(decodeRecord(m.seq, encodeRecord(m))), messageJson(m));
  });

  test('the record is compact: no field names', () => {
    const bytes = Buffer.from(encodeRecord(msg()));
    for (const name of ['producer', 'payloadJson', 'label']) assert.ok(!bytes.includes(name), name);
  });
});

describe('storeTime', () => {
  test('RFC 3339 UTC with milliseconds', () => {
    assert.equal(storeTime(0), '1970-01-01T00:00:00.000Z');
    assert.equal(storeTime(Date.UTC(2024, 1, 29, 23, 59, 59, 7)), '2024-02-29T23:59:59.007Z');
    assert.match(storeTime(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
