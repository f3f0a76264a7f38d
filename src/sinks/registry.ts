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
import { elasticsearch } from './elasticsearch/index.js';
import { FanoutSink } from './fanout.js';
import { file } from './file/index.js';
import { http } from './http/index.js';
import { kafka } from './kafka/index.js';
import { logstash } from './logstash/index.js';
import { opensearch } from './opensearch/index.js';
import { OUTPUT_OPTIONS } from './options.js';
import { redis } from './redis/index.js';
import type { OutputContext, OutputDef } from './output.js';
import type { BuiltOutput, Sink } from './types.js';

export const OUTPUTS: Readonly<Record<string, OutputDef>> = { elasticsearch, opensearch, file, kafka, logstash, redis, http };

for (const o of OUTPUT_OPTIONS) if (!OUTPUTS[o.name]) throw new Error(`output ${o.name} has options but no builder`);

export interface Built extends BuiltOutput {
  name: string;
}

/** Build every output of `config` (edge: http). `ctx(name)` gives each its context. */
export function buildOutputs(config: Config, ctx: (name: string) => OutputContext): Built[] {
  return config.outputs.map((name) => {
    const def = OUTPUTS[name];
    if (!def) throw new Error(`output ${name}: unknown output`);
    return { name, ...def.build(config, ctx(name)) };
  });
}

/**
 * The Sink over `built`: the output's own with one, a fan-out with several.
 * `perOutput`: batches each output takes at a time (a forwarder: --inflight).
 */
export function combine(built: readonly Built[], perOutput: number): Sink {
  if (built.length === 1) return built[0]!.sink;
  return new FanoutSink(built.map((b) => ({ name: b.name, sink: b.sink })), { perOutput });
}
