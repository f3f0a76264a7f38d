/**
 * What the HTTP front hands the writer pool, and what comes back.
 *
 * One task carries the requests gathered for every shard since the last
 * hand-off, a group per shard; all bodies sit end to end in one
 * transferable buffer. One task per event-loop turn, not per shard, because
 * each hand-off costs the main thread a postMessage and a thread wake-up.
 *
 * Both directions are packed into a few strings and typed arrays rather
 * than an object per request: postMessage clones an array of small objects
 * at 1.5-4 µs per object and direction (measured: 5 items as objects 24-26
 * µs per post and receive, packed 3-8 µs), which at a few requests per task
 * was a large share of a request's cost. This file and the writer's
 * outcome building are the only code that knows the layout.
 */
export interface WriteItem {
  /** Offset and length of this request's body in the task buffer. */
  off: number;
  len: number;
  producer: string;
  key: string;
  label: string;
  ndjson: boolean;
  gzip: boolean;
  /** Idempotency-Key header, if any: the uuid becomes a v5 of producer, key and it. */
  idempotencyKey?: string;
}

export interface ShardGroup {
  shard: number;
  /** Items of this group: the next `count` items of the task, in order. */
  count: number;
  /** drop-oldest overflow: remove this many oldest messages of the shard in the same transaction. */
  drop: number;
}

export interface WriteTask {
  buffer: Uint8Array;
  /** Body length of each item, all groups in order (bodies sit end to end in `buffer`). */
  lens: Uint32Array;
  /** Per item: bit 0 ndjson, bit 1 gzip. */
  flags: Uint8Array;
  /**
   * Per item four fields, producer, key, label and Idempotency-Key ('' for
   * none), all joined by NUL. Path segments never hold control characters
   * (route-path.ts refuses them) and an Idempotency-Key is visible ASCII, so
   * NUL cannot occur inside a field.
   */
  names: string;
  /** At most one group per shard; each is one transaction of its shard. */
  groups: ShardGroup[];
}

const NDJSON = 1;
const GZIP = 2;
const SEP = '\u0000';

/** Pack the items of a task (in group order); the caller copies the bodies into `buffer` at the same offsets. */
export function packItems(items: readonly Omit<WriteItem, 'off'>[]): Pick<WriteTask, 'lens' | 'flags' | 'names'> {
  const lens = new Uint32Array(items.length);
  const flags = new Uint8Array(items.length);
  let names = '';
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    lens[i] = it.len;
    flags[i] = (it.ndjson ? NDJSON : 0) | (it.gzip ? GZIP : 0);
    names += (i === 0 ? '' : SEP) + it.producer + SEP + it.key + SEP + it.label + SEP + (it.idempotencyKey ?? '');
  }
  return { lens, flags, names };
}

export function unpackItems(task: WriteTask): WriteItem[] {
  const fields = task.names.split(SEP);
  const items: WriteItem[] = new Array(task.lens.length);
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    const idem = fields[4 * i + 3]!;
    items[i] = {
      off, len: task.lens[i]!,
      producer: fields[4 * i]!, key: fields[4 * i + 1]!, label: fields[4 * i + 2]!,
      ndjson: (task.flags[i]! & NDJSON) !== 0, gzip: (task.flags[i]! & GZIP) !== 0,
      idempotencyKey: idem === '' ? undefined : idem,
    };
    off += task.lens[i]!;
  }
  return items;
}

export type WriteResult =
  | { ok: true; uuid: string; seq: string; count: number }
  | { ok: false; status: number; message: string };

/** One per group of the task, in the same order, packed. */
export interface WriteOutcome {
  /** Messages stored per item; 0 for an item that was refused (see `errors`). */
  counts: Uint32Array;
  /** The uuid of each stored item's first message, 36 characters each, in item order. */
  uuids: string;
  /** Seq of the group's first stored message, as decimal digits ('' when nothing was stored). */
  firstSeq: string;
  /** Refused items: [item index in the group, HTTP status, message]. */
  errors: [number, number, string][];
  /** Messages committed by this task. */
  written: number;
  /** Bytes of records committed by this task. */
  bytes: number;
  dropped: number;
}

const UUID_LENGTH = 36;

/**
 * Unpack a group's outcome into one result per item. Seqs of a group are
 * consecutive from `firstSeq`, an item taking as many as it stored.
 */
export function unpackOutcome(o: WriteOutcome, format: (seq: bigint) => string): WriteResult[] {
  const results: WriteResult[] = new Array(o.counts.length);
  for (const [index, status, message] of o.errors) results[index] = { ok: false, status, message };
  let seq = o.firstSeq === '' ? 0n : BigInt(o.firstSeq);
  let stored = 0;
  for (let i = 0; i < results.length; i++) {
    const count = o.counts[i]!;
    if (count === 0) continue;
    results[i] = { ok: true, uuid: o.uuids.substr(stored * UUID_LENGTH, UUID_LENGTH), seq: format(seq), count };
    seq += BigInt(count);
    stored++;
  }
  return results;
}

export interface WriterData {
  path: string;
  name: string;
  shards: number;
  maxBody: number;
  maxBatchBody: number;
  maxDepth: number;
  seqBuffer: SharedArrayBuffer;
}
