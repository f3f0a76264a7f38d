/**
 * Output name → builder. One line per folder in src/sinks/; the options of
 * each are listed (without the clients) in ./options.ts.
 *
 * buildSink() gives the one Sink a forwarder thread or the beat stage
 * delivers to: the output's own sink when there is one output (no layer in
 * between, nothing added per message), a FanoutSink over all of them when
 * there are several.
 */
import type { Config } from '../config/options.js';
import { FanoutSink } from './fanout.js';
import { OUTPUT_OPTIONS } from './options.js';
import type { OutputContext, OutputDef } from './output.js';
import type { BuiltOutput, Sink } from './types.js';

/**
 * Each output's module is imported only when the config names it: an edge
 * never loads a Kafka or Elasticsearch client, and every thread (main,
 * forwarders) starts faster and smaller (the clients cost seconds of start-up
 * on a loaded 2-core machine, docs/decisions.md).
 */
export const OUTPUTS: Readonly<Record<string, () => Promise<OutputDef>>> = {
  elasticsearch: async () => (await import('./elasticsearch/index.js')).elasticsearch,
  opensearch: async () => (await import('./opensearch/index.js')).opensearch,
  file: async () => (await import('./file/index.js')).file,
  kafka: async () => (await import('./kafka/index.js')).kafka,
  logstash: async () => (await import('./logstash/index.js')).logstash,
  redis: async () => (await import('./redis/index.js')).redis,
  http: async () => (await import('./http/index.js')).http,
};

for (const o of OUTPUT_OPTIONS) if (!OUTPUTS[o.name]) throw new Error(`output ${o.name} has options but no builder`);

export interface Built extends BuiltOutput {
  name: string;
}

/** Build every output of `config` (edge: http). `ctx(name)` gives each its context. */
export async function buildOutputs(config: Config, ctx: (name: string) => OutputContext): Promise<Built[]> {
  const defs = await Promise.all(config.outputs.map((name) => {
    const load = OUTPUTS[name];
    if (!load) throw new Error(`output ${name}: unknown output`);
    return load();
  }));
  return defs.map((def, i) => ({ name: config.outputs[i]!, ...def.build(config, ctx(config.outputs[i]!)) }));
}

/**
 * The Sink over `built`: the output's own with one, a fan-out with several.
 * `perOutput`: batches each output takes at a time (a forwarder: --inflight).
 */
export function combine(built: readonly Built[], perOutput: number): Sink {
  if (built.length === 1) return built[0]!.sink;
  return new FanoutSink(built.map((b) => ({ name: b.name, sink: b.sink })), { perOutput });
}
