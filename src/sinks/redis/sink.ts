/**
 * The Redis output: each message as rtbeat's event (the same JSON text the
 * index outputs write), appended to the key its pattern resolves to.
 *
 *   list mode    RPUSH key event…      (what libbeat's Redis output does with
 *                                       datatype: list; consumers BLPOP/LPOP)
 *   stream mode  XADD key * uuid <uuid> event <event>   (consumer groups)
 *
 * One batch is one MULTI … EXEC, written in one go on one connection (node
 * redis pipelines it), so Redis applies a batch whole or, when the
 * transaction is refused (EXECABORT: out of memory, a bad command), not at
 * all; deliver() resolves once EXEC has answered. With the server's
 * appendfsync always (scripts/redis.sh), that answer comes after the append
 * only file is synced.
 *
 * Delivery is at least once. An EXEC that Redis applied but whose answer was
 * lost (the connection dropped, the deadline passed, Spillway was killed)
 * counts as failed, and the batch is sent again: its records are then twice
 * in Redis. Every record carries rxtxMsg.uuid (and, in a stream, a field
 * `uuid`) so consumers can deduplicate.
 *
 * Retry classification:
 *   - no answer (connection refused or lost, timeout), or an error for the
 *     whole transaction (LOADING, BUSY, READONLY, MASTERDOWN, OOM, NOAUTH,
 *     WRONGPASS, NOPERM, EXECABORT): reject; the drainer sends the batch
 *     again with backoff. Health shows the reason.
 *   - errors of single commands inside EXEC (WRONGTYPE: the key holds
 *     another type): the commands that succeeded are done; only the failed
 *     ones are sent again, with backoff, until the deadline, then reject.
 *   - nothing is dead-lettered: Redis refuses no single record for its
 *     content, and a key of the wrong type is an operator's fix, not the
 *     message's fault.
 */
import { isIP } from 'node:net';
import { createClient, type RedisClientType } from '@redis/client';
import type { StoredMessage } from '../../store/message.js';
import { eventDocument } from '../elasticsearch/documents.js';
import { backoffMs, DeliveryError, sleep, type DeliverOptions, type Sink, type SinkEvents } from '../types.js';
import type { KeyPattern } from './key.js';

export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface RedisSinkOptions {
  connection: RedisConnection;
  key: KeyPattern;
  mode: 'list' | 'stream';
  /** Stream mode: MAXLEN ~ this (0: no trimming). */
  streamMaxlen: number;
  clientIp?: string;
  events?: SinkEvents;
  retryCapMs: number;
}

/** Most values in one RPUSH: a 5000-message batch is a handful of commands, not one huge one. */
const RPUSH_CHUNK = 1000;

type Client = RedisClientType;

/** A node-redis client for `c`. `reconnect`: keep reconnecting (a sink) or fail once (a health check). */
export function redisClient(c: RedisConnection, { reconnect, connectTimeoutMs = 5000 }: { reconnect: boolean; connectTimeoutMs?: number }): Client {
  const socket = c.tls
    ? { host: c.host, port: c.port, tls: true as const, servername: isIP(c.host) ? undefined : c.host, ca: c.ca, cert: c.cert, key: c.key }
    : { host: c.host, port: c.port, tls: false as const };
  return createClient({
    username: c.username,
    password: c.password,
    database: c.db,
    // A command while the connection is down fails at once (the drainer
    // backs off and resends); nothing waits in a queue past its deadline.
    disableOfflineQueue: true,
    socket: {
      ...socket,
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: reconnect ? (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000) : false,
    },
  }) as unknown as Client;
}

interface Command {
  args: string[];
  /** Messages this command carries. */
  n: number;
}

export class RedisSink implements Sink {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private closed = false;
  /** The last connection error, for the message of a failed delivery. */
  private lastError = '';

  constructor(private readonly o: RedisSinkOptions) {}

