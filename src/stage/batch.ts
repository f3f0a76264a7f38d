/**
 * Parse and check a MessageBatch from /in (Spillway's edge or Go rxtx).
 * All or nothing: one bad message refuses the whole batch with a 400 that
 * names it, so nothing of a bad batch is half-written.
 */
import type { StoredMessage } from '../store/message.js';

export class BatchError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface ParsedBatch {
  uuid: string;
  messages: StoredMessage[];
}

export function parseBatch(text: string): ParsedBatch {
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
  for (const f of ['seq', 'producer', 'key', 'label'] as const) {
    if (typeof msg[f] !== 'string') fail(`"${f}" is missing or not a string`);
  }
  if (typeof msg.time !== 'string' || Number.isNaN(Date.parse(msg.time))) fail('"time" is missing or not an RFC 3339 time');
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
