/**
 * The Kafka sink: each message as one record whose value is the rtbeat
 * event (the same text the Elasticsearch sink indexes), whose key picks the
 * partition (--kafka-key), with the message uuid in a `uuid` header too.
 *
 * One idempotent producer per sink (acks=all). Its sequence numbers only
 * advance when the broker answers, so two produce requests in flight would
 * carry the same numbers: the sink therefore sends one request at a time,
 * and merges whatever batches are waiting (from every shard of the thread)
 * into that request, up to --kafka-max-message-bytes (the broker refuses a
 * larger record batch per partition).
 *
 * Retry classification:
 *   - any failed request (broker away, leader moving, NOT_ENOUGH_REPLICAS,
 *     timeouts, …): the client first retries the same request with the same
 *     sequence numbers, which the broker deduplicates. If that fails too,
 *     the producer is replaced by a new one (a new producer id: a sequence
 *     number is never reused for other records) and the request is sent
 *     again after a backoff, until the batch's deadline; then deliver()
 *     rejects and the caller resends. Records the broker had written before
 *     the failure are then written twice: at least once across producers.
 *   - a record over --kafka-max-message-bytes, or one the broker refuses as
 *     too large on its own: dead-lettered, i.e. a record without the
 *     payload (uuid, seq, time, producer, key, label, size, error) goes to
 *     --kafka-dlq-topic and counts as deadLettered. A request refused as too
 *     large as a whole is split in halves.
 *   - nothing is fatal: authentication and authorisation errors are
 *     retried (and logged by the caller) until an operator fixes them.
 */
import { compatibilityPartitioner, Producer, stringSerializers, type ProducerOptions } from '@platformatic/kafka';
import type { StoredMessage } from '../../store/message.js';
import { eventDocument } from '../elasticsearch/documents.js';
import { backoffMs, DeliveryError, sleep, type DeliverOptions, type Sink, type SinkEvents } from '../types.js';
import { TopicPattern } from './topic.js';

type ClientOptions = Omit<ProducerOptions<string, string, string, string>, 'serializers'>;
type KafkaRecord = { topic: string; key?: string; value: string; headers: Record<string, string> };

export interface KafkaSinkOptions {
  /** Connection options of the client: brokers, client id, SASL, TLS. */
  client: ClientOptions;
  topic: string;
  dlqTopic: string;
  key: string;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4';
  maxMessageBytes: number;
  clientIp?: string;
  events?: SinkEvents;
  retryBaseMs?: number;
  retryCapMs?: number;
}

/** Bytes a record adds to a request beyond key, value and headers (record and batch framing, generously). */
const RECORD_OVERHEAD = 64;

interface Chunk {
  records: KafkaRecord[];
  bytes: number;
  deadLetters: number;
  job: Job;
}

interface Job {
  left: number;
  deadline: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  done: boolean;
  resolve(): void;
  reject(e: Error): void;
}

/** Every Kafka error code name (apiId) in an error and the errors it aggregates. */
export function errorIds(e: unknown, out: string[] = []): string[] {
  if (!e || typeof e !== 'object') return out;
  const x = e as { apiId?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof x.apiId === 'string') out.push(x.apiId);
  if (Array.isArray(x.errors)) for (const inner of x.errors) errorIds(inner, out);
  if (x.cause) errorIds(x.cause, out);
  return out;
}

