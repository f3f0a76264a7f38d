/**
 * The Logstash output's flags and their checks: libbeat's output.logstash
 * settings under Spillway's names (hosts, loadbalance, worker, bulk_max_size,
 * compression_level, timeout, index, ssl.*). TLS files are read here, at
 * parse, so a missing or malformed one exits 2 before anything starts.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Config } from '../../config/options.js';
import { outputOption, type OutputOptions, type SettingName } from '../output.js';

export interface LogstashConfig {
  logstashHosts: string[];
  logstashLoadbalance: boolean;
  logstashWorkers: number;
  logstashWindowSize: number;
  logstashCompressionLevel: number;
  logstashTimeout: number;
  /** --logstash-timeout in milliseconds, set by check(). */
  logstashTimeoutMs: number;
  logstashIndex: string;
  logstashTls: boolean;
  logstashTlsCa: string;
  logstashTlsCert: string;
  logstashTlsKey: string;
}

export const LOGSTASH_DEFAULT_PORT = 5044;

/** "host", "host:port", "[v6]:port" → { host, port }; throws a message without the flag. */
export function parseHost(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not host or host:port`);
  const port = m[3] === undefined ? LOGSTASH_DEFAULT_PORT : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`"${text}": port must be 1-65535`);
  return { host: (m[1] ?? m[2])!, port };
}

function readPem(file: string, what: string, pattern: RegExp): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (e) {
    throw new Error(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!pattern.test(pem.toString('latin1'))) throw new Error(`${what}: ${file} holds no PEM ${pattern.source.includes('KEY') ? 'private key' : 'certificate'}`);
  return pem;
}

const CERT = /-----BEGIN CERTIFICATE-----/;
const KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export const logstashOptions: OutputOptions = {
  name: 'logstash',
  summary: 'the Beats protocol (lumberjack v2) to Logstash\'s beats input on --logstash-hosts: windows, compression, TLS',
  delivery: 'at least once: a batch is delivered when Logstash has acknowledged every event of it; after a cut only the unacknowledged events are resent, but a crash or a deadline resends the batch (each event carries rxtxMsg.uuid to deduplicate)',
  options: [
    outputOption('logstashHosts', 'logstash-hosts', 'list', ['localhost:5044'], 'Logstash beats inputs, host[:port] comma-separated (port 5044 when absent)'),
    outputOption('logstashLoadbalance', 'logstash-loadbalance', 'bool', false,
      'logstash output: spread windows over every host (false: one host at a time, the next on failure)'),
    outputOption('logstashWorkers', 'logstash-workers', 'int', 1, 'logstash output: connections per host, per forwarder thread', { min: 1 }),
    outputOption('logstashWindowSize', 'logstash-window-size', 'int', 2048, 'logstash output: most events in one window (libbeat bulk_max_size)', { min: 1 }),
    outputOption('logstashCompressionLevel', 'logstash-compression-level', 'int', 3, 'logstash output: zlib level of each window, 0 (off) to 9', { min: 0 }),
    outputOption('logstashTimeout', 'logstash-timeout', 'number', 30, 'logstash output: seconds to connect, and of silence while a window waits for its ACK'),
    outputOption('logstashIndex', 'logstash-index', 'string', 'rtbeat', 'logstash output: @metadata.beat of every event (libbeat output.logstash.index)'),
    outputOption('logstashTls', 'logstash-tls', 'bool', false, 'logstash output: TLS (implied by --logstash-tls-ca or --logstash-tls-cert)'),
    outputOption('logstashTlsCa', 'logstash-tls-ca', 'string', '', 'logstash output: CA certificates (PEM) to verify Logstash with (default: the system\'s)'),
    outputOption('logstashTlsCert', 'logstash-tls-cert', 'string', '', 'logstash output: client certificate (PEM), with --logstash-tls-key'),
    outputOption('logstashTlsKey', 'logstash-tls-key', 'string', '', 'logstash output: client private key (PEM), with --logstash-tls-cert'),
  ],
  check(c: Config, name: SettingName) {
    const hosts = name('logstashHosts', '--logstash-hosts');
    if (c.logstashHosts.length === 0) throw new Error(`${hosts}: no host given`);
    for (const h of c.logstashHosts) {
      try {
        parseHost(h);
      } catch (e) {
        throw new Error(`${hosts}: ${(e as Error).message}`);
      }
    }
    if (c.logstashCompressionLevel > 9) {
      throw new Error(`${name('logstashCompressionLevel', '--logstash-compression-level')}: ${c.logstashCompressionLevel} is not 0 to 9`);
    }
    if (!(c.logstashTimeout > 0)) throw new Error(`${name('logstashTimeout', '--logstash-timeout')}: must be more than 0 seconds`);
    c.logstashTimeoutMs = Math.round(c.logstashTimeout * 1000);
    if (!c.logstashIndex) throw new Error(`${name('logstashIndex', '--logstash-index')}: must not be empty`);
    const cert = name('logstashTlsCert', '--logstash-tls-cert');
    const key = name('logstashTlsKey', '--logstash-tls-key');
    if (Boolean(c.logstashTlsCert) !== Boolean(c.logstashTlsKey)) {
      throw new Error(c.logstashTlsCert ? `${cert} needs ${key}` : `${key} needs ${cert}`);
    }
    if (c.logstashTlsCa || c.logstashTlsCert) c.logstashTls = true;
    const files = logstashTlsFiles(c, name);
    try {
      if (files) createSecureContext(files);
    } catch (e) {
      throw new Error(`TLS files do not fit together: ${(e as Error).message}`);
    }
  },
};

/** The TLS options of the output (files read and checked), or undefined without TLS. */
export function logstashTlsFiles(c: Config, name: SettingName = (_k, flag) => flag): { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  if (!c.logstashTls) return undefined;
  return {
    ca: c.logstashTlsCa ? readPem(c.logstashTlsCa, name('logstashTlsCa', '--logstash-tls-ca'), CERT) : undefined,
    cert: c.logstashTlsCert ? readPem(c.logstashTlsCert, name('logstashTlsCert', '--logstash-tls-cert'), CERT) : undefined,
    key: c.logstashTlsKey ? readPem(c.logstashTlsKey, name('logstashTlsKey', '--logstash-tls-key'), KEY) : undefined,
  };
}
