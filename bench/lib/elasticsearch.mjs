// What reached Elasticsearch, for the exactly-once column: every document's
// rxtxMsg.uuid (Spillway's _id is that uuid; rtbeat picks ids of its own but
// keeps the message, uuid included, under rxtxMsg), read with a point in
// time and search_after, so a second copy of a message shows as a repeat.
import { ES_URL, count, es } from '../../test/helpers/es.mjs';
import { consumeAgainst } from '../../load/lib/ledger.mjs';

/** Map uuid → copies of every document in `indices` (a pattern). Documents without rxtxMsg.uuid count under ''. */
export async function indexedUuids(indices, options) {
  const copies = new Map();
  await forEachIndexedUuid(indices, (u) => copies.set(u, (copies.get(u) ?? 0) + 1), options);
  return copies;
}

/**
 * Call `fn(uuid)` for every document in `indices`, page by page, holding
 * nothing: for the millions of a full run's backlog, where a second set as
 * large as the ledger would not fit beside it (ledger.mjs consumeAgainst).
 */
export async function forEachIndexedUuid(indices, fn, { url = ES_URL, page = 10_000 } = {}) {
  await es(`/${indices}/_refresh`, { method: 'POST', url });
  const pit = await es(`/${indices}/_pit?keep_alive=2m&ignore_unavailable=true`, { method: 'POST', url });
  if (pit.status !== 200) {
    if (pit.status === 404) return;
    throw new Error(`point in time on ${indices}: HTTP ${pit.status} ${JSON.stringify(pit.body).slice(0, 300)}`);
  }
  let id = pit.body.id;
  let after;
  try {
    for (;;) {
      const r = await es('/_search', {
        method: 'POST', url,
        body: { size: page, _source: ['rxtxMsg.uuid'], pit: { id, keep_alive: '2m' }, sort: ['_shard_doc'], ...(after ? { search_after: after } : {}) },
      });
      if (r.status !== 200) throw new Error(`search of ${indices}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      id = r.body.pit_id ?? id;
      const hits = r.body.hits.hits;
      for (const h of hits) fn(h._source?.rxtxMsg?.uuid ?? '');
      if (hits.length < page) break;
      after = hits.at(-1).sort;
    }
  } finally {
    await es('/_pit', { method: 'DELETE', url, body: { id } }).catch(() => {});
  }
}

/** Documents in `indices` after a refresh (0 when none exist). */
export { count as documentCount };

/**
 * Exactly once for a ledger of Idempotency-Key uuids (all version 5): the
 * documents' uuids against the acknowledged set, which is consumed (one set
 * in memory however large the run). A second copy of an acknowledged
 * message shows as duplicated, a uuid nobody acknowledged as extra.
 */
export async function exactlyOnceInto(indices, acked, options) {
  const c = consumeAgainst(acked, { isAcknowledged: (u) => u[14] === '5' });
  await forEachIndexedUuid(indices, (u) => c.arrived(u), options);
  return c.result();
}
