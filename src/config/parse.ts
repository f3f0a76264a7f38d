/**
 * argv + environment (+ config files) → Config. Each setting comes from the
 * first of: a flag, its environment variable, --config FILE, the rtbeat YAML
 * of `beat -c`, the default. Every failure is a ConfigError with a one-line
 * message; the CLI prints it and exits 2.
 *
 * Flags are read as Go's flag package reads them (rxtx's command line): one
 * or two dashes, `-flag value` or `-flag=value`, a bare boolean `-verbose` or
 * `-verbose=true`; Spillway's `--no-flag` negates a boolean. `--` ends the
 * flags. The modes: all, edge, beat, and rxtx (edge with rxtx's defaults).
 */
import { checkOutputs, OUTPUT_OPTIONS } from '../sinks/options.js';
import { CREDENTIAL_ENV, loadBeatConfig, type Credentials, type FileValue } from './beat.js';
import { convert } from './convert.js';
import { ConfigError } from './errors.js';
import { loadConfigFile } from './file.js';
import { OPTIONS, ROLES, SECONDS, type Config, type Millis, type OptionSpec, type Role } from './options.js';
import { findRxtxData, RXTX_DEFAULTS, rxtxDataWarning, rxtxPathDirectory } from './rxtx.js';

export { ConfigError } from './errors.js';
export { parseBytes } from './convert.js';
export type { Credentials } from './beat.js';

/** The modes on the command line: the roles, and `rxtx` (an edge with rxtx's defaults). */
export const MODES = [...ROLES, 'rxtx'] as const;
export type Mode = (typeof MODES)[number];

export type Source = 'flag' | 'env' | 'file' | 'default';

export interface ParseResult {
  config: Config;
  help: boolean;
  /** --print-config: print the effective settings as JSON and exit. */
  printConfig: boolean;
  mode: Mode;
  /** Where each setting came from: 'flag', 'env', 'default', or the file and key. */
  sources: Record<string, string>;
  /** One line each, logged at start (keys of a beat YAML that are ignored, an rxtx queue found, ...). */
  warnings: string[];
  /** Elasticsearch credentials from a beat YAML. ES_* variables win over them. */
  credentials: Credentials;
}

/** Flags of libbeat's command line that `spillway beat` accepts (rtbeat -c rtbeat.yml -e -d "*"). */
const BEAT_FLAGS: Record<string, 'string' | 'bool'> = {
  c: 'string', e: 'bool', d: 'string', E: 'string', v: 'bool',
  'path.home': 'string', 'path.config': 'string', 'path.data': 'string', 'path.logs': 'string',
  'strict.perms': 'bool',
};

const META_FLAGS: Record<string, 'string' | 'bool'> = { config: 'string', 'print-config': 'bool' };

function defaultOf(spec: OptionSpec, role: Role, mode: Mode): unknown {
  if (mode === 'rxtx' && spec.key in RXTX_DEFAULTS) return RXTX_DEFAULTS[spec.key];
  return typeof spec.def === 'function' ? (spec.def as (r: Role) => unknown)(role) : spec.def;
}

const isBoolText = (s: string) => /^(true|false|1|0|t|f|yes|no)$/i.test(s);

