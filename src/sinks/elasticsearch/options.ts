/**
 * The Elasticsearch output's flags and their checks. Credentials come only
 * from the environment (ES_API_KEY, or ES_USERNAME and ES_PASSWORD;
 * ES_CA_CERT), never from a flag, so they never show in `ps`; each of the
 * three secrets may come from a file named by its *_FILE twin.
 */
import type { Config } from '../../config/options.js';
import { outputOption, type OutputOptions, type SettingName } from '../output.js';
import { ES_SECRETS, resolveSecretFiles } from '../../security/secrets.js';
import { IndexPattern } from './index-name.js';

export interface ElasticsearchConfig {
  es: string[];
  index: string;
  dlqIndex: string;
}

export function checkUrl(text: string, what: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${what}: "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${what}: "${text}" must be http or https`);
}

/** The index and dead-letter patterns of an index output; fills the dead-letter default. */
export function checkIndexPatterns(index: string, dlq: string, flags: [string, string]): string {
  const dlqIndex = dlq || `${index}-dlq`;
  for (const [flag, pattern] of [[flags[0], index], [flags[1], dlqIndex]] as const) {
    if (!pattern) throw new Error(`${flag}: must not be empty`);
    try {
      new IndexPattern(pattern);
    } catch (e) {
      throw new Error(`${flag}: ${(e as Error).message}`);
    }
  }
  return dlqIndex;
}

export const elasticsearchOptions: OutputOptions = {
  name: 'elasticsearch',
  summary: '_bulk create into --index on --es (Elasticsearch 8.x/9.x)',
  delivery: 'exactly once: create with _id = uuid, 409 (already there) counts as delivered; refused documents go to --dlq-index',
  options: [
    { ...outputOption('es', 'es', 'list', ['http://127.0.0.1:9200'], 'Elasticsearch URL(s), comma-separated'), env: 'ES_URL' },
    outputOption('index', 'index', 'string', 'rtbeat-%{+yyyy.MM.dd}', 'target index pattern (date from the message time, UTC)'),
    outputOption('dlqIndex', 'dlq-index', 'string', '', 'dead-letter index pattern (default: <index>-dlq)'),
  ],
  check(c: Config, name: SettingName) {
    for (const u of c.es) checkUrl(u, name('es', '--es'));
    // ES_API_KEY_FILE, ES_USERNAME_FILE, ES_PASSWORD_FILE: read into their variables here, at start (security/secrets.ts).
    resolveSecretFiles(ES_SECRETS);
    c.dlqIndex = checkIndexPatterns(c.index, c.dlqIndex, [name('index', '--index'), name('dlqIndex', '--dlq-index')]);
  },
};
