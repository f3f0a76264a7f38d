/**
 * argv + environment → Config. Flags win over environment variables, which
 * win over defaults. Every failure is a ConfigError with a one-line message;
 * the CLI prints it and exits 2.
 */
import { IndexPattern } from '../sinks/elasticsearch/index-name.js';
import { OPTIONS, ROLES, type Config, type OptionSpec, type Role } from './options.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ParseResult {
  config: Config;
  help: boolean;
}

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

/** "5MiB", "512k", "1048576" → bytes. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`"${text}" is not a size (examples: 1048576, 512k, 5MiB)`);
  return Math.floor(Number(m[1]) * unit);
}

function convert(spec: OptionSpec, raw: string, source: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(`${source}: ${why}`);
  };
  let value: unknown;
  switch (spec.kind) {
    case 'int':
      if (!/^-?\d+$/.test(raw.trim())) fail(`"${raw}" is not a whole number`);
      value = Number(raw);
      break;
    case 'number':
      if (raw.trim() === '' || !Number.isFinite(Number(raw))) fail(`"${raw}" is not a number`);
      value = Number(raw);
      break;
    case 'bytes':
      try {
        value = parseBytes(raw);
      } catch (e) {
        fail((e as Error).message);
      }
      break;
    case 'bool':
      if (!/^(true|false|1|0|yes|no)$/i.test(raw)) fail(`"${raw}" is not true or false`);
      value = /^(true|1|yes)$/i.test(raw);
      break;
    case 'list':
      value = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if ((value as string[]).length === 0) fail('needs at least one value');
      break;
    default:
      value = raw;
  }
  if (spec.min !== undefined && typeof value === 'number' && value < spec.min) {
    fail(`${value} is below the minimum of ${spec.min}`);
  }
  if (spec.choices && !spec.choices.includes(value as string)) {
    fail(`"${raw}" is not one of ${spec.choices.join(', ')}`);
  }
  return value;
}

function defaultOf(spec: OptionSpec, role: Role): unknown {
  return typeof spec.def === 'function' ? (spec.def as (r: Role) => unknown)(role) : spec.def;
}

function checkUrl(text: string, what: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${what}: "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${what}: "${text}" must be http or https`);
  }
}

export function parseConfig(argv: readonly string[], environment: NodeJS.ProcessEnv = process.env): ParseResult {
  const args = [...argv];
  let role: Role = 'all';
  if (args.length > 0 && !args[0]!.startsWith('-')) {
    const first = args.shift()!;
    if (!ROLES.includes(first as Role)) {
      throw new ConfigError(`unknown mode "${first}" (expected one of ${ROLES.join(', ')})`);
    }
    role = first as Role;
  }

  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  const given = new Map<OptionSpec, unknown>();
  let help = false;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"`);
    let [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let spec = byFlag.get(flag);
    if (!spec && flag.startsWith('no-')) {
      const negated = byFlag.get(flag.slice(3));
      if (negated?.kind === 'bool' && inline === undefined) {
        given.set(negated, false);
        continue;
      }
    }
    if (!spec) throw new ConfigError(`unknown flag --${flag} (see --help)`);
    if (inline === undefined) {
      if (spec.kind === 'bool') {
        given.set(spec, true);
        continue;
      }
      inline = args[++i];
      if (inline === undefined) throw new ConfigError(`--${flag} needs a value`);
    }
    given.set(spec, convert(spec, inline, `--${flag}`));
  }

  const config = { role } as Record<string, unknown>;
  for (const spec of OPTIONS) {
    if (given.has(spec)) config[spec.key] = given.get(spec);
    else if (environment[spec.env] !== undefined && environment[spec.env] !== '') {
      config[spec.key] = convert(spec, environment[spec.env]!, spec.env);
    } else config[spec.key] = defaultOf(spec, role);
  }
  const result = config as unknown as Config;
  validate(result);
  return { config: result, help };
}

function validate(c: Config): void {
  if (c.port > 65535) throw new ConfigError(`--port: ${c.port} is above 65535`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name)) {
    throw new ConfigError(`--name: "${c.name}" must be letters, digits and _ (it prefixes file and metric names)`);
  }
  if (c.shards > 64) throw new ConfigError(`--shards: ${c.shards} is above the maximum of 64`);
  if (c.role === 'edge') checkUrl(c.ingest, '--ingest');
  if (c.role !== 'edge') for (const u of c.es) checkUrl(u, '--es');
  if (!c.dlqIndex) c.dlqIndex = `${c.index}-dlq`;
  for (const [flag, pattern] of [['--index', c.index], ['--dlq-index', c.dlqIndex]] as const) {
    if (!pattern) throw new ConfigError(`${flag}: must not be empty`);
    try {
      new IndexPattern(pattern);
    } catch (e) {
      throw new ConfigError(`${flag}: ${(e as Error).message}`);
    }
  }
  c.forwarders = Math.min(c.forwarders, c.shards);
}

export function helpText(): string {
  const lines = [
    'Usage: spillway [all|edge|beat] [flags]',
    '',
    '  all   edge and stage in one process: store locally, bulk-index into Elasticsearch (default)',
    '  edge  accept POST /rx/PRODUCER/KEY/LABEL..., store, forward batches to --ingest',
    '  beat  accept batches on POST /in and bulk-index them into Elasticsearch',
    '',
    'Flags (each also read from the environment variable shown):',
  ];
  for (const o of OPTIONS) {
    const def = typeof o.def === 'function' ? (o.def as (r: Role) => unknown)('all') : o.def;
    lines.push(`  --${o.flag.padEnd(20)} ${o.help} [${o.env}] (default: ${JSON.stringify(def)})`);
  }
  lines.push('', 'Elasticsearch credentials come only from the environment: ES_API_KEY, or ES_USERNAME and ES_PASSWORD; ES_CA_CERT for a private CA.');
  return lines.join('\n');
}
