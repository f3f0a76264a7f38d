// The load runner's settings (load/lib/settings.mjs and each scenario's
// describe()): k6's duration syntax, the k6 scripts' defaults, and garbage
// refused with an error that names the variable.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SettingsError, concurrencyFrom, formatDuration, parseDuration, settingsFrom, targetFrom } from '../../load/lib/settings.mjs';
import * as ingest from '../../load/scenarios/ingest.mjs';
import * as batch from '../../load/scenarios/batch.mjs';
import * as spike from '../../load/scenarios/spike.mjs';
import * as soak from '../../load/scenarios/soak.mjs';

const SCENARIOS = { ingest, batch, spike, soak };
const describeWith = (scenario, env) => SCENARIOS[scenario].describe(settingsFrom(env), { runTag: 't' });

/** `fn` throws a SettingsError whose message matches every pattern. */
function refused(fn, ...patterns) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof SettingsError, `expected a SettingsError, got ${e?.constructor?.name}: ${e?.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('parseDuration', () => {
  test('k6 duration strings, in ms', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('2h0m5s'), 7_205_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration(' 10s '), 10_000, 'surrounding blanks are ignored');
  });

  test('a bare number is seconds', () => {
    assert.equal(parseDuration('30'), 30_000);
    assert.equal(parseDuration('0.25'), 250);
    assert.equal(parseDuration('0'), 0);
  });

  test('anything else is refused, naming the variable', () => {
    for (const bad of ['5x', '', 's', 'ms', '-5s', '1m30', '30 s', '1.2.3s', 'abc', '5s5', '1d', 'm5']) {
      refused(() => parseDuration(bad, 'DURATION'), /^DURATION=/, /is not a duration/);
    }
  });

  test('formatDuration writes what parseDuration reads', () => {
    for (const ms of [0.5, 250, 1000, 1500, 60_000, 90_500, 3_600_000, 3_602_500, 5_400_000, 86_400_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, formatDuration(ms));
    }
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(250), '250ms');
  });
});

describe('settingsFrom', () => {
  test('unset and empty variables take the default', () => {
    const s = settingsFrom({ EMPTY: '' });
    assert.equal(s.num('RATE', 7), 7);
    assert.equal(s.num('EMPTY', 3), 3);
    assert.equal(s.duration('DURATION', '1m'), 60_000);
    assert.equal(s.str('LABEL', 'sale'), 'sale');
    assert.equal(s.flag('GZIP'), false);
  });

  test('numbers: not a number, below the bound, above the bound', () => {
    refused(() => settingsFrom({ RATE: 'abc' }).num('RATE', 1), /^RATE=abc is not a number$/);
    refused(() => settingsFrom({ RATE: 'NaN' }).num('RATE', 1), /RATE=NaN is not a number/);
    refused(() => settingsFrom({ RATE: 'Infinity' }).num('RATE', 1), /RATE=Infinity is not a number/);
    refused(() => settingsFrom({ RATE: '-5' }).num('RATE', 1, { above: 0 }), /RATE=-5: must be greater than 0/);
    refused(() => settingsFrom({ RATE: '0' }).num('RATE', 1, { above: 0 }), /RATE=0: must be greater than 0/);
    refused(() => settingsFrom({ P: '-1' }).num('P', 1), /P=-1: must be at least 0/);
    refused(() => settingsFrom({ MAX_ERROR_RATE: '1.5' }).num('MAX_ERROR_RATE', 0, { max: 1 }), /must be at most 1/);
    assert.equal(settingsFrom({ RATE: '2.5' }).num('RATE', 1, { above: 0 }), 2.5);
    assert.equal(settingsFrom({ RATE: '1e3' }).num('RATE', 1), 1000);
  });

  test('whole numbers, switches, choices and durations', () => {
    refused(() => settingsFrom({ BATCH_LINES: '2.5' }).int('BATCH_LINES', 1), /BATCH_LINES=2.5: must be a whole number/);
    refused(() => settingsFrom({ FLEET: '0' }).int('FLEET', 1), /FLEET=0: must be at least 1/);
    refused(() => settingsFrom({ GZIP: 'yes' }).flag('GZIP'), /GZIP=yes: use 1 or 0/);
    assert.equal(settingsFrom({ GZIP: '1' }).flag('GZIP'), true);
    refused(() => settingsFrom({ ROUTE: 'rxb' }).choice('ROUTE', 'rx', ['rx', 'rxs', 'rxa']), /ROUTE=rxb: use rx, rxs, rxa/);
    refused(() => settingsFrom({ TIMEOUT: '0s' }).duration('TIMEOUT', '10s'), /TIMEOUT=0s: must be longer than 0/);
    assert.equal(settingsFrom({ W: '0' }).duration('W', '1s', { positive: false }), 0);
  });

  test('SPILLWAY_URL: origin and path prefix; garbage refused', () => {
    assert.deepEqual(targetFrom(settingsFrom({})), { origin: 'http://127.0.0.1:8080', prefix: '', display: 'http://127.0.0.1:8080' });
    assert.deepEqual(targetFrom(settingsFrom({ SPILLWAY_URL: 'https://gw.example/spillway/' })),
      { origin: 'https://gw.example', prefix: '/spillway', display: 'https://gw.example/spillway' });
    refused(() => targetFrom(settingsFrom({ SPILLWAY_URL: 'edge-3:8080x' })), /SPILLWAY_URL=edge-3:8080x/);
    refused(() => targetFrom(settingsFrom({ SPILLWAY_URL: 'not a url' })), /SPILLWAY_URL=not a url is not a URL/);
    refused(() => targetFrom(settingsFrom({ SPILLWAY_URL: 'ftp://edge' })), /use an http:\/\/ or https:\/\/ URL/);
  });
});

describe('concurrencyFrom', () => {
  test('MAX_INFLIGHT defaults to k6 MAX_VUS: max(100, 4 × VUS), VUS = RATE/5 in [20, 1000]', () => {
    assert.equal(concurrencyFrom(settingsFrom({}), 10).maxInflight, 100); // VUS 20 → 80 → at least 100
    assert.equal(concurrencyFrom(settingsFrom({}), 200).maxInflight, 160); // VUS 40
    assert.equal(concurrencyFrom(settingsFrom({}), 1000).maxInflight, 800); // VUS 200
    assert.equal(concurrencyFrom(settingsFrom({}), 100_000).maxInflight, 4000); // VUS capped at 1000
    assert.equal(concurrencyFrom(settingsFrom({ VUS: '50' }), 1000).maxInflight, 200);
    assert.equal(concurrencyFrom(settingsFrom({ MAX_VUS: '300' }), 1000).maxInflight, 300);
    assert.equal(concurrencyFrom(settingsFrom({ MAX_VUS: '300', MAX_INFLIGHT: '42' }), 1000).maxInflight, 42);
  });

  test('CONNECTIONS: RATE/50 within [16, 128], never above MAX_INFLIGHT; RUNNER_WARMUP 1s', () => {
    assert.equal(concurrencyFrom(settingsFrom({}), 200).connections, 16);
    assert.equal(concurrencyFrom(settingsFrom({}), 5000).connections, 100);
    assert.equal(concurrencyFrom(settingsFrom({}), 50_000).connections, 128);
    assert.equal(concurrencyFrom(settingsFrom({ MAX_INFLIGHT: '4' }), 5000).connections, 4);
    assert.equal(concurrencyFrom(settingsFrom({ CONNECTIONS: '7' }), 5000).connections, 7);
    assert.equal(concurrencyFrom(settingsFrom({}), 200).warmupMs, 1000);
    assert.equal(concurrencyFrom(settingsFrom({ RUNNER_WARMUP: '0' }), 200).warmupMs, 0);
    refused(() => concurrencyFrom(settingsFrom({ CONNECTIONS: 'many' }), 200), /CONNECTIONS=many is not a number/);
  });
});

describe('scenario settings', () => {
  test('defaults are the k6 scripts\' defaults', () => {
    const i = describeWith('ingest', {}).settings;
    assert.deepEqual([i.RATE, i.DURATION, i.ROUTE, i.P99_MS, i.MAX_ERROR_RATE, i.MAX_DROPPED, i.TIMEOUT, i.FLEET, i.PRODUCER, i.LABEL],
      [1000, '1m', 'rx', 50, 0.01, 0.01, '10s', 1000, 'pos', 'sale']);
    const b = describeWith('batch', {}).settings;
    assert.deepEqual([b.RATE, b.BATCH_LINES, b.DURATION, b.P99_MS, b.TIMEOUT, b.GZIP], [20, 100, '1m', 250, '30s', 0]);
    const sp = describeWith('spike', {}).settings;
    assert.deepEqual([sp.BASE_RATE, sp.SPIKE_FACTOR, sp.PEAK_RATE, sp.DURATION, sp.P99_MS, sp.SPIKE_P99_MS], [200, 10, 2000, '2m', 50, 250]);
    const so = describeWith('soak', {}).settings;
    assert.deepEqual([so.RATE, so.DURATION, so.STATS_EVERY, so.STATS_WARMUP, so.LAG_P95_S, so.LAG_ABORT_S, so.MAX_IN_QUEUE, so.P99_MS],
      [200, '1h', '10s', '1m', 30, 300, 6000, 100]);
  });

  test('derived defaults follow the variables they come from', () => {
    assert.equal(describeWith('spike', { RATE: '50' }).settings.BASE_RATE, 50, 'spike takes RATE as BASE_RATE');
    assert.equal(describeWith('spike', { RATE: '50', BASE_RATE: '70' }).settings.BASE_RATE, 70);
    const so = describeWith('soak', { RATE: '100', LAG_P95_S: '10', DURATION: '5m' }).settings;
    assert.equal(so.MAX_IN_QUEUE, 1000, 'MAX_IN_QUEUE = RATE × LAG_P95_S');
    assert.equal(so.STATS_WARMUP, '30s', 'STATS_WARMUP = min(60s, DURATION/10)');
    assert.equal(describeWith('spike', { BASE_RATE: '1000' }).concurrency.maxInflight, 4000, 'spike sizes for the peak rate');
  });

  test('garbage is refused with the variable named', () => {
    const cases = [
      ['ingest', { RATE: 'abc' }, /RATE=abc/],
      ['ingest', { RATE: '-5' }, /RATE=-5/],
      ['ingest', { DURATION: '5x' }, /DURATION=5x/],
      ['ingest', { DURATION: '0' }, /DURATION=0/],
      ['ingest', { ROUTE: 'rxb' }, /ROUTE=rxb/],
      ['ingest', { P99_MS: '0' }, /P99_MS=0/],
      ['ingest', { MAX_ERROR_RATE: '-0.1' }, /MAX_ERROR_RATE=-0.1/],
      ['ingest', { MAX_DROPPED: '2' }, /MAX_DROPPED=2/],
      ['ingest', { TIMEOUT: 'soon' }, /TIMEOUT=soon/],
      ['ingest', { FLEET: '1.5' }, /FLEET=1.5/],
      ['ingest', { MAX_INFLIGHT: '0' }, /MAX_INFLIGHT=0/],
      ['batch', { BATCH_LINES: '0' }, /BATCH_LINES=0/],
      ['batch', { GZIP: 'on' }, /GZIP=on/],
      ['spike', { SPIKE_FACTOR: '0.5' }, /SPIKE_FACTOR=0.5/],
      ['spike', { BASE_RATE: 'lots' }, /BASE_RATE=lots/],
      ['soak', { STATS_EVERY: '10' + 'x' }, /STATS_EVERY=10x/],
      ['soak', { DURATION: '10s', STATS_WARMUP: '10s' }, /STATS_WARMUP=10s must be shorter than DURATION=10s/],
      ['soak', { LAG_P95_S: '-1' }, /LAG_P95_S=-1/],
    ];
    for (const [scenario, env, pattern] of cases) refused(() => describeWith(scenario, env), pattern);
  });
});
