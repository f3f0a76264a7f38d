/**
 * rtbeat's libbeat YAML (`spillway beat -c rtbeat.yml`) → Spillway settings.
 *
 * Read: rtbeat.port, rtbeat.timeout, rtbeat.shutdown_timeout;
 * output.elasticsearch.{hosts, protocol, path, index, username, password,
 * api_key, ssl.certificate_authorities, ssl.enabled, enabled};
 * output.logstash.{hosts, loadbalance, worker, bulk_max_size, compression_level,
 * timeout, index, ssl.*}; output.kafka.{hosts, topic, key, partition.*,
 * required_acks, compression, client_id, max_message_bytes, username,
 * password, sasl.mechanism, ssl.*}; output.redis.{hosts, key, index, datatype,
 * db, password, ssl.*}; output.file.*;
 * setup.template.{enabled, name, pattern, overwrite}; setup.ilm.enabled;
 * logging.level; ${VAR} / ${VAR:default} everywhere; -E key=value overrides.
 *
 * Refused (ConfigError, exit 2) because ignoring them would change where the
 * data goes: an enabled output.* section Spillway cannot serve, cloud.id,
 * output.elasticsearch.{indices, pipeline, pipelines}, output.kafka.topics,
 * output.redis.{keys, datatype: channel}, several Redis hosts, a proxy_url,
 * codec.format, setup.ilm.enabled: true, processors that drop, rename or
 * rewrite fields.
 *
 * Everything else that has a value is named in one warning line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { convertValue } from './convert.js';
import { ConfigError } from './errors.js';
import { OPTIONS, type Config, type OptionSpec } from './options.js';
import { expandEnv, isMap, readYaml, yamlScalar } from './yamlfile.js';

export interface Credentials {
  /** Elasticsearch's encoded API key (base64 of id:api_key), as ES_API_KEY takes it. */
  apiKey?: string;
  username?: string;
  password?: string;
  /** A PEM file, as ES_CA_CERT takes it. */
  caCert?: string;
  /** output.kafka.username/password, as KAFKA_USERNAME/KAFKA_PASSWORD take them. */
  kafkaUsername?: string;
  kafkaPassword?: string;
  /** output.redis.password, as REDIS_PASSWORD takes it. */
  redisPassword?: string;
}

/** The environment variable each beat credential reaches the outputs by (parse.ts sets unset ones). */
export const CREDENTIAL_ENV: Partial<Record<keyof Credentials, string>> = {
  kafkaUsername: 'KAFKA_USERNAME', kafkaPassword: 'KAFKA_PASSWORD', redisPassword: 'REDIS_PASSWORD',
};

export interface FileValue {
  value: unknown;
  source: string;
}

export interface BeatConfig {
  values: Map<keyof Config, FileValue>;
  credentials: Credentials;
  warnings: string[];
}

const hasOption = (key: string) => OPTIONS.some((o) => o.key === key);

/** Outputs Spillway can serve from a beat config: elasticsearch, and each other output that exists in this build (src/sinks/). */
export function servedOutputs(): string[] {
  if (!hasOption('outputs')) return ['elasticsearch'];
  const byOption: [string, string][] = [['file', 'filePath'], ['logstash', 'logstashHosts'], ['kafka', 'kafkaBrokers'], ['redis', 'redisKey']];
  return ['elasticsearch', ...byOption.filter(([, key]) => hasOption(key)).map(([out]) => out)];
}

/** Processors refused: they drop, rename or rewrite fields of the document. */
const REWRITING_PROCESSORS = new Set([
  'drop_event', 'drop_fields', 'include_fields', 'rename', 'replace', 'truncate_fields', 'convert', 'script',
  'decode_json_fields', 'copy_fields', 'extract_array', 'dissect', 'urldecode', 'decode_base64_field',
]);

