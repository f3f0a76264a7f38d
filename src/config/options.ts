/**
 * The command-line contract: every flag, its environment variable, its
 * default and how its text becomes a value. Parsing lives in ./parse.ts; this
 * file is the single table that --help, the docs and the parser all read.
 */

import { OUTPUT_FLAGS, type OutputsConfig } from '../sinks/options.js';

import { SECURITY_FLAGS, type SecurityConfig } from '../security/options.js';

export type Role = 'all' | 'edge' | 'beat';
export const ROLES: readonly Role[] = ['all', 'edge', 'beat'];

export type Overflow = 'refuse' | 'drop-oldest';

/**
 * Settings given in seconds (flags, files, environment). parse.ts converts
 * each once into `config.ms` (milliseconds), which is what the code reads.
 */
export const SECONDS = ['interval', 'txTimeout', 'retryMax', 'ackTimeout', 'shutdownTimeout', 'fileRotateInterval'] as const;
export type Millis = Record<(typeof SECONDS)[number], number>;

/** Each output's own fields (--output, --es, --opensearch, --file-path, …) come from src/sinks/<name>/options.ts. */
/** TLS, tokens, rate limit, CORS and the edge's credentials come from SecurityConfig (src/security/options.ts). */
export interface Config extends OutputsConfig, SecurityConfig {
  role: Role;
  /** The SECONDS settings in milliseconds, converted once at parse. */
  ms: Millis;
  host: string;
  port: number;
  path: string;
  name: string;
  shards: number;
  writers: number;
  forwarders: number;
  inflight: number;
  batch: number;
  batchBytes: number;
  interval: number;
  maxq: number;
  maxBytes: number;
  maxBody: number;
  maxBatchBody: number;
  maxDepth: number;
  overflow: Overflow;
  ingest: string;
  txTimeout: number;
  retryMax: number;
  template: boolean;
  ackTimeout: number;
  bulkBytes: number;
  bulkConcurrency: number;
  maxInflightBytes: number;
  shutdownTimeout: number;
  logLevel: string;
  verbose: boolean;
  cpuprofile: string;
  memprofile: string;
}

type Kind = 'int' | 'number' | 'string' | 'bool' | 'bytes' | 'list';

export interface OptionSpec {
  /** Config field the value lands in. */
  key: keyof Config;
  flag: string;
  /** Environment variable read when the flag is absent. */
  env: string;
  kind: Kind;
  /** Default; a function when it depends on the role. */
  def: unknown | ((role: Role) => unknown);
  help: string;
  min?: number;
  choices?: readonly string[];
  /** A string flag that may be given more than once (or as a YAML list): the values join with commas. */
  repeat?: boolean;
}

const env = (flag: string) => 'SPILLWAY_' + flag.toUpperCase().replace(/-/g, '_');

function opt(
  key: keyof Config, flag: string, kind: Kind, def: OptionSpec['def'], help: string,
  extra: Partial<OptionSpec> = {},
): OptionSpec {
  return { key, flag, env: env(flag), kind, def, help, ...extra };
}

const MiB = 1024 * 1024;

export const OPTIONS: readonly OptionSpec[] = [
  opt('host', 'host', 'string', '0.0.0.0', 'address to listen on'),
  opt('port', 'port', 'int', (r: Role) => (r === 'beat' ? 8081 : 8080), 'HTTP port (beat: 8081)', { min: 0 }),
  opt('path', 'path', 'string', './data', 'directory of the LMDB shard files'),
  opt('name', 'name', 'string', 'rxtx', 'service name: shard file names and metric prefix'),
  opt('shards', 'shards', 'int', 4, 'number of LMDB shard files', { min: 1 }),
  opt('writers', 'writers', 'int', 2, 'writer threads (piscina pool) that parse and store', { min: 1 }),
  opt('forwarders', 'forwarders', 'int', 2, 'forwarder threads draining the shards (capped at --shards)', { min: 1 }),
  opt('inflight', 'inflight', 'int', 2, 'batches in flight per shard', { min: 1 }),
  opt('batch', 'batch', 'int', 5000, 'most messages in one forwarded batch', { min: 1 }),
  opt('batchBytes', 'batch-bytes', 'bytes', 16 * MiB, 'most bytes of messages in one forwarded batch', { min: 1024 }),
  opt('interval', 'interval', 'number', 1, 'seconds a partial batch may wait before it is sent', { min: 0 }),
  opt('maxq', 'maxq', 'int', 2_000_000, 'most messages held locally before POSTs get 503', { min: 1 }),
  opt('maxBytes', 'max-bytes', 'bytes', 0, 'most bytes of LMDB pages on disk before 503 (0: no limit)', { min: 0 }),
  opt('maxBody', 'max-body', 'bytes', 1 * MiB, 'largest accepted /rx body, also after gunzip', { min: 1 }),
  opt('maxBatchBody', 'max-batch-body', 'bytes', 64 * MiB, 'largest accepted /rxb and /in body', { min: 1 }),
  opt('maxDepth', 'max-depth', 'int', 64, 'deepest accepted nesting of a payload', { min: 1 }),
  opt('overflow', 'overflow', 'string', 'refuse', 'when the store is full: refuse (503) or drop-oldest', {
    choices: ['refuse', 'drop-oldest'],
  }),
  opt('ingest', 'ingest', 'string', 'http://localhost:8081/in', 'edge mode: the stage URL batches are POSTed to; several (repeat the flag or separate with commas): fail over in order, back to the first when it takes batches again', { repeat: true }),
  opt('txTimeout', 'tx-timeout', 'number', 60, 'edge mode: seconds to wait for the stage to answer a batch', { min: 1 }),
  opt('retryMax', 'retry-max', 'number', 10, 'longest backoff in seconds between retries of a batch', { min: 0.01 }),
  ...OUTPUT_FLAGS,
  opt('template', 'template', 'bool', true, 'install the index template at start (--no-template to skip)'),
  opt('ackTimeout', 'ack-timeout', 'number', 30, 'seconds /in may take to deliver a batch before 504', { min: 0.1 }),
  opt('bulkBytes', 'bulk-bytes', 'bytes', 5 * MiB, 'largest body of one _bulk request', { min: 1024 }),
  opt('bulkConcurrency', 'bulk-concurrency', 'int', 4, '_bulk requests in flight per sink', { min: 1 }),
  opt('maxInflightBytes', 'max-inflight-bytes', 'bytes', 256 * MiB, 'beat: bytes of /in batches in flight before 503', {
    min: 1024,
  }),
  opt('shutdownTimeout', 'shutdown-timeout', 'number', 15, 'seconds a graceful stop may take', { min: 0.1 }),
  opt('logLevel', 'log-level', 'string', 'info', 'pino log level', {
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  }),
  opt('verbose', 'verbose', 'bool', false, "rxtx's -verbose: log at debug level (when --log-level is info)"),
  opt('cpuprofile', 'cpuprofile', 'string', '', "rxtx's -cpuprofile: write a V8 CPU profile of the main thread to this file at stop"),
  opt('memprofile', 'memprofile', 'string', '', "rxtx's -memprofile: write a V8 heap snapshot of the main thread to this file at stop"),
  ...SECURITY_FLAGS,
];