export function parseConfig(argv: readonly string[], environment: NodeJS.ProcessEnv = process.env): ParseResult {
  const args = [...argv];
  let mode: Mode | undefined;
  if (args.length > 0 && !args[0]!.startsWith('-')) {
    const first = args.shift()!;
    if (!MODES.includes(first as Mode)) {
      throw new ConfigError(`unknown mode "${first}" (expected one of ${MODES.join(', ')})`);
    }
    mode = first as Mode;
  }

  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  const given = new Map<OptionSpec, { value: unknown; source: string }>();
  const beat: { c: string[]; E: string[]; d?: string; v?: boolean; flags: string[]; pathConfig?: string } = { c: [], E: [], flags: [] };
  let help = false;
  let printConfig = false;
  let configFile: string | undefined;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      if (i + 1 < args.length) throw new ConfigError(`unexpected argument "${args[i + 1]}"`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') throw new ConfigError(`unexpected argument "${arg}"`);
    const dashes = arg.startsWith('--') ? '--' : '-';
    const body = arg.slice(dashes.length);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) throw new ConfigError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const flag = eq < 0 ? body : body.slice(0, eq);
    let inline: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    const shown = `${dashes}${flag}`;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = args[++i];
      if (next === undefined) throw new ConfigError(`${shown} needs a value`);
      return next;
    };
    const boolValue = (): boolean => {
      if (inline === undefined) return true;
      if (!isBoolText(inline)) throw new ConfigError(`${shown}: "${inline}" is not true or false`);
      return /^(true|1|t|yes)$/i.test(inline);
    };

    if (flag === 'h' || flag === 'help') {
      help = true;
      continue;
    }
    if (flag in META_FLAGS) {
      if (flag === 'config') configFile = value();
      else printConfig = boolValue();
      continue;
    }
    if (flag in BEAT_FLAGS) {
      if (mode !== undefined && mode !== 'beat') {
        throw new ConfigError(`${shown} is a flag of rtbeat's command line: use it with the beat mode (spillway beat -c rtbeat.yml)`);
      }
      if (flag === 'c') beat.c.push(value());
      else if (flag === 'E') beat.E.push(value());
      else if (flag === 'd') beat.d = value();
      else if (flag === 'v') beat.v = boolValue();
      else if (flag === 'path.config') beat.pathConfig = value();
      else if (BEAT_FLAGS[flag] === 'string') value();
      else boolValue();
      beat.flags.push(shown);
      continue;
    }
    let spec = byFlag.get(flag);
    if (!spec && flag.startsWith('no-')) {
      const negated = byFlag.get(flag.slice(3));
      if (negated?.kind === 'bool' && inline === undefined) {
        given.set(negated, { value: false, source: 'flag' });
        continue;
      }
    }
    if (!spec) throw new ConfigError(`unknown flag ${shown} (see --help)`);
    if (spec.kind === 'bool' && inline === undefined) {
      given.set(spec, { value: true, source: 'flag' });
      continue;
    }
    const v = convert(spec, value(), shown);
    // A list flag given twice adds up (--output elasticsearch --output file).
    const before = spec.kind === 'list' || spec.repeat ? given.get(spec)?.value : undefined;
    // A repeatable string flag given twice joins with commas (--ingest A --ingest B).
    const joined = typeof before === 'string' ? `${before},${v as string}` : v;
    given.set(spec, { value: Array.isArray(before) ? [...before, ...(v as string[])] : joined, source: 'flag' });
  }

  // ---- files: --config (or SPILLWAY_CONFIG), then a beat YAML under it
  configFile ??= environment.SPILLWAY_CONFIG || undefined;
  const file = configFile !== undefined ? loadConfigFile(configFile) : undefined;
  if (mode === undefined && file?.mode !== undefined) {
    if (!MODES.includes(file.mode as Mode)) {
      throw new ConfigError(`${configFile}: mode: unknown mode "${file.mode}" (expected one of ${MODES.join(', ')})`);
    }
    mode = file.mode as Mode;
  }
  mode ??= 'all';
  const role: Role = mode === 'rxtx' ? 'edge' : mode;
  if (beat.flags.length > 0 && role !== 'beat') {
    throw new ConfigError(`${beat.flags[0]} is a flag of rtbeat's command line: use it with the beat mode (spillway beat -c rtbeat.yml)`);
  }

  const warnings: string[] = [];
  let credentials: Credentials = {};
  const fileValues = new Map<keyof Config, FileValue>();
  if (beat.c.length > 0 || beat.E.length > 0) {
    const files = beat.c.map((c) => (beat.pathConfig && !c.startsWith('/') ? `${beat.pathConfig.replace(/\/$/, '')}/${c}` : c));
    const b = loadBeatConfig(files, beat.E, environment);
    for (const [k, v] of b.values) fileValues.set(k, v);
    credentials = b.credentials;
    warnings.push(...b.warnings);
    // Kafka and Redis credentials reach those outputs as their environment variables (checked at validate); set ones win.
    for (const [k, v] of Object.entries(credentials)) {
      const variable = CREDENTIAL_ENV[k as keyof Credentials];
      if (variable && v !== undefined && !environment[variable] && !process.env[variable]) process.env[variable] = v;
    }
  }
  if (file) for (const [k, v] of file.values) fileValues.set(k, v);

  // ---- precedence: flag > environment > file > default
  const config = { role } as Record<string, unknown>;
  const sources: Record<string, string> = {};
  for (const spec of OPTIONS) {
    const g = given.get(spec);
    if (g) {
      config[spec.key] = g.value;
      sources[spec.key] = 'flag';
    } else if (environment[spec.env] !== undefined && environment[spec.env] !== '') {
      config[spec.key] = convert(spec, environment[spec.env]!, spec.env);
      sources[spec.key] = 'env';
    } else if (fileValues.has(spec.key)) {
      config[spec.key] = fileValues.get(spec.key)!.value;
      sources[spec.key] = fileValues.get(spec.key)!.source;
    } else {
      config[spec.key] = defaultOf(spec, role, mode);
      sources[spec.key] = 'default';
    }
  }
  const result = config as unknown as Config;

  // -d "*" (libbeat's debug selectors) and -v: more logging, unless a level was chosen.
  if (beat.d !== undefined && sources.logLevel === 'default') result.logLevel = 'debug';
  else if (beat.v && sources.logLevel === 'default') result.logLevel = 'info';
  if (result.verbose && result.logLevel === 'info') result.logLevel = 'debug';

  // rxtx's -path is a prefix: the shard files go into the directory it names.
  if (role !== 'beat') {
    const rawPath = result.path;
    if (mode === 'rxtx') {
      const p = rxtxPathDirectory(result.path);
      if (p.warning) warnings.push(p.warning);
      result.path = p.dir;
    }
    const rx = findRxtxData(rawPath);
    if (rx) warnings.push(rxtxDataWarning(rx));
  }

  validate(result, sources);
  return { config: result, help, printConfig, mode, sources, warnings, credentials };
}