/** Keys that are read (the rest of a present, non-empty key is warned about). */
const READ = new Set([
  'rtbeat.port', 'rtbeat.timeout', 'rtbeat.shutdown_timeout',
  'output.elasticsearch.hosts', 'output.elasticsearch.protocol', 'output.elasticsearch.path',
  'output.elasticsearch.index', 'output.elasticsearch.username', 'output.elasticsearch.password',
  'output.elasticsearch.api_key', 'output.elasticsearch.ssl.certificate_authorities',
  'output.elasticsearch.ssl.enabled', 'output.elasticsearch.enabled',
  'setup.template.enabled', 'setup.template.name', 'setup.template.pattern', 'setup.template.overwrite',
  'setup.ilm.enabled', 'logging.level',
  'output.file.enabled', 'output.file.path', 'output.file.filename', 'output.file.rotate_every_kb', 'output.file.permissions',
  ...['logstash', 'kafka', 'redis'].flatMap((o) => ['enabled', 'hosts', 'ssl.enabled', 'ssl.certificate_authorities', 'ssl.certificate', 'ssl.key'].map((k) => `output.${o}.${k}`)),
  'output.logstash.loadbalance', 'output.logstash.worker', 'output.logstash.bulk_max_size', 'output.logstash.compression_level',
  'output.logstash.timeout', 'output.logstash.index',
  'output.kafka.topic', 'output.kafka.key', 'output.kafka.partition.random', 'output.kafka.partition.round_robin', 'output.kafka.partition.hash',
  'output.kafka.partition.hash.hash', 'output.kafka.required_acks', 'output.kafka.compression', 'output.kafka.client_id',
  'output.kafka.max_message_bytes', 'output.kafka.username', 'output.kafka.password', 'output.kafka.sasl.mechanism',
  'output.redis.key', 'output.redis.index', 'output.redis.datatype', 'output.redis.db', 'output.redis.password',
]);

/** Where the refused keys send data, for the error line. */
const REFUSED_KEYS: Record<string, string> = {
  'cloud.id': 'Elastic Cloud ids are not supported: set output.elasticsearch.hosts',
  'cloud.auth': 'Elastic Cloud credentials are not supported: set output.elasticsearch.username/password',
  'output.elasticsearch.indices': 'conditional indices are not supported: Spillway writes every event to output.elasticsearch.index',
  'output.elasticsearch.pipeline': 'ingest pipelines are not supported',
  'output.elasticsearch.pipelines': 'ingest pipelines are not supported',
  'output.kafka.topics': 'conditional topics are not supported: Spillway writes every event to output.kafka.topic',
  'output.redis.keys': 'conditional keys are not supported: Spillway writes every event to output.redis.key',
  'output.logstash.proxy_url': 'proxies are not supported: Spillway connects to the hosts directly',
  'output.redis.proxy_url': 'proxies are not supported: Spillway connects to the host directly',
  'output.logstash.codec.format': 'a format codec is not supported: Spillway writes the JSON event',
  'output.kafka.codec.format': 'a format codec is not supported: Spillway writes the JSON event',
  'output.redis.codec.format': 'a format codec is not supported: Spillway writes the JSON event',
};

const LOG_LEVELS: Record<string, string> = {
  critical: 'fatal', error: 'error', warning: 'warn', warn: 'warn', info: 'info', debug: 'debug',
};

/** Flatten nested and dotted keys to dotted paths; lists (and processors) are leaves; empty values dropped. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (isMap(value) && prefix !== 'processors') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  if (value === null || value === undefined) return;
  out.set(prefix, value);
}

function setPath(tree: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) {
    if (!isMap(node[p])) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

const spec = (key: keyof Config): OptionSpec => OPTIONS.find((o) => o.key === key)!;
/** An option that may not exist in every build (the outputs' own). */
const optional = (key: string) => key as keyof Config;

/**
 * libbeat's host forms: "host", "host:port", "scheme://host[:port][/path]".
 * The scheme defaults to `protocol` (http), the port to 9200, and `path` is
 * prefixed to a URL that has none, as libbeat's MakeURL does.
 */
export function esHostUrl(host: string, protocol: string | undefined, path: string | undefined): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `${protocol ?? 'http'}://${host}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${host}" is not a host`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${host}" must be http or https`);
  if (!url.port) url.port = '9200';
  if (path && (url.pathname === '/' || url.pathname === '')) url.pathname = path.startsWith('/') ? path : `/${path}`;
  return url.toString().replace(/\/$/, '');
}

