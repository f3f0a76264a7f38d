// The exactly-once ledger: what a client was told was acknowledged, as a Set
// of message uuids, and the comparison of that set with what arrived
// downstream (a stage's /in batches, Elasticsearch documents). Spillway's
// promise is "every acknowledged message exactly once", so the verdict is a
// comparison of sets (a count cannot tell one loss plus one duplicate from
// a clean run). Shared by the bench, the load runner and the test helpers.
import { v5 as uuidv5 } from 'uuid';

/**
 * A ledger of one run. `details: true` also keeps, per uuid, what the caller
 * passes to ack() (the integration tests look up the body and path of a
 * message by its uuid).
 */
export function createLedger({ details = false } = {}) {
  const acked = new Set();
  const detail = details ? new Map() : undefined;
  const refused = new Map();
  return {
    acked,
    details: detail,
    refused,
    errors: 0,
    sent: 0,
    /** An acknowledged message; a uuid acknowledged twice is a server bug the set would hide, so it is counted. */
    ack(uuid, info) {
      if (acked.has(uuid)) this.ackedTwice++;
      acked.add(uuid);
      detail?.set(uuid, info);
    },
    ackedTwice: 0,
    refuse(status) {
      refused.set(status, (refused.get(status) ?? 0) + 1);
    },
    error() {
      this.errors++;
    },
  };
}

/**
 * Compare the acknowledged set with what arrived downstream. `delivered` is
 * an iterable of uuids with repeats (one per copy that arrived), or a Map
 * uuid → copies. Returns { acknowledged, arrived, missing, duplicated, extra, exact }:
 *   missing     acknowledged, never arrived (a loss);
 *   duplicated  arrived more than once ([uuid, copies]);
 *   extra       arrived, never acknowledged (a request cut short whose
 *               answer the client never read, or a message from elsewhere);
 *   exact       nothing missing, nothing duplicated, and at most
 *               `extraAllowed` extras.
 */
export function compareSets(acked, delivered, { extraAllowed = 0, keep = 20 } = {}) {
  const copies = delivered instanceof Map ? delivered : countCopies(delivered);
  const missing = [];
  const duplicated = [];
  const extra = [];
  let arrived = 0;
  for (const [uuid, n] of copies) {
    arrived += n;
    if (n > 1) duplicated.push([uuid, n]);
    if (!acked.has(uuid)) extra.push(uuid);
  }
  for (const uuid of acked) if (!copies.has(uuid)) missing.push(uuid);
  return {
    acknowledged: acked.size,
    arrived,
    missingCount: missing.length,
    duplicatedCount: duplicated.length,
    extraCount: extra.length,
    missing: missing.slice(0, keep),
    duplicated: duplicated.slice(0, keep),
    extra: extra.slice(0, keep),
    exact: missing.length === 0 && duplicated.length === 0 && extra.length <= extraAllowed,
  };
}

/**
 * compareSets for sets too large to hold twice: feeds every arrived uuid to
 * the returned `arrived(uuid)`, deleting it from `acked` (which is consumed),
 * and `result()` gives the comparison. An arrival that is no longer (or
 * never was) in the set is a duplicate or an extra: the two cannot be told
 * apart once the first copy is deleted, and both fail `exact`; they are
 * reported as duplicated when the uuid was acknowledged (`isAcknowledged`,
 * e.g. the Idempotency-Key scheme's uuid version), as extra otherwise.
 */
export function consumeAgainst(acked, { isAcknowledged = () => false, keep = 20, extraAllowed = 0 } = {}) {
  const acknowledged = acked.size;
  let arrived = 0;
  const again = new Map();
  return {
    arrived(uuid) {
      arrived++;
      if (acked.delete(uuid)) return;
      again.set(uuid, (again.get(uuid) ?? 1) + 1);
    },
    result() {
      const missing = [...acked].slice(0, keep);
      const duplicated = [];
      const extra = [];
      for (const [u, n] of again) {
        if (isAcknowledged(u)) duplicated.push([u, n]);
        else extra.push(u);
      }
      return {
        acknowledged, arrived, missingCount: acked.size, duplicatedCount: duplicated.length, extraCount: extra.length,
        missing, duplicated: duplicated.slice(0, keep), extra: extra.slice(0, keep),
        exact: acked.size === 0 && duplicated.length === 0 && extra.length <= extraAllowed,
      };
    },
  };
}

/** Map uuid → copies, from an iterable with repeats. */
export function countCopies(uuids) {
  const m = new Map();
  for (const u of uuids) m.set(u, (m.get(u) ?? 0) + 1);
  return m;
}

/** One line for a report: "exact", or what went wrong. */
export function describeComparison(c) {
  if (!c) return 'not checked';
  const parts = [];
  if (c.missingCount) parts.push(`${c.missingCount} missing`);
  if (c.duplicatedCount) parts.push(`${c.duplicatedCount} duplicated`);
  if (c.extraCount) parts.push(`${c.extraCount} unacknowledged extra`);
  return parts.length ? parts.join(', ') : 'exact';
}

/**
 * Namespace of Spillway's Idempotency-Key uuids (src/workers/writer.ts
 * IDEMPOTENCY_NAMESPACE; fixed forever there). With it a client can name
 * every message of an /rxb batch it posted under an Idempotency-Key, though
 * the answer carries only the first line's uuid: the bench checks that first
 * uuid against its own, so a change on the server side cannot go unnoticed.
 */
export const IDEMPOTENCY_NAMESPACE = '5b0e1c4a-8f0b-4d1e-9a43-3f6d2c1b7e90';

/** The uuids Spillway gives the `count` lines of an /rxb batch posted with Idempotency-Key `key`. */
export function batchUuids(producer, key, idempotencyKey, count) {
  return Array.from({ length: count }, (_, i) => uuidv5(`${producer}\n${key}\n${idempotencyKey}\n${i}`, IDEMPOTENCY_NAMESPACE));
}

/**
 * The uuids in answer bodies, one body per line (as the bench's wrk script
 * writes them): {"status":"OK","uuid":"…",…}. Lines without a uuid (a peer
 * that answers {} or {"status":"OK"}) count as acknowledged but unnamed.
 */
export function uuidsOfAnswers(text) {
  const named = [];
  let unnamed = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const at = line.indexOf('"uuid":"');
    if (at < 0) {
      unnamed++;
      continue;
    }
    named.push(line.slice(at + 8, at + 44));
  }
  return { named, unnamed };
}