/** A short, one-line description of a client error (the innermost messages). */
export function describe(e: unknown): string {
  const ids = [...new Set(errorIds(e))];
  const msg = (e as Error)?.message ?? String(e);
  return ids.length > 0 ? `${msg} (${ids.join(', ')})` : msg;
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

export class KafkaSink implements Sink {
  private producer: Producer<string, string, string, string>;
  private readonly topic: TopicPattern;
  private readonly dlqTopic: TopicPattern;
  private readonly queue: Chunk[] = [];
  private pumping = false;
  private closed = false;
  private budget: number;
  private attempt = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly o: KafkaSinkOptions) {
    this.topic = new TopicPattern(o.topic);
    this.dlqTopic = new TopicPattern(o.dlqTopic);
    this.budget = o.maxMessageBytes;
    this.producer = this.newProducer();
  }

  private newProducer(): Producer<string, string, string, string> {
    return new Producer({
      retries: 3,
      retryDelay: 250,
      timeout: 30_000,
      connectTimeout: 5_000,
      ...this.o.client,
      serializers: stringSerializers,
      acks: -1,
      idempotent: true,
      autocreateTopics: true,
      compression: this.o.compression,
      // The Java client's default partitioner (murmur2 of the key, positive, modulo the partitions),
      // so a key lands on the partition Java producers pick for it.
      partitioner: compatibilityPartitioner,
    });
  }

  private keyOf(m: StoredMessage): string | undefined {
    switch (this.o.key) {
      case 'producer': return m.producer;
      case 'key': return m.key;
      case 'uuid': return m.uuid;
      case 'none': return undefined;
      default: return `${m.producer}/${m.key}`;
    }
  }

  private deadLetter(m: StoredMessage, clientIp: string, bytes: number, reason: string): KafkaRecord {
    const value = JSON.stringify({
      '@timestamp': new Date().toISOString(), type: 'rtbeat-dlq', clientIp,
      error: { type: 'record_too_large', reason, bytes },
      uuid: m.uuid, seq: m.seq, time: m.time, producer: m.producer, key: m.key, label: m.label,
    });
    return { topic: this.dlqTopic.resolve(m), key: this.keyOf(m), value, headers: { uuid: m.uuid, 'spillway-dead-letter': 'record_too_large' } };
  }

  deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    if (this.closed) return Promise.reject(new DeliveryError('kafka output: closed'));
    if (messages.length === 0) return Promise.resolve();
    const clientIp = opts.clientIp ?? this.o.clientIp ?? '';
    return new Promise<void>((resolve, reject) => {
      const job: Job = { left: 0, deadline: opts.deadline, signal: opts.signal, done: false, resolve, reject };
      const chunks: Chunk[] = [];
      let cur: Chunk = { records: [], bytes: 0, deadLetters: 0, job };
      for (const m of messages) {
        const doc = eventDocument(m, clientIp);
        const value = doc.slice(0, -1); // without the NDJSON newline
        const key = this.keyOf(m);
        let rec: KafkaRecord = { topic: this.topic.resolve(m), key, value, headers: { uuid: m.uuid } };
        let size = value.length + (key?.length ?? 0) + 40 + RECORD_OVERHEAD;
        let dead = false;
        if (size > this.o.maxMessageBytes) {
          rec = this.deadLetter(m, clientIp, size, `record of ${size} bytes is over --kafka-max-message-bytes ${this.o.maxMessageBytes}`);
          size = rec.value.length + RECORD_OVERHEAD * 2;
          dead = true;
        }
        if (cur.records.length > 0 && cur.bytes + size > this.o.maxMessageBytes) {
          chunks.push(cur);
          cur = { records: [], bytes: 0, deadLetters: 0, job };
        }
        cur.records.push(rec);
        cur.bytes += size;
        if (dead) cur.deadLetters++;
      }
      chunks.push(cur);
      job.left = chunks.length;
      this.queue.push(...chunks);
      if (opts.signal) {
        job.onAbort = () => this.fail(job, new DeliveryError('kafka output: aborted', 504));
        opts.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      void this.pump();
    });
  }

  private settle(job: Job): void {
    job.done = true;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
  }

  private fail(job: Job, e: Error): void {
    if (job.done) return;
    this.settle(job);
    job.reject(e);
    // Its chunks still waiting are not sent (the caller resends the batch).
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.job === job) this.queue.splice(i, 1);
    this.wake?.();
  }

  /** One request at a time (the idempotent producer's sequence numbers), merging waiting chunks up to the budget. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const now = Date.now();
        for (const c of [...this.queue]) {
          if (c.job.done) continue;
          if (now >= c.job.deadline) this.fail(c.job, new DeliveryError(`kafka output: not acknowledged in time${this.lastError ? `: ${this.lastError}` : ''}`, 504));
        }
        if (this.queue.length === 0) break;
        const take: Chunk[] = [];
        let bytes = 0;
        while (this.queue.length > 0) {
          const c = this.queue[0]!;
          if (take.length > 0 && bytes + c.bytes > this.budget) break;
          take.push(this.queue.shift()!);
          bytes += c.bytes;
        }
        await this.send(take);
      }
    } finally {
      this.pumping = false;
    }
  }

  private lastError = '';

  private async send(take: Chunk[]): Promise<void> {
    const records = take.flatMap((c) => c.records);
    const t0 = performance.now();
    try {
      await this.producer.send({ messages: records });
    } catch (e) {
      if (this.closed) return;
      this.o.events?.requestFailed?.();
      this.lastError = describe(e);
      const ids = errorIds(e);
      const live = take.filter((c) => !c.job.done);
      if (ids.some((id) => TOO_LARGE.has(id))) {
        this.tooLarge(live);
      } else {
        // A new producer id before anything else is sent: the failed request's
        // sequence numbers may have been written, and must not name other records.
        this.replaceProducer();
        this.queue.unshift(...live);
        this.o.events?.retried?.(live.reduce((n, c) => n + c.records.length, 0));
        const wait = backoffMs(this.attempt++, this.o.retryBaseMs ?? 100, this.o.retryCapMs ?? 5000);
        const until = Math.min(...live.map((c) => c.job.deadline), Date.now() + wait);
        await new Promise<void>((r) => {
          this.wake = r;
          void sleep(Math.max(0, until - Date.now())).then(r);
        });
        this.wake = undefined;
      }
      return;
    }
    this.attempt = 0;
    this.lastError = '';
    this.o.events?.request?.(performance.now() - t0, records.length);
    let delivered = 0;
    let dead = 0;
    for (const c of take) {
      dead += c.deadLetters;
      delivered += c.records.length - c.deadLetters;
      if (c.job.done) continue;
      if (--c.job.left === 0) {
        this.settle(c.job);
        c.job.resolve();
      }
    }
    if (delivered > 0) this.o.events?.delivered?.(delivered);
    if (dead > 0) this.o.events?.deadLettered?.(dead);
  }

  /** The broker refused a request as too large: halve it; a single record is dead-lettered. */
  private tooLarge(live: Chunk[]): void {
    this.replaceProducer();
    const split: Chunk[] = [];
    for (const c of live) {
      if (c.records.length === 1) {
        const r = c.records[0]!;
        if (r.headers['spillway-dead-letter']) {
          // Even the dead letter is refused: keep retrying it (an operator must raise the topic's limit).
          split.push(c);
          continue;
        }
        const m = JSON.parse(r.value) as { clientIp: string; rxtxMsg: StoredMessage };
        const rec = this.deadLetter(m.rxtxMsg, m.clientIp, r.value.length, 'the broker refused the record as too large (MESSAGE_TOO_LARGE)');
        split.push({ records: [rec], bytes: rec.value.length, deadLetters: 1, job: c.job });
        continue;
      }
      const half = Math.ceil(c.records.length / 2);
      const a = c.records.slice(0, half);
      const b = c.records.slice(half);
      c.job.left++;
      const part = (records: KafkaRecord[]): Chunk => ({
        records, bytes: Math.ceil((c.bytes * records.length) / c.records.length), job: c.job,
        deadLetters: records.filter((r) => r.headers['spillway-dead-letter']).length,
      });
      split.push(part(a), part(b));
    }
    // Fewer bytes per request from now on (down to one record), so the halves go one by one.
    this.budget = Math.max(1, Math.floor(this.budget / 2));
    this.queue.unshift(...split);
  }

  private replaceProducer(): void {
    const old = this.producer;
    this.producer = this.newProducer();
    void old.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.queue]) this.fail(c.job, new DeliveryError('kafka output: closed'));
    this.wake?.();
    await this.producer.close().catch(() => {});
  }
}
