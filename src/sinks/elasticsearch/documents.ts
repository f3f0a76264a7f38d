/**
 * The documents Spillway writes, built as JSON text by concatenation (the
 * payload is already JSON text). Shape compatible with rtbeat's:
 * {"@timestamp","type":"rtbeat","clientIp","rxtxMsg":{...Message}}.
 * @timestamp is the message's store time, so a retried write is identical.
 */
import { messageJson, type StoredMessage } from '../../store/message.js';

export function createAction(index: string, id: string): string {
  return `{"create":{"_index":${JSON.stringify(index)},"_id":"${id}"}}\n`;
}

export function eventDocument(m: StoredMessage, clientIp: string): string {
  return `{"@timestamp":"${m.time}","type":"rtbeat","clientIp":${JSON.stringify(clientIp)},"rxtxMsg":${messageJson(m)}}\n`;
}

export interface ItemError {
  status: number;
  type: string;
  reason: string;
}

/**
 * A dead letter: the original message kept as text (never indexed, so it
 * cannot conflict with any mapping) beside the error that refused it.
 */
export function deadLetterDocument(m: StoredMessage, clientIp: string, index: string, error: ItemError): string {
  return (
    JSON.stringify({
      '@timestamp': new Date().toISOString(),
      type: 'rtbeat-dlq',
      clientIp,
      index,
      error,
      uuid: m.uuid,
      seq: m.seq,
      time: m.time,
      producer: m.producer,
      key: m.key,
      label: m.label,
      original: messageJson(m),
    }) + '\n'
  );
}