/** Load one or more libbeat YAML files (later ones win, key by key), then -E overrides. */
export function loadBeatConfig(files: readonly string[], overrides: readonly string[], env: NodeJS.ProcessEnv): BeatConfig {
  const name = files.length === 1 ? basename(files[0]!) : 'beat config';
  const flat = new Map<string, unknown>();
  const origin = new Map<string, string>();
  for (const file of files) {
    const raw = readYaml(file);
    if (!isMap(raw)) throw new ConfigError(`${file}: expected a mapping of settings at the top`);
    const expanded = expandEnv(raw, env, (key) => `${file}: ${key}`);
    const f = new Map<string, unknown>();
    flatten(expanded, '', f);
    for (const [k, v] of f) {
      flat.set(k, v);
      origin.set(k, basename(file));
    }
  }
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new ConfigError(`-E ${o}: expected key=value`);
    const key = o.slice(0, eq).trim();
    const tree: Record<string, unknown> = {};
    setPath(tree, key, expandEnv(yamlScalar(o.slice(eq + 1)), env, () => `-E ${key}`));
    const f = new Map<string, unknown>();
    flatten(tree, '', f);
    for (const k of [...flat.keys()]) if (k === key || k.startsWith(`${key}.`)) flat.delete(k);
    for (const [k, v] of f) {
      flat.set(k, v);
      origin.set(k, '-E');
    }
  }
  const where = (key: string) => `${origin.get(key) ?? name}: ${key}`;

  const values = new Map<keyof Config, FileValue>();
  const SERVED_OUTPUTS = servedOutputs();
  const credentials: Credentials = {};
  const ignored: string[] = [];
  const put = (key: keyof Config, yamlKey: string, value: unknown) => {
    values.set(key, { value: convertValue(spec(key), value, where(yamlKey)), source: where(yamlKey) });
  };
  const str = (key: string): string | undefined => {
    const v = flat.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v !== 'string') throw new ConfigError(`${where(key)}: expected a string`);
    return v;
  };
  const bool = (key: string): boolean | undefined => {
    const v = flat.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return /^true$/i.test(v);
    throw new ConfigError(`${where(key)}: expected true or false, got ${JSON.stringify(v)}`);
  };

  // ---- outputs: exactly the enabled sections count; one Spillway cannot serve is refused.
  const outputs = new Set<string>();
  const enabled = new Set<string>();
  for (const k of flat.keys()) if (k.startsWith('output.')) outputs.add(k.split('.')[1]!);
  for (const out of outputs) {
    if (bool(`output.${out}.enabled`) === false) {
      for (const k of [...flat.keys()]) if (k.startsWith(`output.${out}.`)) flat.delete(k);
      continue;
    }
    enabled.add(out);
    if (!SERVED_OUTPUTS.includes(out)) {
      throw new ConfigError(
        `${where(`output.${out}`)}: Spillway cannot deliver to this output (it serves ${SERVED_OUTPUTS.map((o) => `output.${o}`).join(', ')}); ignoring it would send the data elsewhere`,
      );
    }
  }
  if (enabled.size > 0 && hasOption('outputs')) {
    put(optional('outputs'), `output.${[...enabled][0]}`, SERVED_OUTPUTS.filter((o) => enabled.has(o)));
  }
  if (outputs.size > 0 && enabled.size === 0) {
    throw new ConfigError(`${where([...outputs].map((o) => `output.${o}.enabled`)[0]!)}: false leaves no output`);
  }
  for (const [k, why] of Object.entries(REFUSED_KEYS)) {
    for (const key of flat.keys()) if (key === k || key.startsWith(`${k}.`)) throw new ConfigError(`${where(key)}: ${why}`);
  }

  // ---- processors: refuse the ones that drop or rename, name the rest.
  const processors = flat.get('processors');
  if (processors !== undefined) {
    if (!Array.isArray(processors)) throw new ConfigError(`${where('processors')}: expected a list`);
    processors.forEach((p, i) => {
      const kind = isMap(p) ? Object.keys(p)[0] : undefined;
      if (!kind) throw new ConfigError(`${where('processors')}[${i}]: expected a mapping with the processor's name`);
      if (REWRITING_PROCESSORS.has(kind)) {
        throw new ConfigError(
          `${where('processors')}[${i}].${kind}: Spillway does not run processors, and ignoring this one would change the documents written (fields dropped or renamed)`,
        );
      }
      ignored.push(`processors[${i}].${kind}`);
    });
    flat.delete('processors');
  }

  // ---- rtbeat section
  if (flat.has('rtbeat.port')) put('port', 'rtbeat.port', str('rtbeat.port'));
  if (flat.has('rtbeat.timeout')) put('ackTimeout', 'rtbeat.timeout', flat.get('rtbeat.timeout'));
  if (flat.has('rtbeat.shutdown_timeout')) put('shutdownTimeout', 'rtbeat.shutdown_timeout', flat.get('rtbeat.shutdown_timeout'));

  // ---- output.elasticsearch
  const hosts = flat.get('output.elasticsearch.hosts');
  if (hosts !== undefined) {
    const list = Array.isArray(hosts) ? hosts : [hosts];
    if (list.length === 0 || !list.every((h) => typeof h === 'string' && h.trim())) {
      throw new ConfigError(`${where('output.elasticsearch.hosts')}: expected a list of hosts`);
    }
    const protocol = str('output.elasticsearch.protocol');
    const path = str('output.elasticsearch.path');
    const urls = list.map((h) => {
      try {
        return esHostUrl((h as string).trim(), protocol, path);
      } catch (e) {
        throw new ConfigError(`${where('output.elasticsearch.hosts')}: ${(e as Error).message}`);
      }
    });
    put('es', 'output.elasticsearch.hosts', urls);
  }
  const index = str('output.elasticsearch.index');
  if (index !== undefined) {
    if (/%\{\[/.test(index)) {
      throw new ConfigError(
        `${where('output.elasticsearch.index')}: field references such as %{[agent.version]} are not supported (Spillway names indices by the message date only, %{+yyyy.MM.dd})`,
      );
    }
    put('index', 'output.elasticsearch.index', index);
  }
  const username = str('output.elasticsearch.username');
  const password = str('output.elasticsearch.password');
  const apiKey = str('output.elasticsearch.api_key');
  if (apiKey) credentials.apiKey = apiKey.includes(':') ? Buffer.from(apiKey).toString('base64') : apiKey;
  if (username !== undefined) credentials.username = username;
  if (password !== undefined) credentials.password = password;
  const cas = flat.get('output.elasticsearch.ssl.certificate_authorities');
  if (cas !== undefined) {
    const list = Array.isArray(cas) ? cas : [cas];
    if (!list.every((c) => typeof c === 'string')) {
      throw new ConfigError(`${where('output.elasticsearch.ssl.certificate_authorities')}: expected a list of files`);
    }
    credentials.caCert = caFile(list as string[], where('output.elasticsearch.ssl.certificate_authorities'));
  }

  // ---- output.file (libbeat 7.17: <path>/<filename>, rotated by size only, to <filename>.1 ...)
  if (enabled.has('file')) {
    const dir = str('output.file.path');
    if (!dir) throw new ConfigError(`${where('output.file.path')}: must be set (the directory of the files)`);
    const filename = str('output.file.filename') ?? 'rtbeat';
    if (!filename || filename.includes('/')) throw new ConfigError(`${where('output.file.filename')}: must be a file name`);
    put(optional('filePath'), 'output.file.path', `${dir.replace(/\/+$/, '')}/${filename}`);
    const kb = flat.get('output.file.rotate_every_kb') ?? 10240;
    if (typeof kb !== 'number' || !Number.isInteger(kb) || kb < 0) {
      throw new ConfigError(`${where('output.file.rotate_every_kb')}: expected a whole number of KiB, got ${JSON.stringify(kb)}`);
    }
    put(optional('fileRotateBytes'), 'output.file.rotate_every_kb', kb * 1024);
    put(optional('fileRotateInterval'), 'output.file.rotate_every_kb', 0);
    const perm = flat.get('output.file.permissions') ?? '0600';
    // YAML 1.2 reads libbeat's 0600 as the number 600: its digits are the octal mode.
    const mode = typeof perm === 'number' ? String(perm).padStart(4, '0') : String(perm).replace(/^0o/, '0');
    put(optional('fileMode'), 'output.file.permissions', mode);
  }

  // ---- output.logstash, output.kafka, output.redis (the sections' own keys; the outputs check the values at start)
  const list = (key: string): string[] | undefined => {
    const v = flat.get(key);
    if (v === undefined) return undefined;
    const l = Array.isArray(v) ? v : [v];
    if (l.length === 0 || !l.every((h) => typeof h === 'string' && h.trim())) throw new ConfigError(`${where(key)}: expected a list of hosts`);
    return (l as string[]).map((h) => h.trim());
  };
  /** libbeat's ssl.* of one output → Spillway's TLS settings (prefix: the option keys' stem). */
  const ssl = (out: string, keys: { tls: string; ca: string; cert: string; key: string }) => {
    const base = `output.${out}.ssl`;
    const on = bool(`${base}.enabled`);
    const cas = flat.get(`${base}.certificate_authorities`);
    if (on === false) {
      for (const k of [...flat.keys()]) if (k.startsWith(`${base}.`)) flat.delete(k);
      return;
    }
    if (on) put(optional(keys.tls), `${base}.enabled`, true);
    if (cas !== undefined) {
      const l = Array.isArray(cas) ? cas : [cas];
      if (!l.every((c) => typeof c === 'string')) throw new ConfigError(`${where(`${base}.certificate_authorities`)}: expected a list of files`);
      put(optional(keys.ca), `${base}.certificate_authorities`, caFile(l as string[], where(`${base}.certificate_authorities`)));
      put(optional(keys.tls), `${base}.certificate_authorities`, true);
    }
    const cert = str(`${base}.certificate`);
    const key = str(`${base}.key`);
    if (Boolean(cert) !== Boolean(key)) {
      throw new ConfigError(`${where(cert ? `${base}.key` : `${base}.certificate`)}: a client certificate needs both ssl.certificate and ssl.key`);
    }
    if (cert && key) {
      if (key.includes('-----BEGIN') || cert.includes('-----BEGIN')) {
        throw new ConfigError(`${where(`${base}.certificate`)}: inline PEM is not supported: give the files' paths`);
      }
      put(optional(keys.cert), `${base}.certificate`, cert);
      put(optional(keys.key), `${base}.key`, key);
      put(optional(keys.tls), `${base}.certificate`, true);
    }
  };
  /** libbeat durations: a number of seconds, or Go's "30s", "1m30s", "500ms". */
  const seconds = (key: string): number | undefined => {
    const v = flat.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && v > 0) return v;
    const text = String(v).trim();
    const UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
    let total = 0;
    const rest = text.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_m, n: string, u: string) => {
      total += Number(n) * UNIT[u]!;
      return '';
    });
    if (rest !== '' || !(total > 0)) throw new ConfigError(`${where(key)}: ${JSON.stringify(v)} is not a duration (examples: 30, 30s, 1m30s)`);
    return total;
  };

  if (enabled.has('logstash')) {
    const hosts = list('output.logstash.hosts');
    if (!hosts) throw new ConfigError(`${where('output.logstash.hosts')}: must be set (Logstash's beats inputs, host:port)`);
    put(optional('logstashHosts'), 'output.logstash.hosts', hosts);
    const lb = bool('output.logstash.loadbalance');
    if (lb !== undefined) put(optional('logstashLoadbalance'), 'output.logstash.loadbalance', lb);
    if (flat.has('output.logstash.worker')) put(optional('logstashWorkers'), 'output.logstash.worker', flat.get('output.logstash.worker'));
    // libbeat: bulk_max_size 0 or less sends the whole batch in one window; Spillway's window is bounded, so keep its default.
    const bulk = flat.get('output.logstash.bulk_max_size');
    if (bulk !== undefined && !(typeof bulk === 'number' && bulk <= 0)) put(optional('logstashWindowSize'), 'output.logstash.bulk_max_size', bulk);
    if (flat.has('output.logstash.compression_level')) {
      put(optional('logstashCompressionLevel'), 'output.logstash.compression_level', flat.get('output.logstash.compression_level'));
    }
    const timeout = seconds('output.logstash.timeout');
    if (timeout !== undefined) put(optional('logstashTimeout'), 'output.logstash.timeout', timeout);
    const idx = str('output.logstash.index');
    if (idx !== undefined) put(optional('logstashIndex'), 'output.logstash.index', idx);
    ssl('logstash', { tls: 'logstashTls', ca: 'logstashTlsCa', cert: 'logstashTlsCert', key: 'logstashTlsKey' });
  }

  if (enabled.has('kafka')) {
    const hosts = list('output.kafka.hosts');
    if (!hosts) throw new ConfigError(`${where('output.kafka.hosts')}: must be set (the bootstrap brokers, host:port)`);
    put(optional('kafkaBrokers'), 'output.kafka.hosts', hosts);
    const topic = str('output.kafka.topic');
    if (topic !== undefined) put(optional('kafkaTopic'), 'output.kafka.topic', topic);
    // libbeat's key is a format string; Spillway keys a record by one of its fields (which picks the partition).
    const KEYS: Record<string, string> = {
      '%{[rxtxMsg.producer]}': 'producer', '%{[rxtxMsg.key]}': 'key', '%{[rxtxMsg.uuid]}': 'uuid',
      '%{[rxtxMsg.producer]}-%{[rxtxMsg.key]}': 'producer-key', '%{[rxtxMsg.producer]}%{[rxtxMsg.key]}': 'producer-key',
    };
    const key = str('output.kafka.key');
    const spread = ['random', 'round_robin'].find((p) => flat.has(`output.kafka.partition.${p}`) || [...flat.keys()].some((k) => k.startsWith(`output.kafka.partition.${p}.`)));
    if (key !== undefined) {
      const mapped = KEYS[key.replace(/\s+/g, '')];
      if (!mapped) {
        throw new ConfigError(`${where('output.kafka.key')}: ${JSON.stringify(key)} is not supported: Spillway keys records by ${Object.keys(KEYS).slice(0, 4).join(', ')}`);
      }
      if (spread) {
        throw new ConfigError(`${where(`output.kafka.partition.${spread}`)}: with output.kafka.key set, Spillway partitions by the key; remove one of them`);
      }
      put(optional('kafkaKey'), 'output.kafka.key', mapped);
    } else if (spread) {
      put(optional('kafkaKey'), `output.kafka.partition.${spread}`, 'none');
    }
    const hashFields = flat.get('output.kafka.partition.hash.hash');
    if (hashFields !== undefined && !(Array.isArray(hashFields) && hashFields.length === 0)) {
      throw new ConfigError(`${where('output.kafka.partition.hash.hash')}: hashing on fields is not supported: Spillway partitions by output.kafka.key`);
    }
    const acks = flat.get('output.kafka.required_acks');
    if (acks !== undefined) {
      if (acks !== -1 && acks !== 0 && acks !== 1) throw new ConfigError(`${where('output.kafka.required_acks')}: expected -1, 0 or 1, got ${JSON.stringify(acks)}`);
      if (acks !== -1) ignored.push(`output.kafka.required_acks (${acks}: Spillway always waits for every in-sync replica, -1)`);
    }
    const compression = str('output.kafka.compression');
    if (compression !== undefined) {
      const c = compression.toLowerCase();
      if (!['none', 'gzip', 'snappy', 'lz4'].includes(c)) {
        throw new ConfigError(`${where('output.kafka.compression')}: "${compression}" is not supported (none, gzip, snappy, lz4)`);
      }
      put(optional('kafkaCompression'), 'output.kafka.compression', c);
    }
    const clientId = str('output.kafka.client_id');
    if (clientId !== undefined) put(optional('kafkaClientId'), 'output.kafka.client_id', clientId);
    if (flat.has('output.kafka.max_message_bytes')) put(optional('kafkaMaxMessageBytes'), 'output.kafka.max_message_bytes', flat.get('output.kafka.max_message_bytes'));
    const user = str('output.kafka.username');
    const pass = str('output.kafka.password');
    const mech = str('output.kafka.sasl.mechanism');
    if (mech !== undefined && !['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].includes(mech.toUpperCase())) {
      throw new ConfigError(`${where('output.kafka.sasl.mechanism')}: "${mech}" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`);
    }
    if (mech !== undefined && !user) throw new ConfigError(`${where('output.kafka.sasl.mechanism')}: needs output.kafka.username and password`);
    if (user) {
      // libbeat: a username without a mechanism is PLAIN.
      put(optional('kafkaSasl'), mech ? 'output.kafka.sasl.mechanism' : 'output.kafka.username', (mech ?? 'PLAIN').toLowerCase());
      credentials.kafkaUsername = user;
      credentials.kafkaPassword = pass ?? '';
    }
    ssl('kafka', { tls: 'kafkaTls', ca: 'kafkaTlsCa', cert: 'kafkaTlsCert', key: 'kafkaTlsKey' });
  }

  if (enabled.has('redis')) {
    const hosts = list('output.redis.hosts');
    if (!hosts) throw new ConfigError(`${where('output.redis.hosts')}: must be set (host:port)`);
    if (hosts.length > 1) {
      throw new ConfigError(`${where('output.redis.hosts')}: Spillway writes to one Redis; ${hosts.length} hosts given (libbeat would spread events over them)`);
    }
    const datatype = str('output.redis.datatype');
    if (datatype !== undefined && datatype !== 'list') {
      throw new ConfigError(
        datatype === 'channel'
          ? `${where('output.redis.datatype')}: channel (PUBLISH) is not supported: events would reach only subscribers present at the time, never acknowledged; use list (RPUSH), or --redis-mode stream`
          : `${where('output.redis.datatype')}: "${datatype}" is not list or channel`,
      );
    }
    if (datatype !== undefined) put(optional('redisMode'), 'output.redis.datatype', 'list');
    // libbeat: redis://, rediss://, host or host:port (port 6379); ssl.enabled makes it TLS.
    const h = hosts[0]!;
    const url = /^rediss?:\/\//.test(h) ? h : `redis://${h}`;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError(`${where('output.redis.hosts')}: "${h}" is not host:port`);
    }
    if (u.password) throw new ConfigError(`${where('output.redis.hosts')}: give the password as output.redis.password, not in the host`);
    put(optional('redis'), 'output.redis.hosts', `${u.protocol}//${u.host}`);
    const key = str('output.redis.key') ?? str('output.redis.index');
    if (key !== undefined) put(optional('redisKey'), flat.has('output.redis.key') ? 'output.redis.key' : 'output.redis.index', key);
    if (flat.has('output.redis.db')) put(optional('redisDb'), 'output.redis.db', flat.get('output.redis.db'));
    const pass = str('output.redis.password');
    if (pass) credentials.redisPassword = pass;
    ssl('redis', { tls: 'redisTls', ca: 'redisCa', cert: 'redisCert', key: 'redisCertKey' });
  }

  // ---- setup.*
  const template = bool('setup.template.enabled');
  if (template !== undefined) put('template', 'setup.template.enabled', template);
  bool('setup.template.overwrite');
  const ilm = flat.get('setup.ilm.enabled');
  if (ilm === true || (typeof ilm === 'string' && /^true$/i.test(ilm))) {
    throw new ConfigError(
      `${where('setup.ilm.enabled')}: true is not supported (libbeat would write to an ILM rollover alias; Spillway writes to output.elasticsearch.index): set it to false`,
    );
  }
  if (ilm !== undefined && ilm !== false && !/^(false|auto)$/i.test(String(ilm))) {
    throw new ConfigError(`${where('setup.ilm.enabled')}: expected true, false or auto, got ${JSON.stringify(ilm)}`);
  }
  if (ilm !== undefined && String(ilm).toLowerCase() === 'auto') ignored.push('setup.ilm.enabled (auto: no ILM)');

  // ---- logging
  const level = str('logging.level');
  if (level !== undefined) {
    const mapped = LOG_LEVELS[level.toLowerCase()];
    if (!mapped) throw new ConfigError(`${where('logging.level')}: "${level}" is not one of ${Object.keys(LOG_LEVELS).join(', ')}`);
    put('logLevel', 'logging.level', mapped);
  }

  for (const k of flat.keys()) if (!READ.has(k)) ignored.push(k);
  const warnings: string[] = [];
  if (ignored.length > 0) warnings.push(`${name}: not supported by Spillway, ignored: ${ignored.join(', ')}`);
  if (!flat.has('output.elasticsearch.index') && (enabled.size === 0 || enabled.has('elasticsearch'))) {
    warnings.push(
      `${name}: output.elasticsearch.index is not set: Spillway writes to its --index (default rtbeat-%{+yyyy.MM.dd}), ` +
        "where rtbeat wrote to libbeat's default (the ILM alias rtbeat-<version>, or rtbeat-<version>-yyyy.MM.dd); both match rtbeat-*",
    );
  }
  return { values, credentials, warnings };
}

/** One CA file from libbeat's list of files and inline PEM: the file itself, or the list joined into a private temp file. */
function caFile(list: string[], where: string): string {
  if (list.length === 1 && !list[0]!.includes('-----BEGIN')) return list[0]!;
  const pems = list.map((c) => {
    if (c.includes('-----BEGIN')) return c;
    try {
      return readFileSync(c, 'utf8');
    } catch (e) {
      throw new ConfigError(`${where}: cannot read ${c} (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
  });
  const dir = mkdtempSync(join(tmpdir(), 'spillway-ca-'));
  const file = join(dir, 'ca.pem');
  writeFileSync(file, pems.join('\n'), { mode: 0o600 });
  return file;
}
