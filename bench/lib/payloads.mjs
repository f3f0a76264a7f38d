// Realistic bodies: a point-of-sale event (~300 B) and a large IoT/telemetry
// document (~8 KB).
export function posEvent(i = 0) {
  return JSON.stringify({
    store: 'store-0421', terminal: `till-${i % 12}`, cashier: 'c-7781', txn: `T${100000 + i}`,
    type: 'sale', currency: 'EUR', total: 42.37, tax: 6.77, items: 3, tender: 'card',
    card: { scheme: 'visa', last4: '4242', entry: 'contactless' },
    at: '2026-11-25T10:00:00.000Z', fw: '5.12.3', tags: ['weekday', 'promo-b'],
  });
}

export function largeEvent(i = 0) {
  const readings = Array.from({ length: 120 }, (_, k) => ({ t: k, v: Math.round(Math.sin(k + i) * 1000) / 10, q: 'ok' }));
  return JSON.stringify({ device: `sensor-${i % 500}`, site: 'plant-3', fw: '2.4.1', readings, note: 'x'.repeat(4700) });
}

export function ndjson(lines, make = posEvent) {
  return Array.from({ length: lines }, (_, i) => make(i)).join('\n') + '\n';
}
