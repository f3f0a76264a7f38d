/**
 * The Kafka output's flags and their checks. SASL credentials come only
 * from the environment (KAFKA_USERNAME, KAFKA_PASSWORD), never from a flag,
 * so they never show in `ps` or a log. TLS files are read here, at start, so
 * a missing or unreadable one exits 2 before anything runs.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/options.js';
import { outputOption, type OutputOptions, type SettingName } from '../output.js';
import { TopicPattern } from './topic.js';

export const KAFKA_KEYS = ['producer-key', 'producer', 'key', 'uuid', 'none'] as const;
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4'] as const;
export const KAFKA_SASL = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;

export interface KafkaConfig {
  kafkaBrokers: string[];
  kafkaTopic: string;
  kafkaDlqTopic: string;
  kafkaKey: string;
  kafkaCompression: string;
  kafkaMaxMessageBytes: number;
  kafkaClientId: string;
  kafkaSasl: string;
  kafkaTls: boolean;
  kafkaTlsCa: string;
  kafkaTlsCert: string;
  kafkaTlsKey: string;
}

/** host:port → { host, port }; throws on anything else. */
export function parseBroker(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`"${text}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** A PEM file's text; throws naming the setting when it cannot be read or holds no PEM block. */
export function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${what}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) throw new Error(`${what}: ${path} holds no PEM block`);
  return text;
}

export const kafkaOptions: OutputOptions = {
  name: 'kafka',
  summary: 'records in the topic --kafka-topic on --kafka-brokers (Apache Kafka 3.5-4.1), acks=all, idempotent producer',
  delivery: 'at least once, deduplicated within a producer session: a batch is acknowledged when every record has acks=all; a request the client retries is not doubled (idempotent producer); a batch resent after a failed request or a crash may be doubled (each record carries rxtxMsg.uuid and a uuid header)',
  options: [
    outputOption('kafkaBrokers', 'kafka-brokers', 'list', [], 'Kafka bootstrap brokers host:port, comma-separated (required for --output kafka)'),
    outputOption('kafkaTopic', 'kafka-topic', 'string', 'rtbeat',
      'Kafka topic pattern: date tokens %{+yyyy.MM.dd} (message time, UTC) and fields %{[rxtxMsg.producer]}, %{[rxtxMsg.key]}, %{[rxtxMsg.label]}'),
    outputOption('kafkaDlqTopic', 'kafka-dlq-topic', 'string', '', 'Kafka topic pattern for records over --kafka-max-message-bytes (default: <topic>-dlq)'),
    outputOption('kafkaKey', 'kafka-key', 'string', 'producer-key',
      `Kafka record key, which picks the partition: ${KAFKA_KEYS.join(', ')} (none: no key, spread evenly)`, { choices: KAFKA_KEYS }),
    outputOption('kafkaCompression', 'kafka-compression', 'string', 'none', `Kafka compression: ${KAFKA_COMPRESSIONS.join(', ')}`, { choices: KAFKA_COMPRESSIONS }),
    outputOption('kafkaMaxMessageBytes', 'kafka-max-message-bytes', 'bytes', 1_000_000,
      'Kafka: largest record (and produce request per partition); larger records go to --kafka-dlq-topic without their payload', { min: 1024 }),
    outputOption('kafkaClientId', 'kafka-client-id', 'string', 'spillway', 'Kafka client id'),
    outputOption('kafkaSasl', 'kafka-sasl', 'string', 'none',
      `Kafka SASL mechanism: ${KAFKA_SASL.join(', ')} (credentials from KAFKA_USERNAME and KAFKA_PASSWORD)`, { choices: KAFKA_SASL }),
    outputOption('kafkaTls', 'kafka-tls', 'bool', false, 'Kafka: connect with TLS (implied by --kafka-tls-ca/-cert)'),
    outputOption('kafkaTlsCa', 'kafka-tls-ca', 'string', '', 'Kafka: CA certificate file (PEM) to verify the brokers'),
    outputOption('kafkaTlsCert', 'kafka-tls-cert', 'string', '', 'Kafka: client certificate file (PEM), with --kafka-tls-key'),
    outputOption('kafkaTlsKey', 'kafka-tls-key', 'string', '', 'Kafka: client private key file (PEM), with --kafka-tls-cert'),
  ],
  check(c: Config, name: SettingName) {
    const brokers = name('kafkaBrokers', '--kafka-brokers');
    const list = c.kafkaBrokers.map((b) => b.trim()).filter(Boolean);
    if (list.length === 0) throw new Error(`${brokers}: no brokers given (host:port, comma-separated)`);
    for (const b of list) {
      try {
        parseBroker(b);
      } catch (e) {
        throw new Error(`${brokers}: ${(e as Error).message}`);
      }
    }
    c.kafkaBrokers = list;
    const topic = name('kafkaTopic', '--kafka-topic');
    try {
      new TopicPattern(c.kafkaTopic);
    } catch (e) {
      throw new Error(`${topic}: ${(e as Error).message}`);
    }
    c.kafkaDlqTopic ||= `${c.kafkaTopic}-dlq`;
    try {
      new TopicPattern(c.kafkaDlqTopic);
    } catch (e) {
      throw new Error(`${name('kafkaDlqTopic', '--kafka-dlq-topic')}: ${(e as Error).message}`);
    }
    if (!(KAFKA_KEYS as readonly string[]).includes(c.kafkaKey)) {
      throw new Error(`${name('kafkaKey', '--kafka-key')}: "${c.kafkaKey}" is not one of ${KAFKA_KEYS.join(', ')}`);
    }
    if (!(KAFKA_COMPRESSIONS as readonly string[]).includes(c.kafkaCompression)) {
      throw new Error(`${name('kafkaCompression', '--kafka-compression')}: "${c.kafkaCompression}" is not one of ${KAFKA_COMPRESSIONS.join(', ')}`);
    }
    if (!(KAFKA_SASL as readonly string[]).includes(c.kafkaSasl)) {
      throw new Error(`${name('kafkaSasl', '--kafka-sasl')}: "${c.kafkaSasl}" is not one of ${KAFKA_SASL.join(', ')}`);
    }
    if (c.kafkaSasl !== 'none' && !process.env.KAFKA_USERNAME) {
      throw new Error(`${name('kafkaSasl', '--kafka-sasl')}: ${c.kafkaSasl} needs KAFKA_USERNAME and KAFKA_PASSWORD in the environment`);
    }
    if (Boolean(c.kafkaTlsCert) !== Boolean(c.kafkaTlsKey)) {
      throw new Error(`${name(c.kafkaTlsCert ? 'kafkaTlsKey' : 'kafkaTlsCert', c.kafkaTlsCert ? '--kafka-tls-key' : '--kafka-tls-cert')}: a client certificate needs both --kafka-tls-cert and --kafka-tls-key`);
    }
    if (c.kafkaTlsCa) readPem(c.kafkaTlsCa, name('kafkaTlsCa', '--kafka-tls-ca'));
    if (c.kafkaTlsCert) readPem(c.kafkaTlsCert, name('kafkaTlsCert', '--kafka-tls-cert'));
    if (c.kafkaTlsKey) readPem(c.kafkaTlsKey, name('kafkaTlsKey', '--kafka-tls-key'));
    if (c.kafkaTlsCa || c.kafkaTlsCert) c.kafkaTls = true;
  },
};
