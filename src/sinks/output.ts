/**
 * The shape every output has (modelled on Vector's src/sinks/<name>/ and
 * SinkConfig::build):
 *
 *   src/sinks/<name>/options.ts  its flags (each also an environment
 *                                variable), their defaults and check();
 *                                no client imports, read by the config parser
 *   src/sinks/<name>/index.ts    build(config, ctx) → { sink, health }
 *   src/sinks/<name>/…           the sink, its retry classification
 *   test/outputs/<name>.test.mjs against the real server
 *
 * src/sinks/options.ts lists every output's options (for the parser and
 * --help); src/sinks/registry.ts maps every output name to its builder.
 * docs/architecture.md ("Adding an output") walks through adding one.
 */
import type { Logger } from 'pino';
import type { Config, OptionSpec } from '../config/options.js';
import type { BuiltOutput, SinkEvents } from './types.js';

export type SettingName = (key: keyof Config, flag: string) => string;

/** The part of an output the config parser and --help read. */
export interface OutputOptions {
  name: string;
  /** One line for --help. */
  summary: string;
  /** What an acknowledgement means for this output, and whether it deduplicates (docs/outputs.md). */
  delivery: string;
  options: readonly OptionSpec[];
  /**
   * Check (and complete) this output's settings in `config`; throw an Error
   * whose message says what is wrong. The parser prefixes the output's name
   * and exits 2. `name(key, flag)` is how to name a setting in a message:
   * its flag, or the file and key it came from.
   */
  check(config: Config, name: SettingName): void;
}

export interface OutputContext {
  /** Where health changes are logged (main thread); absent in forwarder threads. */
  log?: Logger;
  /** Receives the output's events (counted per output by the main thread). */
  events?: SinkEvents;
  /** Connections the sink may keep open (a forwarder thread: its shards × --inflight). */
  connections: number;
  /** Names what this instance writes where that must be unique (file names): f0, f1 … per forwarder thread, beat. */
  writer?: string;
  /** `clientIp` written into documents when the delivery does not carry one (all mode). */
  clientIp?: string;
}

/** An output: its options and how to build it. */
export interface OutputDef extends OutputOptions {
  build(config: Config, ctx: OutputContext): BuiltOutput;
}

const envName = (flag: string) => 'SPILLWAY_' + flag.toUpperCase().replace(/-/g, '_');

/** An OptionSpec for an output's flag (the same shape as config/options.ts's). */
export function outputOption(
  key: keyof Config, flag: string, kind: OptionSpec['kind'], def: unknown, help: string,
  extra: Partial<OptionSpec> = {},
): OptionSpec {
  return { key, flag, env: envName(flag), kind, def, help, ...extra };
}
