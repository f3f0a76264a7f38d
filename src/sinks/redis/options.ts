/**
 * The Redis output's flags and their checks. Credentials come only from the
 * environment, never a flag (they would show in `ps`): REDIS_PASSWORD, and
 * REDIS_USERNAME for an ACL user (AUTH username password); a password in the
 * --redis URL is accepted too, and the environment wins over it.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/options.js';
import { outputOption, type OutputOptions, type SettingName } from '../output.js';
import { KeyPattern } from './key.js';

export interface RedisConfig {
  redis: string;
  redisKey: string;
  redisMode: string;
  redisDb: number;
  redisStreamMaxlen: number;
  redisTls: boolean;
  redisCa: string;
  redisCert: string;
  redisCertKey: string;
}

export const REDIS_MODES = ['list', 'stream'] as const;

function readable(path: string, what: string): void {
  if (!path) return;
  try {
    readFileSync(path);
  } catch (e) {
    throw new Error(`${what}: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export const redisOptions: OutputOptions = {
  name: 'redis',
  summary: 'RPUSH (list, as libbeat\'s Redis output) or XADD (stream) to --redis-key on --redis, one MULTI/EXEC per batch',
  delivery: 'at least once: a batch is acknowledged when its EXEC answers; a resend after a lost answer or a crash repeats records (each carries rxtxMsg.uuid to deduplicate)',
  options: [
    outputOption('redis', 'redis', 'string', 'redis://127.0.0.1:6379', 'Redis URL: redis://host:port, or rediss:// for TLS'),
    outputOption('redisKey', 'redis-key', 'string', 'rtbeat',
      'Redis key pattern: date tokens %{+yyyy.MM.dd} (message time, UTC) and %{[rxtxMsg.producer]}, %{[rxtxMsg.key]}, %{[rxtxMsg.label]}'),
    outputOption('redisMode', 'redis-mode', 'string', 'list', 'Redis: list (RPUSH, as libbeat) or stream (XADD, fields uuid and event)'),
    outputOption('redisDb', 'redis-db', 'int', 0, 'Redis database number (SELECT)', { min: 0 }),
    outputOption('redisStreamMaxlen', 'redis-stream-maxlen', 'int', 0, 'Redis stream mode: trim each stream to about this many entries (MAXLEN ~; 0: never)', { min: 0 }),
    outputOption('redisTls', 'redis-tls', 'bool', false, 'Redis: connect with TLS (also implied by rediss://)'),
    outputOption('redisCa', 'redis-ca', 'string', '', 'Redis TLS: PEM file of the CA that signed the server\'s certificate'),
    outputOption('redisCert', 'redis-cert', 'string', '', 'Redis TLS: PEM client certificate (with --redis-cert-key)'),
    outputOption('redisCertKey', 'redis-cert-key', 'string', '', 'Redis TLS: PEM key of --redis-cert'),
  ],
  check(c: Config, name: SettingName) {
    const flag = name('redis', '--redis');
    const shown = c.redis.replace(/\/\/[^/@]*@/, '//…@'); // never a password in a message
    let url: URL;
    try {
      url = new URL(c.redis);
    } catch {
      throw new Error(`${flag}: "${shown}" is not a URL (redis://host:port)`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`${flag}: "${shown}" must be redis:// or rediss://`);
    if (!url.hostname) throw new Error(`${flag}: "${shown}" names no host`);
    if (url.pathname && url.pathname !== '/') throw new Error(`${flag}: "${shown}": give the database with --redis-db, not in the URL`);
    if (!(REDIS_MODES as readonly string[]).includes(c.redisMode)) {
      throw new Error(`${name('redisMode', '--redis-mode')}: "${c.redisMode}" is not one of ${REDIS_MODES.join(', ')}`);
    }
    try {
      new KeyPattern(c.redisKey);
    } catch (e) {
      throw new Error(`${name('redisKey', '--redis-key')}: ${(e as Error).message}`);
    }
    readable(c.redisCa, name('redisCa', '--redis-ca'));
    readable(c.redisCert, name('redisCert', '--redis-cert'));
    readable(c.redisCertKey, name('redisCertKey', '--redis-cert-key'));
    if (!c.redisCert !== !c.redisCertKey) {
      throw new Error(`${name('redisCert', '--redis-cert')} and ${name('redisCertKey', '--redis-cert-key')} go together`);
    }
    if (url.protocol === 'rediss:') c.redisTls = true;
    if ((c.redisCa || c.redisCert) && !c.redisTls) {
      throw new Error(`${name('redisCa', '--redis-ca')}/--redis-cert need TLS: add --redis-tls or use rediss://`);
    }
  },
};
