/**
 * Parse and check a MessageBatch from /in (Spillway's edge or Go rxtx).
 * All or nothing: one bad message refuses the whole batch with a 400 that
 * names it, so nothing of a bad batch is half-written.
 */
import type { StoredMessage } from '../store/message.js';
import { jsonDepth } from '../store/payload.js';

export class BatchError extends Error {}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;
// rxtx formats seq with %d%d%d%012d: digits, not always 19 of them.
const SEQ = /^\d{1,32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface ParsedBatch {
  uuid: string;
  messages: StoredMessage[];
}

/** `maxDepth` bounds the nesting of payloads (the batch itself adds three levels). */
export function parseBatch(text: string, maxDepth = 64): ParsedBatch {
  const depth = jsonDepth(text);
  if (depth > maxDepth + 3) throw new BatchError(`a payload nests ${depth - 3} levels deep; the limit is ${maxDepth}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BatchError(`invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(value)) throw new BatchError('body must be a MessageBatch object {"uuid","size","messages"}');
  const { uuid, size } = value;
  // Go's encoding/json writes an empty slice as null.
  const list = value.messages === null ? [] : value.messages;
  if (!Array.isArray(list)) throw new BatchError('"messages" must be an array of Message objects');
  if (uuid !== undefined && typeof uuid !== 'string') throw new BatchError('"uuid" must be a string');
  if (size !== undefined && size !== list.length) {
    throw new BatchError(`"size" is ${JSON.stringify(size)} but "messages" holds ${list.length}`);
  }
  const messages = list.map((m, i) => toStored(m, i));
  return { uuid: (uuid as string | undefined) ?? '', messages };
}

function toStored(m: unknown, i: number): StoredMessage {
  const fail = (why: string): never => {
    throw new BatchError(`messages[${i}]: ${why}`);
  };
  if (!isObject(m)) fail('not a Message object');
  const msg = m as Record<string, unknown>;
  if (typeof msg.uuid !== 'string' || !UUID.test(msg.uuid)) fail('"uuid" is missing or not a UUID');
  if (typeof msg.seq !== 'string' || !SEQ.test(msg.seq)) fail('"seq" is missing or not a string of digits');
  for (const f of ['producer', 'key', 'label'] as const) {
    if (typeof msg[f] !== 'string') fail(`"${f}" is missing or not a string`);
  }
  if (typeof msg.time !== 'string' || !RFC3339.test(msg.time) || Number.isNaN(Date.parse(msg.time))) fail('"time" is missing or not an RFC 3339 time');
  if (!isObject(msg.payload)) fail('"payload" must be a JSON object');
  const time = msg.time as string;
  return {
    seq: msg.seq as string,
    time: time.endsWith('Z') ? time : new Date(time).toISOString(),
    uuid: (msg.uuid as string).toLowerCase(),
    producer: msg.producer as string,
    key: msg.key as string,
    label: msg.label as string,
    payloadJson: JSON.stringify(msg.payload),
  };
}
