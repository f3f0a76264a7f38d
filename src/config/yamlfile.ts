/**
 * Reading YAML files for the configuration: one-line errors that name the
 * file (and line), and libbeat's ${VAR} / ${VAR:default} expansion.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, parse as parseYamlText } from 'yaml';
import { ConfigError } from './errors.js';

/** Read and parse a YAML file; an empty file is {}. Throws a one-line ConfigError. */
export function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(`${file}: cannot read (${err.code ?? err.message})`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : '';
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${file}: YAML syntax error: ${where}${msg}`);
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  return value ?? {};
}

export const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A YAML scalar or flow collection written as text (for -E key=value and whole-string ${VAR}). */
export function yamlScalar(text: string): unknown {
  try {
    const v = parseYamlText(text) as unknown;
    return v === null || v === undefined ? text : v;
  } catch {
    return text;
  }
}

const REF = /\$\{([^}:]+)(?::([^}]*))?\}/g;

/**
 * libbeat's environment expansion: ${VAR} and ${VAR:default} in every string
 * value. A string that is one reference and nothing else takes the type of
 * what it expands to (a number, a boolean, a list), as libbeat's does. A
 * missing variable without a default is a ConfigError naming the key.
 */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, where: (key: string) => string, key = ''): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const whole = /^\$\{([^}:]+)(?::([^}]*))?\}$/.test(value);
    const out = value.replace(REF, (_m, name: string, def: string | undefined) => {
      const v = env[name.trim()];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      throw new ConfigError(`${where(key)}: \${${name}} is not set in the environment and has no default`);
    });
    return whole ? yamlScalar(out) : out;
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, where, `${key}[${i}]`));
  if (isMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, where, key ? `${key}.${k}` : k);
    return out;
  }
  return value;
}
