/**
 * Writer thread (piscina). For each shard group of a task: validate each
 * request's body, build its Messages, and commit them all in one LMDB
 * transaction; the groups of one task commit concurrently (each shard is its
 * own environment with its own commit thread). The returned promise resolves
 * only after every commit is synced to disk; the HTTP front sends its 200s
 * after that.
 */
import { randomUUID } from 'node:crypto';
import Piscina from 'piscina';
import { v5 as uuidv5 } from 'uuid';
import { encodeRecord, storeTime } from '../store/message.js';
import { PayloadError, inflate, ndjsonPayloads, payloadText } from '../store/payload.js';
import { describeCommitError } from '../store/commit-error.js';
import { SeqAllocator, formatSeq } from '../store/seq.js';
import { openShards, type Shard } from '../store/shards.js';
import { unpackItems, type ShardGroup, type WriteItem, type WriteOutcome, type WriteTask, type WriterData } from './writer-protocol.js';

/** Namespace of Idempotency-Key uuids; fixed forever, or retries would stop deduplicating. */
export const IDEMPOTENCY_NAMESPACE = '5b0e1c4a-8f0b-4d1e-9a43-3f6d2c1b7e90';

const data = Piscina.workerData as WriterData;
const seqs = new SeqAllocator(data.seqBuffer);
let shards: Shard[] | undefined;

function payloadsOf(item: WriteItem, buffer: Uint8Array): string[] {
  let body = buffer.subarray(item.off, item.off + item.len);
  const limit = item.ndjson ? data.maxBatchBody : data.maxBody;
  if (item.gzip) body = inflate(body, limit);
  return item.ndjson ? ndjsonPayloads(body, data.maxDepth) : [payloadText(body, data.maxDepth)];
}

function uuidFor(item: WriteItem, index: number, count: number): string {
  if (item.idempotencyKey === undefined) return randomUUID();
  const name = count > 1 || item.ndjson
    ? `${item.producer}\n${item.key}\n${item.idempotencyKey}\n${index}`
    : `${item.producer}\n${item.key}\n${item.idempotencyKey}`;
  return uuidv5(name, IDEMPOTENCY_NAMESPACE);
}

export default function write(task: WriteTask): Promise<WriteOutcome[]> {
  shards ??= openShards(data);
  const items = unpackItems(task);
  let first = 0;
  return Promise.all(
    task.groups.map((group) => {
      const groupItems = items.slice(first, (first += group.count));
      return writeGroup(group, groupItems, task.buffer, shards![group.shard]!);
    }),
  );
}

async function writeGroup(group: ShardGroup, items: WriteItem[], buffer: Uint8Array, db: Shard): Promise<WriteOutcome> {
  const counts = new Uint32Array(items.length);
  const errors: WriteOutcome['errors'] = [];
  const accepted: { index: number; payloads: string[] }[] = [];
  let total = 0;

  items.forEach((item, index) => {
    try {
      const payloads = payloadsOf(item, buffer);
      accepted.push({ index, payloads });
      total += payloads.length;
    } catch (e) {
      const status = e instanceof PayloadError ? e.status : 400;
      errors.push([index, status, (e as Error).message]);
    }
  });

  const nothing = (): WriteOutcome => ({ counts, uuids: '', firstSeq: '', errors, written: 0, bytes: 0, dropped: 0 });
  if (total === 0) return nothing();
  const time = storeTime();
  // Records are built outside the transaction; only their keys (seqs) are
  // assigned inside it, under LMDB's write lock, so a shard's seqs follow
  // its commit order even with several tasks for one shard in flight on
  // different threads. Forwarders rely on that: a committed seq is never
  // below one they have already read.
  const values: Buffer[] = [];
  let uuids = '';
  let bytes = 0;
  for (const { index, payloads } of accepted) {
    const item = items[index]!;
    payloads.forEach((payloadJson, i) => {
      const uuid = uuidFor(item, i, payloads.length);
      if (i === 0) uuids += uuid;
      const value = encodeRecord({ seq: '', time, uuid, producer: item.producer, key: item.key, label: item.label, payloadJson });
      bytes += value.length;
      values.push(value);
    });
  }
  let firstSeq = 0n;
  let dropped = 0;
  try {
    await db.transaction(() => {
      if (group.drop > 0) dropped = dropOldest(db, group.drop);
      firstSeq = seqs.reserve(values.length);
      for (let i = 0; i < values.length; i++) db.put(formatSeq(firstSeq + BigInt(i)), values[i]!);
    });
    // With overlappingSync off the transaction's promise resolves after
    // LMDB's synced commit: the records are on disk.
  } catch (e) {
    const message = `store cannot write: ${await describeCommitError(e)}`;
    for (const { index } of accepted) errors.push([index, 503, message]);
    return nothing();
  }
  for (const { index, payloads } of accepted) counts[index] = payloads.length;
  return { counts, uuids, firstSeq: firstSeq.toString(), errors, written: total, bytes, dropped };
}

function dropOldest(db: Shard, count: number): number {
  let n = 0;
  for (const key of db.getKeys({ limit: count })) {
    db.remove(key);
    n++;
  }
  return n;
}