function validate(c: Config, sources: Record<string, string>): void {
  const name = (key: keyof Config, flag: string) => {
    const s = sources[key];
    return s && s !== 'flag' && s !== 'env' && s !== 'default' ? s : flag;
  };
  if (c.port > 65535) throw new ConfigError(`${name('port', '--port')}: ${c.port} is above 65535`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name)) {
    throw new ConfigError(`${name('name', '--name')}: "${c.name}" must be letters, digits and _ (it prefixes file and metric names)`);
  }
  if (c.shards > 64) throw new ConfigError(`${name('shards', '--shards')}: ${c.shards} is above the maximum of 64`);
  // Each output checks its own options (src/sinks/<name>/options.ts); edge's is http to --ingest.
  try {
    checkOutputs(c, name);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  c.forwarders = Math.min(c.forwarders, c.shards);
  c.ms = Object.fromEntries(SECONDS.map((k) => [k, Math.round(c[k] * 1000)])) as Millis;
}

/** URLs without user:password@, for printing. */
function redactUrl(u: string): string {
  // A comma list of URLs (--ingest A,B): each loses its own.
  if (u.includes(',')) return u.split(',').map(redactUrl).join(',');
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) return u;
    const url = new URL(u);
    if (!url.username && !url.password) return u;
    url.username = url.username ? 'redacted' : '';
    url.password = url.password ? 'redacted' : '';
    return url.toString();
  } catch {
    return u;
  }
}

/** The effective settings as JSON text (for --print-config), secrets redacted. */
export function printableConfig(p: ParseResult): string {
  // Every URL loses its user:password@; a value whose key names a secret (--ingest-token) is hidden.
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.config)) {
    if (/(token|password|secret|apikey)$/i.test(k) && v) config[k] = '<redacted>';
    else if (typeof v === 'string') config[k] = redactUrl(v);
    else if (Array.isArray(v)) config[k] = v.map((x) => (typeof x === 'string' ? redactUrl(x) : x));
    else config[k] = v;
  }
  const credentials: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.credentials)) {
    if (v !== undefined) credentials[k] = k === 'caCert' || k === 'username' ? v : '<redacted>';
  }
  return JSON.stringify({ mode: p.mode, config, sources: p.sources, credentials, warnings: p.warnings }, null, 2);
}

export function helpText(): string {
  const lines = [
    'Usage: spillway [all|edge|beat|rxtx] [flags]',
    '       spillway beat -c rtbeat.yml [-e] [-d "*"] [-E key=value]',
    '',
    '  all   edge and stage in one process: store locally, bulk-index into Elasticsearch (default)',
    '  edge  accept POST /rx/PRODUCER/KEY/LABEL..., store, forward batches to --ingest',
    '  beat  accept batches on POST /in and bulk-index them into Elasticsearch',
    "  rxtx  an edge with rxtx's defaults (-interval 60 -batch 100 -maxq 100000 -path ./)",
    '',
    'Flags take one or two dashes: -port 8080, -port=8080, --port 8080, --port=8080.',
    'Each setting comes from the flag, else its environment variable, else --config FILE, else the default.',
    '',
    '  --config FILE            YAML file whose keys are the flag names (and mode) [SPILLWAY_CONFIG]',
    '  --print-config           print the effective settings as JSON (secrets redacted) and exit',
    '  -c FILE                  beat: read rtbeat\'s YAML (rtbeat.*, output.elasticsearch.*, setup.*, logging.level)',
    '  -e, -d SELECTORS, -E k=v beat: libbeat\'s flags (-d: debug logging; -E: override a YAML key)',
    '',
    'Flags (each also read from the environment variable shown):',
  ];
  for (const o of OPTIONS) {
    const def = typeof o.def === 'function' ? (o.def as (r: Role) => unknown)('all') : o.def;
    lines.push(`  --${o.flag.padEnd(20)} ${o.help} [${o.env}] (default: ${JSON.stringify(def)})`);
  }
  lines.push('', 'Outputs (--output, all and beat modes; docs/outputs.md):');
  for (const o of OUTPUT_OPTIONS) lines.push(`  ${o.name.padEnd(14)} ${o.summary}`, `  ${''.padEnd(14)} delivery: ${o.delivery}`);
  lines.push('', 'Elasticsearch credentials come from the environment (ES_API_KEY, or ES_USERNAME and ES_PASSWORD; ES_CA_CERT for a private CA), or from output.elasticsearch.* of a beat -c file.');
  return lines.join('\n');
}
