/**
 * Text (a flag or an environment variable) or a YAML value → the typed value
 * of one option, with a one-line ConfigError naming where it came from.
 */
import { ConfigError } from './errors.js';
import type { OptionSpec } from './options.js';

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

// Go's strconv.ParseBool (rxtx's -verbose=...) plus yes/no.
const TRUE = /^(true|1|yes|t)$/i;
const FALSE = /^(false|0|no|f)$/i;

function check(spec: OptionSpec, value: unknown, raw: string, fail: (why: string) => never): unknown {
  if (spec.min !== undefined && typeof value === 'number' && value < spec.min) {
    fail(`${value} is below the minimum of ${spec.min}`);
  }
  if (spec.choices && !spec.choices.includes(value as string)) {
    fail(`"${raw}" is not one of ${spec.choices.join(', ')}`);
  }
  return value;
}

/** Text → value. `source` names the flag or variable (`--port`, `-port`, `SPILLWAY_PORT`). */
export function convert(spec: OptionSpec, raw: string, source: string): unknown {
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
      if (!TRUE.test(raw) && !FALSE.test(raw)) fail(`"${raw}" is not true or false`);
      value = TRUE.test(raw);
      break;
    case 'list':
      value = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if ((value as string[]).length === 0) fail('needs at least one value');
      break;
    default:
      value = raw;
  }
  return check(spec, value, raw, fail);
}

const describe = (v: unknown): string =>
  v === null ? 'an empty value' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;

/**
 * A YAML value → value. Numbers and booleans are taken as they are; a string
 * is read as on the command line (so "16MiB", "8080" and "a,b" work too).
 */
export function convertValue(spec: OptionSpec, v: unknown, source: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(`${source}: ${why}`);
  };
  if (typeof v === 'string') return convert(spec, v, source);
  switch (spec.kind) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) fail(`expected a whole number, got ${describe(v)}`);
      return check(spec, v, String(v), fail);
    case 'number':
    case 'bytes':
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`expected a ${spec.kind === 'bytes' ? 'size' : 'number'}, got ${describe(v)}`);
      return check(spec, spec.kind === 'bytes' ? Math.floor(v as number) : v, String(v), fail);
    case 'bool':
      if (typeof v !== 'boolean') fail(`expected true or false, got ${describe(v)}`);
      return v;
    case 'list':
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.trim() !== '')) {
        fail(`expected a list of strings, got ${describe(v)}`);
      }
      return (v as string[]).map((s) => s.trim());
    default:
      // A repeatable string (ingest: [url, url]): the list joins with commas, as on the command line.
      if (spec.repeat && Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x.trim() !== '')) {
        return convert(spec, (v as string[]).map((x) => x.trim()).join(','), source);
      }
      return fail(`expected a string, got ${describe(v)}`);
  }
}
