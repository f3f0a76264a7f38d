/** The Redis output: build(config, ctx) → { sink, health }. */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../../config/options.js';
import type { OutputContext, OutputDef } from '../output.js';
import type { BuiltOutput, Health } from '../types.js';
import { KeyPattern } from './key.js';
import { redisOptions } from './options.js';
import { describe, redisClient, RedisSink, type RedisConnection } from './sink.js';

/** Host, port, credentials (environment first, then the URL) and TLS files of `c`. */
export function redisConnection(c: Config, env: NodeJS.ProcessEnv = process.env): RedisConnection {
  const url = new URL(c.redis);
  const file = (path: string) => (path ? readFileSync(path) : undefined);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db: c.redisDb,
    username: env.REDIS_USERNAME || decodeURIComponent(url.username) || undefined,
    password: env.REDIS_PASSWORD || decodeURIComponent(url.password) || undefined,
    tls: c.redisTls || url.protocol === 'rediss:',
    ca: file(c.redisCa),
    cert: file(c.redisCert),
    key: file(c.redisCertKey),
  };
}

/**
 * Ready when a fresh connection authenticates, selects the database and
 * gets PONG; checked every 5 s. The reason names what failed (refused,
 * WRONGPASS, LOADING …).
 */
class RedisHealth implements Health {
  notReady: string | undefined = 'Redis not checked yet';
  onFirstReady?: () => void;
  private timer: NodeJS.Timeout | undefined;
  private fired = false;
  private stopped = false;

  constructor(private readonly conn: RedisConnection, private readonly log?: Logger) {}

  async start(): Promise<void> {
    await this.check();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.check(), 5000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const where = `${this.conn.host}:${this.conn.port}`;
    const client = redisClient(this.conn, { reconnect: false, connectTimeoutMs: 3000 });
    let reason: string | undefined;
    client.on('error', () => {});
    try {
      await client.connect();
      const pong = await Promise.race([
        client.ping(),
        new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no answer to PING in 3 s')), 3000).unref()),
      ]);
      if (pong !== 'PONG') reason = `Redis at ${where} answered PING with ${String(pong)}`;
    } catch (e) {
      reason = `Redis unreachable at ${where}: ${describe(e, 'error')}`;
    } finally {
      client.destroy();
    }
    if (reason !== this.notReady) {
      if (reason) this.log?.warn({ output: 'redis' }, reason);
      else if (this.notReady && this.notReady !== 'Redis not checked yet') this.log?.info({ output: 'redis' }, `Redis at ${where} is back`);
    }
    this.notReady = reason;
    if (!reason && !this.fired) {
      this.fired = true;
      this.onFirstReady?.();
    }
  }
}

export const redis: OutputDef = {
  ...redisOptions,
  build(c: Config, ctx: OutputContext): BuiltOutput {
    const connection = redisConnection(c);
    return {
      sink: new RedisSink({
        connection, key: new KeyPattern(c.redisKey), mode: c.redisMode === 'stream' ? 'stream' : 'list',
        streamMaxlen: c.redisStreamMaxlen, clientIp: ctx.clientIp, events: ctx.events, retryCapMs: c.ms.retryMax,
      }),
      health: new RedisHealth(connection, ctx.log),
    };
  },
};
