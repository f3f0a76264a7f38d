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
export function posEvent(n, { fleet = 1000, runTag = 'L1', at = new Date() } = {}) {
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
export function posEventJson(n, options) {
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
