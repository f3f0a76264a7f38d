/**
 * `--config FILE`: a YAML mapping whose keys are the flag names (`port`,
 * `batch-bytes`, `es`, ...) plus `mode`. Values take their YAML type or the
 * text a flag would take ("16MiB", "a,b"). An empty value counts as unset.
 * An unknown key, a value of the wrong type or an unreadable file is a
 * one-line ConfigError naming the file and the key.
 */
import { convertValue } from './convert.js';
import { ConfigError } from './errors.js';
import type { FileValue } from './beat.js';
import { OPTIONS, type Config } from './options.js';
import { isMap, readYaml } from './yamlfile.js';

export interface ConfigFile {
  mode?: string;
  values: Map<keyof Config, FileValue>;
}

export const MODE_KEY = 'mode';

export function loadConfigFile(file: string): ConfigFile {
  const raw = readYaml(file);
  if (!isMap(raw)) throw new ConfigError(`${file}: expected a mapping of flag names to values at the top`);
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  const values = new Map<keyof Config, FileValue>();
  let mode: string | undefined;
  for (const [key, value] of Object.entries(raw)) {
    if (value === null || value === undefined) continue;
    if (key === MODE_KEY) {
      if (typeof value !== 'string') throw new ConfigError(`${file}: mode: expected a string`);
      mode = value;
      continue;
    }
    const spec = byFlag.get(key);
    if (!spec) throw new ConfigError(`${file}: unknown key "${key}" (keys are the flag names, see --help)`);
    const source = `${file}: ${key}`;
    values.set(spec.key, { value: convertValue(spec, value, source), source });
  }
  return { mode, values };
}
