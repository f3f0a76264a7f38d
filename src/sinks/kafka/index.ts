/**
 * The Kafka output: build(config) → { sink, health }. Health asks the
 * brokers for their metadata (no topics) every 2 s through a client of its
 * own, with the same connection settings as the sink's producer; the
 * readiness logic (reasons, first-ready, log lines) is stage/readiness.ts's.
 */
import { Base, type BaseOptions } from '@platformatic/kafka';
import type { Config } from '../../config/options.js';
import { IndexReadiness } from '../../stage/readiness.js';
import type { OutputContext, OutputDef } from '../output.js';
import type { BuiltOutput } from '../types.js';
import { kafkaOptions, readPem } from './options.js';
import { describe, KafkaSink, type KafkaSinkOptions } from './sink.js';

/** The client's connection options: brokers, client id, SASL (credentials from the environment), TLS. */
export function clientOptions(c: Config, env: NodeJS.ProcessEnv = process.env): BaseOptions {
  const o: BaseOptions = { clientId: c.kafkaClientId, bootstrapBrokers: c.kafkaBrokers };
  if (c.kafkaSasl !== 'none') {
    o.sasl = {
      mechanism: c.kafkaSasl === 'plain' ? 'PLAIN' : c.kafkaSasl === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512',
      username: env.KAFKA_USERNAME ?? '',
      password: env.KAFKA_PASSWORD ?? '',
    };
  }
  if (c.kafkaTls) {
    o.tls = {
      ...(c.kafkaTlsCa ? { ca: readPem(c.kafkaTlsCa, '--kafka-tls-ca') } : {}),
      ...(c.kafkaTlsCert ? { cert: readPem(c.kafkaTlsCert, '--kafka-tls-cert'), key: readPem(c.kafkaTlsKey, '--kafka-tls-key') } : {}),
    };
  }
  return o;
}

export const kafka: OutputDef = {
  ...kafkaOptions,
  build(c: Config, ctx: OutputContext): BuiltOutput {
    const client = clientOptions(c);
    const sink = new KafkaSink({
      client, topic: c.kafkaTopic, dlqTopic: c.kafkaDlqTopic, key: c.kafkaKey,
      compression: c.kafkaCompression as KafkaSinkOptions['compression'], maxMessageBytes: c.kafkaMaxMessageBytes,
      clientIp: ctx.clientIp, events: ctx.events, retryCapMs: c.ms.retryMax,
    });
    let probe: Base | undefined;
    const health = new IndexReadiness({
      label: 'Kafka',
      clusterStatus: async (timeoutMs) => {
        probe ??= new Base({ ...client, clientId: `${c.kafkaClientId}-health`, timeout: timeoutMs, connectTimeout: timeoutMs, retries: 0 });
        try {
          const meta = await probe.metadata({ topics: [], forceUpdate: true });
          if (meta.brokers.size === 0) throw new Error('no broker in the metadata');
          return 'green';
        } catch (e) {
          // A fresh client next time: a failed one may hold a dead connection.
          const p = probe;
          probe = undefined;
          void p.close().catch(() => {});
          throw new Error(describe(e));
        }
      },
      installTemplates: async () => {},
    }, ctx.log, { template: false, what: { brokers: c.kafkaBrokers, topic: c.kafkaTopic } });
    const stop = health.stop.bind(health);
    health.stop = () => {
      stop();
      void probe?.close().catch(() => {});
    };
    return { sink, health };
  },
};
