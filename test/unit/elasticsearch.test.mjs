// Unit tests for src/sinks/elasticsearch/{index-name,documents,sink}.ts and src/sinks/types.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { IndexPattern } from '../../dist/sinks/elasticsearch/index-name.js';
import { createAction, deadLetterDocument, eventDocument } from '../../dist/sinks/elasticsearch/documents.js';
import { classifyItem } from '../../dist/sinks/elasticsearch/sink.js';
import { backoffMs, DeliveryError, sleep } from '../../dist/sinks/types.js';
import { messageJson } from '../../dist/store/message.js';

const msg = (over = {}) => ({
  seq: '2024030500000000007',
  time: '2024-03-05T10:20:30.123Z',
  uuid: '0f8b3c1e-7c2d-4a4b-9f1e-2b3c4d5e6f70',
  producer: 'sensor-1',
  key: 'temp',
  label: '/room/kitchen',
  payloadJson: '{"celsius":21.5}',
  ...over,
});

describe('IndexPattern', () => {
  test('resolves the Beats date token from the message time', () => {
    const p = new IndexPattern('rtbeat-%{+yyyy.MM.dd}');
    assert.equal(p.resolve('2024-03-05T10:20:30.123Z'), 'rtbeat-2024.03.05');
    assert.equal(p.resolve('1999-12-31T23:59:59.999Z'), 'rtbeat-1999.12.31');
    assert.equal(p.resolve('2024-02-29T00:00:00Z'), 'rtbeat-2024.02.29');
  });

  test('non-UTC times are normalised to UTC first', () => {
    const p = new IndexPattern('rtbeat-%{+yyyy.MM.dd}');
    assert.equal(p.resolve('2024-03-05T23:30:00-02:00'), 'rtbeat-2024.03.06');
    assert.equal(p.resolve('2024-03-06T00:30:00+01:00'), 'rtbeat-2024.03.05');
    assert.equal(p.resolve('2024-12-31T20:00:00.123456-07:00'), 'rtbeat-2025.01.01');
    assert.equal(p.resolve('2024-03-05T10:00:00+00:00'), 'rtbeat-2024.03.05');
  });

  test('does not depend on the clock: the same time always gives the same index', () => {
    const p = new IndexPattern('x-%{+yyyy.MM.dd}');
    const first = p.resolve('2001-01-01T00:00:00Z');
    for (let i = 0; i < 3; i++) assert.equal(p.resolve('2001-01-01T00:00:00Z'), first);
    assert.equal(first, 'x-2001.01.01');
  });

  test('hour token and several tokens', () => {
    const p = new IndexPattern('logs-%{+yyyy}-%{+MM}-%{+dd}.%{+HH}');
    assert.equal(p.resolve('2024-03-05T07:20:30Z'), 'logs-2024-03-05.07');
    assert.equal(p.resolve('2024-03-05T07:20:30+02:00'), 'logs-2024-03-05.05');
    const monthly = new IndexPattern('m-%{+yyyy.MM}');
    assert.equal(monthly.resolve('2024-11-30T23:00:00Z'), 'm-2024.11');
  });

  test('times in one hour share a name; the next day gets a new one', () => {
    const p = new IndexPattern('r-%{+yyyy.MM.dd.HH}');
    assert.equal(p.resolve('2024-03-05T10:00:00Z'), p.resolve('2024-03-05T10:59:59.999Z'));
    assert.notEqual(p.resolve('2024-03-05T10:00:00Z'), p.resolve('2024-03-05T11:00:00Z'));
    const d = new IndexPattern('r-%{+yyyy.MM.dd}');
    assert.equal(d.resolve('2024-03-05T23:59:59Z'), 'r-2024.03.05');
    assert.equal(d.resolve('2024-03-06T00:00:00Z'), 'r-2024.03.06');
  });

  test('many distinct hours (cache turnover) still resolve correctly', () => {
    const p = new IndexPattern('c-%{+yyyy.MM.dd.HH}');
    const start = Date.UTC(2020, 0, 1);
    for (let h = 0; h < 2500; h += 1) {
      const iso = new Date(start + h * 3_600_000).toISOString();
      assert.equal(p.resolve(iso), `c-${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}.${iso.slice(11, 13)}`);
    }
  });

  test('a pattern without tokens is a fixed index', () => {
    const p = new IndexPattern('fixed-index');
    assert.equal(p.resolve('2024-03-05T10:20:30Z'), 'fixed-index');
    assert.equal(p.wildcard, 'fixed-index');
  });

  test('wildcard replaces each token with *', () => {
    assert.equal(new IndexPattern('rtbeat-%{+yyyy.MM.dd}').wildcard, 'rtbeat-*');
    assert.equal(new IndexPattern('rtbeat-%{+yyyy.MM.dd}-dlq').wildcard, 'rtbeat-*-dlq');
    assert.equal(new IndexPattern('a-%{+yyyy}-%{+MM}').wildcard, 'a-*-*');
    assert.equal(new IndexPattern('x').pattern, 'x');
  });

  test('refuses characters Elasticsearch refuses in index names', () => {
    for (const bad of ['RtBeat-%{+yyyy}', 'a b', 'a,b', 'a/b', 'a\\b', 'a?b', 'a"b', 'a<b', 'a>b', 'a|b', 'a#b']) {
      assert.throws(() => new IndexPattern(bad), /characters Elasticsearch refuses/, bad);
    }
  });
});

