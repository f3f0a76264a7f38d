/** The Elasticsearch output: build(config) → { sink, health }. */
import type { Config } from '../../config/options.js';
import { IndexReadiness } from '../../stage/readiness.js';
import type { OutputContext, OutputDef } from '../output.js';
import type { BuiltOutput } from '../types.js';
import { createClient } from './client.js';
import { IndexPattern } from './index-name.js';
import { elasticsearchOptions } from './options.js';
import { ElasticsearchSink } from './sink.js';
import { installTemplates } from './template.js';

export const elasticsearch: OutputDef = {
  ...elasticsearchOptions,
  build(c: Config, ctx: OutputContext): BuiltOutput {
    const client = createClient({ nodes: c.es });
    const sink = new ElasticsearchSink({
      client, index: c.index, dlqIndex: c.dlqIndex, bulkBytes: c.bulkBytes, concurrency: c.bulkConcurrency,
      clientIp: ctx.clientIp, retryCapMs: c.ms.retryMax, events: ctx.events,
    });
    const health = new IndexReadiness({
      label: 'Elasticsearch',
      clusterStatus: async (timeoutMs) => (await client.cluster.health({}, { requestTimeout: timeoutMs })).status,
      installTemplates: () => installTemplates(client, new IndexPattern(c.index), new IndexPattern(c.dlqIndex)),
    }, ctx.log, { template: c.template, what: { index: c.index, dlqIndex: c.dlqIndex } });
    return { sink, health };
  },
};
