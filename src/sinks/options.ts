/**
 * Every output's options, for the config parser and --help, without the
 * clients (those load only where a sink is built: registry.ts). One entry
 * per folder in src/sinks/.
 */
import type { Config, OptionSpec } from '../config/options.js';
import { elasticsearchOptions, type ElasticsearchConfig } from './elasticsearch/options.js';
import { fileOptions, type FileConfig } from './file/options.js';
import { httpOptions } from './http/options.js';
import { kafkaOptions, type KafkaConfig } from './kafka/options.js';
import { logstashOptions, type LogstashConfig } from './logstash/options.js';
import { opensearchOptions, type OpenSearchConfig } from './opensearch/options.js';
import { outputOption, type OutputOptions, type SettingName } from './output.js';
import { redisOptions, type RedisConfig } from './redis/options.js';

export interface OutputsConfig extends ElasticsearchConfig, OpenSearchConfig, FileConfig, KafkaConfig, LogstashConfig, RedisConfig {
  /** The outputs of all and beat modes, in the order given; edge mode: ['http']. */
  outputs: string[];
  /** Batches per shard one output may be ahead of the slowest (several outputs). */
  outputWindow: number;
}

/** Outputs a user may name with --output (http is edge mode's own). */
export const OUTPUT_OPTIONS: readonly OutputOptions[] = [elasticsearchOptions, opensearchOptions, fileOptions, kafkaOptions, logstashOptions, redisOptions];
const ALL: readonly OutputOptions[] = [...OUTPUT_OPTIONS, httpOptions];

export const OUTPUT_FLAGS: readonly OptionSpec[] = [
  outputOption('outputs', 'output', 'list', ['elasticsearch'],
    `all, beat: where messages go, repeatable or comma-separated (${OUTPUT_OPTIONS.map((o) => o.name).join(', ')})`),
  outputOption('outputWindow', 'output-window', 'int', 4,
    'several outputs: batches per shard one output may run ahead of the slowest before the store holds back', { min: 0 }),
  ...OUTPUT_OPTIONS.flatMap((o) => o.options),
];

export function outputOptions(name: string): OutputOptions | undefined {
  return ALL.find((o) => o.name === name);
}

/**
 * Check the outputs of `c` (edge: the http output). Throws an Error whose
 * message is one line naming the output and what is wrong (edge's http
 * output is not chosen, so its errors name only the setting).
 */
export function checkOutputs(c: Config, name: SettingName = (_key, flag) => flag): void {
  if (c.role === 'edge') {
    // Edge mode's one output is the link to --ingest; naming another is a mistake, not a wish to ignore.
    const named = c.outputs.filter((o) => o !== 'elasticsearch' && o !== 'http');
    if (named.length > 0) {
      throw new Error(`${name('outputs', '--output')}: edge mode forwards to --ingest only; run all or beat for "${named[0]}"`);
    }
    c.outputs = ['http'];
  }
  const seen = new Set<string>();
  for (const output of c.outputs) {
    const o = c.role === 'edge' ? httpOptions : OUTPUT_OPTIONS.find((x) => x.name === output);
    if (!o) {
      throw new Error(`${name('outputs', '--output')}: unknown output "${output}" (expected one of ${OUTPUT_OPTIONS.map((x) => x.name).join(', ')})`);
    }
    if (seen.has(output)) throw new Error(`${name('outputs', '--output')}: "${output}" is named twice`);
    seen.add(output);
    if (o === httpOptions) {
      o.check(c, name);
      continue;
    }
    try {
      o.check(c, name);
    } catch (e) {
      throw new Error(`output ${output}: ${(e as Error).message}`);
    }
  }
}