describe('documents', () => {
  test('createAction is a one-line create with _index and _id', () => {
    const line = createAction('rtbeat-2024.03.05', msg().uuid);
    assert.ok(line.endsWith('\n'));
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.deepEqual(JSON.parse(line), { create: { _index: 'rtbeat-2024.03.05', _id: msg().uuid } });
  });

  test('eventDocument: one line of JSON {"@timestamp","type":"rtbeat","clientIp","rxtxMsg"}', () => {
    const m = msg();
    const line = eventDocument(m, '10.1.2.3');
    assert.ok(line.endsWith('\n'));
    assert.equal(line.indexOf('\n'), line.length - 1, 'exactly one line');
    const doc = JSON.parse(line);
    assert.deepEqual(Object.keys(doc), ['@timestamp', 'type', 'clientIp', 'rxtxMsg']);
    assert.equal(doc['@timestamp'], m.time, '@timestamp is the message store time');
    assert.equal(doc.type, 'rtbeat');
    assert.equal(doc.clientIp, '10.1.2.3');
    assert.deepEqual(Object.keys(doc.rxtxMsg), ['seq', 'time', 'uuid', 'producer', 'label', 'key', 'payload']);
    assert.deepEqual(doc.rxtxMsg, JSON.parse(messageJson(m)));
  });

  test('eventDocument is identical on retry (no clock in it)', () => {
    const m = msg();
    assert.equal(eventDocument(m, 'ip'), eventDocument(m, 'ip'));
  });

  test('eventDocument escapes producer, label, key and client ip', () => {
    const m = msg({ producer: 'a"b\nc', label: '/ü/"/\\', key: 'k\u0000' });
    const doc = JSON.parse(eventDocument(m, '"::1"\n'));
    assert.equal(doc.clientIp, '"::1"\n');
    assert.equal(doc.rxtxMsg.producer, 'a"b\nc');
    assert.equal(doc.rxtxMsg.label, '/ü/"/\\');
    assert.equal(doc.rxtxMsg.key, 'k\u0000');
    assert.equal(eventDocument(m, '').split('\n').length, 2, 'escaped newlines keep it one line');
  });

  test('deadLetterDocument keeps the original as text beside the error', () => {
    const m = msg({ producer: 'p"q' });
    const error = { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [celsius]' };
    const before = Date.now();
    const line = deadLetterDocument(m, '10.0.0.9', 'rtbeat-2024.03.05', error);
    assert.ok(line.endsWith('\n'));
    assert.equal(line.indexOf('\n'), line.length - 1);
    const doc = JSON.parse(line);
    assert.equal(doc.type, 'rtbeat-dlq');
    assert.equal(doc.clientIp, '10.0.0.9');
    assert.equal(doc.index, 'rtbeat-2024.03.05');
    assert.deepEqual(doc.error, error);
    assert.equal(doc.uuid, m.uuid);
    assert.equal(doc.seq, m.seq);
    assert.equal(doc.time, m.time);
    assert.equal(doc.producer, 'p"q');
    assert.equal(doc.key, m.key);
    assert.equal(doc.label, m.label);
    assert.equal(typeof doc.original, 'string');
    assert.equal(doc.original, messageJson(m));
    const ts = Date.parse(doc['@timestamp']);
    assert.ok(ts >= before - 1000 && ts <= Date.now() + 1000, 'dead-letter @timestamp is the time of writing');
  });
});

describe('classifyItem', () => {
  test('201, 200 and 409 are done', () => {
    assert.equal(classifyItem(201), 'done');
    assert.equal(classifyItem(200), 'done');
    assert.equal(classifyItem(409, { type: 'version_conflict_engine_exception', reason: 'exists' }), 'done');
  });

  test('400 is a refusal carrying the error', () => {
    assert.deepEqual(classifyItem(400, { type: 'mapper_parsing_exception', reason: 'bad field' }), {
      status: 400, type: 'mapper_parsing_exception', reason: 'bad field',
    });
    assert.deepEqual(classifyItem(400), { status: 400, type: 'unknown', reason: '' });
    assert.deepEqual(classifyItem(400, {}), { status: 400, type: 'unknown', reason: '' });
  });

  test('429, 5xx, 403 (cluster block) and anything else are retried', () => {
    for (const status of [429, 500, 502, 503, 504, 403, 404, 0]) assert.equal(classifyItem(status, { type: 't' }), 'retry', String(status));
  });
});

describe('backoffMs', () => {
  test('stays within [1, min(cap, base·2^attempt)]', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const ms = backoffMs(attempt, 100, 10_000);
        assert.ok(Number.isInteger(ms), `${ms} is whole`);
        assert.ok(ms >= 1 && ms <= ceiling, `attempt ${attempt}: ${ms} within [1, ${ceiling}]`);
      }
    }
  });

  test('full jitter: the extremes of Math.random give 1 and the ceiling', (t) => {
    let r = 0;
    t.mock.method(Math, 'random', () => r);
    assert.equal(backoffMs(3, 100, 10_000), 1);
    r = 0.999999999;
    assert.equal(backoffMs(0, 100, 10_000), 100);
    assert.equal(backoffMs(3, 100, 10_000), 800);
    assert.equal(backoffMs(7, 100, 10_000), 10_000, 'capped');
    r = 0.5;
    assert.equal(backoffMs(2, 100, 10_000), 200);
    t.mock.restoreAll();
    assert.notEqual(Math.random(), Math.random(), 'Math.random is restored');
  });

  test('huge attempt numbers do not overflow to Infinity or NaN', () => {
    for (const attempt of [31, 100, 1e6, Number.MAX_SAFE_INTEGER]) {
      const ms = backoffMs(attempt, 1000, 60_000);
      assert.ok(Number.isFinite(ms) && ms >= 1 && ms <= 60_000, `${attempt}: ${ms}`);
    }
  });

  test('grows with the attempt number (on average)', () => {
    const mean = (attempt) => {
      let s = 0;
      for (let i = 0; i < 2000; i++) s += backoffMs(attempt, 10, 1e9);
      return s / 2000;
    };
    const m0 = mean(0), m4 = mean(4), m8 = mean(8);
    assert.ok(m0 < m4 && m4 < m8, `${m0} < ${m4} < ${m8}`);
    assert.ok(Math.abs(m8 - 1280) < 200, `mean at attempt 8 ≈ half of 2560: ${m8}`);
  });
});

describe('DeliveryError and sleep', () => {
  test('DeliveryError carries status and retryAfterMs', () => {
    const e = new DeliveryError('es away', 503, 1000);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'DeliveryError');
    assert.equal(e.message, 'es away');
    assert.equal(e.status, 503);
    assert.equal(e.retryAfterMs, 1000);
  });

  test('sleep resolves early when aborted, and at once when already aborted', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = sleep(10_000, ac.signal);
    setTimeout(() => ac.abort(), 10);
    await p;
    assert.ok(performance.now() - t0 < 1000);
    const t1 = performance.now();
    await sleep(10_000, AbortSignal.abort());
    assert.ok(performance.now() - t1 < 100);
  });

  test('sleep waits roughly the given time', async () => {
    const t0 = performance.now();
    await sleep(30);
    assert.ok(performance.now() - t0 >= 25);
  });
});