  async deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    let pending = this.commands(messages, opts.clientIp ?? this.o.clientIp ?? '');
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        await sleep(backoffMs(attempt, 50, this.o.retryCapMs), opts.signal);
        await opts.beforeRetry?.();
      }
      if (opts.signal?.aborted || Date.now() >= opts.deadline) throw new DeliveryError('redis output: not delivered in time', 504);
      const n = count(pending);
      const t0 = performance.now();
      let replies: unknown[];
      try {
        replies = await this.exec(pending, opts.deadline);
      } catch (e) {
        this.o.events?.requestFailed?.();
        if (attempt > 0) this.o.events?.retried?.(n);
        throw e instanceof DeliveryError ? e : new DeliveryError(`redis output: ${describe(e, this.lastError)}`);
      }
      this.o.events?.request?.(performance.now() - t0, n);
      if (attempt > 0) this.o.events?.retried?.(n);
      // Commands inside the transaction fail one by one (WRONGTYPE): keep only those.
      const failed: Command[] = [];
      let firstError = '';
      for (let i = 0; i < pending.length; i++) {
        const r = replies[i];
        if (r instanceof Error) {
          failed.push(pending[i]!);
          firstError ||= r.message;
        }
      }
      this.o.events?.delivered?.(n - count(failed));
      if (failed.length === 0) return;
      pending = failed;
      if (Date.now() >= opts.deadline) {
        throw new DeliveryError(`redis output: ${count(failed)} of ${messages.length} messages refused: ${firstError}`);
      }
    }
  }

  private commands(messages: readonly StoredMessage[], clientIp: string): Command[] {
    const cmds: Command[] = [];
    if (this.o.mode === 'list') {
      // One RPUSH per key (and per RPUSH_CHUNK values), in message order within a key.
      const byKey = new Map<string, string[]>();
      const constant = this.o.key.constant ? this.o.key.pattern : undefined;
      for (const m of messages) {
        const key = constant ?? this.o.key.resolve(m);
        let values = byKey.get(key);
        if (!values) byKey.set(key, (values = []));
        values.push(eventDocument(m, clientIp).slice(0, -1));
      }
      for (const [key, values] of byKey) {
        for (let i = 0; i < values.length; i += RPUSH_CHUNK) {
          const chunk = values.slice(i, i + RPUSH_CHUNK);
          cmds.push({ args: ['RPUSH', key, ...chunk], n: chunk.length });
        }
      }
      return cmds;
    }
    const trim = this.o.streamMaxlen > 0 ? ['MAXLEN', '~', String(this.o.streamMaxlen)] : [];
    for (const m of messages) {
      cmds.push({ args: ['XADD', this.o.key.resolve(m), ...trim, '*', 'uuid', m.uuid, 'event', eventDocument(m, clientIp).slice(0, -1)], n: 1 });
    }
    return cmds;
  }

  /** MULTI, the commands, EXEC: the replies, one per command (an Error for a command that failed). */
  private async exec(cmds: readonly Command[], deadline: number): Promise<unknown[]> {
    const client = await this.connected(deadline);
    const multi = client.multi();
    for (const c of cmds) multi.addCommand(c.args);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeliveryError('redis output: no answer to EXEC before the deadline', 504)), Math.max(0, deadline - Date.now()));
    });
    try {
      return (await Promise.race([multi.exec(), timeout])) as unknown[];
    } catch (e) {
      if (isMultiError(e)) return e.replies;
      // No answer in time: the connection's state is unknown (a stalled
      // server may still apply the EXEC later: at least once). Start afresh.
      if (e instanceof DeliveryError) this.reset(client);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The sink's connection, made on first use; a failed connect rejects (the drainer backs off). */
  private async connected(deadline: number): Promise<Client> {
    if (this.closed) throw new DeliveryError('redis output: closed');
    if (this.client?.isReady) return this.client;
    if (this.client) this.reset(this.client); // dropped: connect again
    this.connecting ??= this.connect(deadline);
    return this.connecting;
  }

  private async connect(deadline: number): Promise<Client> {
    const client = redisClient(this.o.connection, { reconnect: false, connectTimeoutMs: Math.max(500, Math.min(5000, deadline - Date.now())) });
    client.on('error', (e: Error) => {
      this.lastError = describe(e, '');
    });
    try {
      await client.connect();
    } catch (e) {
      this.lastError = describe(e, this.lastError);
      client.destroy();
      throw new DeliveryError(`redis output: cannot connect to ${this.o.connection.host}:${this.o.connection.port}: ${this.lastError}`);
    } finally {
      this.connecting = undefined;
    }
    // A dropped connection is not mended in place: the next deliver() connects
    // again (after the drainer's backoff), so no command waits on a dead socket.
    client.on('end', () => {
      if (this.client === client) this.client = undefined;
    });
    if (this.closed) {
      client.destroy();
      throw new DeliveryError('redis output: closed');
    }
    this.client = client;
    return client;
  }

  private reset(client: Client): void {
    if (this.client === client) this.client = undefined;
    try {
      client.destroy();
    } catch {}
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    if (c) await c.close().catch(() => c.destroy());
  }
}

function count(cmds: readonly Command[]): number {
  let n = 0;
  for (const c of cmds) n += c.n;
  return n;
}

function isMultiError(e: unknown): e is { replies: unknown[]; errorIndexes: number[] } {
  return typeof e === 'object' && e !== null && Array.isArray((e as { replies?: unknown }).replies) && Array.isArray((e as { errorIndexes?: unknown }).errorIndexes);
}

export function describe(e: unknown, fallback: string): string {
  const err = e as NodeJS.ErrnoException & { errors?: Error[] };
  if (err?.errors?.length) return describe(err.errors[0], fallback); // AggregateError (connect to several addresses)
  const text = err?.code && !err.message?.includes(err.code) ? `${err.code} ${err.message}` : (err?.message ?? String(e));
  return text || fallback;
}
