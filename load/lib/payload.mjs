// The load: a point-of-sale event of about 300 bytes, the same shape as
// posEvent in k6/lib/common.js, so results from this runner and from k6 are
// comparable. It varies with the arrival number (till, cashier, transaction,
// amounts, tender) so the edge sees distinct messages spread over the LMDB
// shards the way a real fleet's would, not one body repeated.

const TENDERS = ['card', 'card', 'card', 'cash', 'voucher'];
const SCHEMES = ['visa', 'mastercard', 'amex', 'maestro'];
const TYPES = ['sale', 'sale', 'sale', 'sale', 'refund', 'void'];

/** The till an arrival comes from: the KEY path segment, and the event's `terminal`. */
export function tillOf(n, fleet) {
  return `till-${n % fleet}`;
}

/**
 * Event number `n` as a plain object. `runTag` keeps transaction ids of
 * different runs apart; `at` is the event time (the default is now).
 */
export function posEvent(n = 0, { fleet = 1000, runTag = 'L1', at = new Date() } = {}) {
  const total = Math.round((3 + ((n * 7919) % 20000) / 100) * 100) / 100;
  const tender = TENDERS[n % TENDERS.length];
  return {
    store: `store-${String(n % 640).padStart(4, '0')}`,
    terminal: tillOf(n, fleet),
    cashier: `c-${7000 + (n % 900)}`,
    txn: `T${runTag}-${100000 + n}`,
    type: TYPES[n % TYPES.length],
    currency: 'EUR',
    total,
    tax: Math.round(total * 0.19 * 100) / 100,
    items: 1 + (n % 9),
    tender,
    card: tender === 'card' ? { scheme: SCHEMES[n % SCHEMES.length], last4: String(1000 + (n % 9000)), entry: 'contactless' } : null,
    loyalty: n % 3 === 0 ? null : `L${String(1000000 + ((n * 104729) % 9000000))}`,
    at: at.toISOString(),
    fw: '5.12.3',
    tags: ['weekday', 'promo-b'],
  };
}

/** Event `n` as the JSON body of one /rx request. */
export function posEventJson(n = 0, options) {
  return JSON.stringify(posEvent(n, options));
}

/**
 * Batch `n` as NDJSON: `lines` events numbered n·lines .. n·lines + lines − 1
 * (so no two batches share an event), one per line, with a trailing newline.
 */
export function posEventNdjson(n, lines, options) {
  const out = new Array(lines);
  const at = options?.at ?? new Date();
  for (let k = 0; k < lines; k++) out[k] = JSON.stringify(posEvent(n * lines + k, { ...options, at }));
  return out.join('\n') + '\n';
}

/** /<route>/<producer>/<till>/<label>, the path a till POSTs to. */
export function rxPath({ route, producer, label, fleet }, n) {
  return `/${route}/${producer}/${tillOf(n, fleet)}/${label}`;
}

// ---- The bodies the bench and the test helpers post. One module, so the
// load runner, the bench and the tests send the same shapes.

/**
 * The compact point-of-sale event of the steady-state bench rows (about 134
 * bytes, the body issue 9 measured with): what a till posts per sale.
 */
export function compactPosEventJson(n = 0) {
  return JSON.stringify({
    store: `s-${String(n % 640).padStart(4, '0')}`, till: `t-${n % 12}`, txn: `T${100000 + n}`, total: 42.37,
    cur: 'EUR', items: 3, tender: 'card', at: '2026-11-25T10:00:00.000Z',
  });
}

/** A large IoT/telemetry document (about 8 KB). */
export function largeEventJson(n = 0) {
  const readings = Array.from({ length: 120 }, (_, k) => ({ t: k, v: Math.round(Math.sin(k + n) * 1000) / 10, q: 'ok' }));
  return JSON.stringify({ device: `sensor-${n % 500}`, site: 'plant-3', fw: '2.4.1', readings, note: 'x'.repeat(4700) });
}

/** `lines` bodies made by `make(0..lines-1)`, one per line, with a trailing newline. */
export function ndjsonOf(lines, make = posEventJson) {
  return Array.from({ length: lines }, (_, i) => make(i)).join('\n') + '\n';
}

/** The small numbered body the integration tests post by default. */
export function numberedEventJson(i) {
  return JSON.stringify({ i, pos: 'terminal-7', amount: i % 1000 });
}
