/**
 * Composable index templates (8.x and 9.x): one for the event indices, one
 * (higher priority, since its pattern overlaps) for the dead-letter indices.
 */
import type { Client } from '@elastic/elasticsearch';
import type { IndexPattern } from './index-name.js';

const keyword = { type: 'keyword' };

export function eventTemplate(pattern: IndexPattern) {
  return {
    index_patterns: [pattern.wildcard],
    priority: 200,
    _meta: { managed_by: 'spillway' },
    template: {
      mappings: {
        properties: {
          '@timestamp': { type: 'date' },
          type: keyword,
          clientIp: keyword,
          rxtxMsg: {
            properties: {
              seq: keyword, uuid: keyword, producer: keyword, key: keyword, label: keyword,
              time: { type: 'date' },
              payload: { type: 'object', dynamic: true },
            },
          },
        },
      },
    },
  };
}

export function deadLetterTemplate(pattern: IndexPattern) {
  return {
    index_patterns: [pattern.wildcard],
    priority: 201,
    _meta: { managed_by: 'spillway' },
    template: {
      mappings: {
        dynamic: false,
        properties: {
          '@timestamp': { type: 'date' },
          type: keyword, clientIp: keyword, index: keyword, uuid: keyword, seq: keyword,
          producer: keyword, key: keyword, label: keyword,
          time: { type: 'date', ignore_malformed: true },
          error: { properties: { status: { type: 'integer' }, type: keyword, reason: { type: 'text' } } },
          original: { type: 'text', index: false },
        },
      },
    },
  };
}

export function templateName(pattern: IndexPattern): string {
  return 'spillway-' + pattern.wildcard.replace(/\*/g, 'x').replace(/[^a-z0-9_-]/g, '_');
}

export async function installTemplates(client: Client, events: IndexPattern, deadLetters: IndexPattern): Promise<void> {
  await client.indices.putIndexTemplate({ name: templateName(events), ...eventTemplate(events) } as never);
  await client.indices.putIndexTemplate({ name: templateName(deadLetters), ...deadLetterTemplate(deadLetters) } as never);
}
