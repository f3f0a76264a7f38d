/**
 * The OpenSearch output: the same _bulk rules as Elasticsearch (create,
 * _id = uuid, 409 = delivered, per-item retry, dead-letter index) through
 * the official OpenSearch client, and the same composable index templates.
 */
import type { Config } from '../../config/options.js';
import { IndexReadiness } from '../../stage/readiness.js';
import { IndexPattern } from '../elasticsearch/index-name.js';
import { BulkSink } from '../elasticsearch/sink.js';
import { deadLetterTemplate, eventTemplate, templateName } from '../elasticsearch/template.js';
import type { OutputContext, OutputDef } from '../output.js';
import type { BuiltOutput } from '../types.js';
import { createOpenSearchClient, opensearchTransport } from './client.js';
import { opensearchOptions } from './options.js';

export const opensearch: OutputDef = {
  ...opensearchOptions,
  build(c: Config, ctx: OutputContext): BuiltOutput {
    const client = createOpenSearchClient(c.opensearch);
    const sink = new BulkSink(opensearchTransport(client), {
      index: c.opensearchIndex, dlqIndex: c.opensearchDlqIndex, bulkBytes: c.bulkBytes, concurrency: c.bulkConcurrency,
      clientIp: ctx.clientIp, retryCapMs: c.ms.retryMax, events: ctx.events,
    });
    const events = new IndexPattern(c.opensearchIndex);
    const dlq = new IndexPattern(c.opensearchDlqIndex);
    const health = new IndexReadiness({
      label: 'OpenSearch',
      clusterStatus: async (timeoutMs) =>
        String((await client.cluster.health({}, { requestTimeout: timeoutMs })).body.status),
      installTemplates: async () => {
        await client.indices.putIndexTemplate({ name: templateName(events), body: eventTemplate(events) as never });
        await client.indices.putIndexTemplate({ name: templateName(dlq), body: deadLetterTemplate(dlq) as never });
      },
    }, ctx.log, { template: c.template, what: { index: c.opensearchIndex, dlqIndex: c.opensearchDlqIndex } });
    return { sink, health };
  },
};
