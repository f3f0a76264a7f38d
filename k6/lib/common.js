// Shared helpers for the k6 scripts in k6/: environment parsing, the target
// URL, the point-of-sale payload, and response checks.
//
// Everything is read from the environment, which k6 exposes as __ENV (both the
// process environment and `k6 run -e KEY=VALUE`).

import { check } from 'k6';

/** The deployment under test, without a trailing slash. */
export const BASE_URL = (__ENV.SPILLWAY_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

export function envStr(name, def) {
  const v = __ENV[name];
  return v === undefined || v === '' ? def : v;
}

export function envNum(name, def) {
  const v = __ENV[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}=${v} is not a number`);
  return n;
}

export function envInt(name, def, min = 1) {
  const n = Math.round(envNum(name, def));
  if (n < min) throw new Error(`${name} must be >= ${min} (got ${n})`);
  return n;
}

/**
 * A duration as k6 writes them ("90s", "5m", "1h30m", "250ms") or a bare
 * number of seconds, in milliseconds.
 */
export function parseDuration(text, name = 'duration') {
  const s = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  let ms = 0;
  let consumed = 0;
  let m;
  while ((m = re.exec(s)) !== null) {
    if (m.index !== consumed) break;
    ms += Number(m[1]) * unit[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || consumed === 0) throw new Error(`${name}=${text} is not a duration (e.g. 30s, 5m, 1h30m)`);
  return ms;
}

/** Milliseconds as a k6 duration string. */
export function ms(n) {
  return `${Math.max(0, Math.round(n))}ms`;
}

export function envDuration(name, def) {
  return parseDuration(envStr(name, def), name);
}

/**
 * VUs for an arrival-rate executor. Pre-allocate enough for `rate` requests per
 * second at ~200 ms each (Little's law), so latency spikes do not make k6
 * start VUs mid-test (a VU started late costs an arrival, counted in
 * `dropped_iterations`), and allow 4× that when the target slows down further.
 * VUS / MAX_VUS override.
 */
export function vuBudget(rate) {
  const pre = envInt('VUS', Math.min(1000, Math.max(20, Math.ceil(rate / 5))));
  const max = envInt('MAX_VUS', Math.max(100, pre * 4));
  return { preAllocatedVUs: pre, maxVUs: Math.max(pre, max) };
}

// ---- the payload: a point-of-sale event, about 300 bytes of JSON

const TENDERS = ['card', 'card', 'card', 'cash', 'voucher'];
const SCHEMES = ['visa', 'mastercard', 'amex', 'maestro'];
const TYPES = ['sale', 'sale', 'sale', 'sale', 'refund', 'void'];

/** Number of distinct tills (the KEY path segment; it also picks the LMDB shard). */
export const FLEET = envInt('FLEET', 1000);
/** The PRODUCER path segment. */
export const PRODUCER = envStr('PRODUCER', 'pos');
/** The LABEL path (one segment or more, without a leading slash). */
export const LABEL = envStr('LABEL', 'sale').replace(/^\/+/, '');

let seqNo = 0;

/** One ~300 B point-of-sale event; `i` varies till, transaction and amounts. */
export function posEvent(i) {
  const n = i === undefined ? seqNo++ : i;
  const total = Math.round((3 + ((n * 7919) % 20000) / 100) * 100) / 100;
  const tender = TENDERS[n % TENDERS.length];
  const ev = {
    store: `store-${String(n % 640).padStart(4, '0')}`,
    terminal: `till-${n % FLEET}`,
    cashier: `c-${7000 + (n % 900)}`,
    txn: `T${__VU}-${100000 + n}`,
    type: TYPES[n % TYPES.length],
    currency: 'EUR',
    total,
    tax: Math.round(total * 0.19 * 100) / 100,
    items: 1 + (n % 9),
    tender,
    card: tender === 'card' ? { scheme: SCHEMES[n % SCHEMES.length], last4: String(1000 + (n % 9000)), entry: 'contactless' } : null,
    loyalty: n % 3 === 0 ? null : `L${String(1000000 + ((n * 104729) % 9000000))}`,
    at: new Date().toISOString(),
    fw: '5.12.3',
    tags: ['weekday', 'promo-b'],
  };
  return JSON.stringify(ev);
}

/** `lines` events as NDJSON (one object per line, trailing newline). */
export function ndjson(lines) {
  const out = new Array(lines);
  for (let k = 0; k < lines; k++) out[k] = posEvent();
  return out.join('\n') + '\n';
}

/** The route for one till: /rx/pos/till-N/sale (mode rx, rxs, rxa or rxb). */
export function rxPath(mode, n) {
  return `/${mode}/${PRODUCER}/till-${n % FLEET}/${LABEL}`;
}

export const JSON_HEADERS = { 'Content-Type': 'application/json' };
export const NDJSON_HEADERS = { 'Content-Type': 'application/x-ndjson' };

/** The body's JSON, or undefined when it is not JSON. */
export function bodyJson(res) {
  try {
    return res.json();
  } catch (_) {
    return undefined;
  }
}

/** Check a Spillway ack: 200 and {"status":"OK"}. Returns the parsed body. */
export function checkOk(res, extra = {}) {
  const body = bodyJson(res);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'body status is OK': () => body !== undefined && body.status === 'OK',
    ...Object.fromEntries(Object.entries(extra).map(([k, f]) => [k, () => f(body, res)])),
  });
  return body;
}

/** Fail fast, once, when the target does not answer at all. */
export function probe(http) {
  const res = http.get(`${BASE_URL}/healthz`, { timeout: '5s', tags: { name: 'GET /healthz' } });
  if (res.status === 0) {
    throw new Error(`cannot reach ${BASE_URL} (${res.error}); set SPILLWAY_URL`);
  }
  return { probedAt: new Date().toISOString(), healthz: res.status };
}

/**
 * Options of a constant-arrival-rate run named `name`: the scenario, the
 * thresholds every ingest-style script shares (error rate, p99, checks,
 * dropped arrivals) and the summary statistics.
 */
export function constantRateOptions(name, { rate, duration, p99Ms, maxErrorRate, maxDropped, gracefulStop = '10s' }) {
  return {
    scenarios: {
      [name]: { executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration: ms(duration), ...vuBudget(rate), gracefulStop },
    },
    thresholds: {
      [`http_req_failed{scenario:${name}}`]: [`rate<${maxErrorRate}`],
      [`http_req_duration{scenario:${name}}`]: [`p(99)<${p99Ms}`],
      [`checks{scenario:${name}}`]: ['rate>0.99'],
      dropped_iterations: [`rate<${Math.max(maxDropped * rate, 0.001)}`],
    },
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'max'],
    tags: { target: BASE_URL },
  };
}
