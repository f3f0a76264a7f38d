/**
 * The Message of the rxtx wire format, and how Spillway keeps it.
 *
 * Internally a message carries its payload as JSON text (`payloadJson`), the
 * exact text the client sent once validated. The edge never re-serialises a
 * payload: the MessageBatch and the Elasticsearch _bulk body are built by
 * concatenating that text, which keeps the forward path free of
 * JSON.parse/JSON.stringify round trips.
 */
import { pack, unpack } from 'msgpackr';

export interface StoredMessage {
  seq: string;
  time: string;
  uuid: string;
  producer: string;
  key: string;
  label: string;
  payloadJson: string;
}

/** The Message JSON, field order as rxtx writes it. */
export function messageJson(m: StoredMessage): string {
  return (
    `{"seq":"${m.seq}","time":"${m.time}","uuid":"${m.uuid}","producer":${JSON.stringify(m.producer)},` +
    `"label":${JSON.stringify(m.label)},"key":${JSON.stringify(m.key)},"payload":${m.payloadJson}}`
  );
}

/** The MessageBatch JSON that rtbeat's /in accepts. */
export function messageBatchJson(batchUuid: string, messages: readonly StoredMessage[]): string {
  let out = `{"uuid":"${batchUuid}","size":${messages.length},"messages":[`;
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) out += ',';
    out += messageJson(messages[i]!);
  }
  return out + ']}';
}

/**
 * LMDB value: a msgpack array (the key is the seq). An array rather than a
 * map keeps field names out of every record.
 */
export function encodeRecord(m: StoredMessage): Buffer {
  return pack([m.time, m.uuid, m.producer, m.key, m.label, m.payloadJson]);
}

export function decodeRecord(seq: string, value: Uint8Array): StoredMessage {
  return recordMessage(seq, unpack(value) as RecordFields);
}

/** The fields of a record, in encodeRecord's order, as msgpack decodes them. */
export type RecordFields = [time: string, uuid: string, producer: string, key: string, label: string, payloadJson: string];

/**
 * A message from a record that lmdb-js has already decoded (a shard opened
 * with `decode: true` reads records straight from the map, without a Buffer
 * copy per record).
 */
export function recordMessage(seq: string, [time, uuid, producer, key, label, payloadJson]: RecordFields): StoredMessage {
  return { seq, time, uuid, producer, key, label, payloadJson };
}

/**
 * About the bytes a record holds, from its decoded fields (its exact encoded
 * size is gone once lmdb-js decodes it): the string lengths plus msgpack's
 * overhead. Only batch-size limits use it.
 */
export function recordSize(m: StoredMessage): number {
  return 48 + m.uuid.length + m.time.length + m.producer.length + m.key.length + m.label.length + m.payloadJson.length;
}

/** RFC 3339 UTC with sub-second precision, as rxtx sets when it stores. */
export function storeTime(now = Date.now()): string {
  return new Date(now).toISOString();
}
