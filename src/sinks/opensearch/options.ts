/**
 * The OpenSearch output's flags. Credentials come only from the environment:
 * OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD; OPENSEARCH_CA_CERT for a
 * private CA. --bulk-bytes, --bulk-concurrency and --template apply as for
 * Elasticsearch.
 */
import type { Config } from '../../config/options.js';
import { checkIndexPatterns, checkUrl } from '../elasticsearch/options.js';
import { outputOption, type OutputOptions, type SettingName } from '../output.js';

export interface OpenSearchConfig {
  opensearch: string[];
  opensearchIndex: string;
  opensearchDlqIndex: string;
}

export const opensearchOptions: OutputOptions = {
  name: 'opensearch',
  summary: '_bulk create into --opensearch-index on --opensearch (OpenSearch 1.x/2.x/3.x)',
  delivery: 'exactly once: create with _id = uuid, 409 counts as delivered; refused documents go to --opensearch-dlq-index',
  options: [
    outputOption('opensearch', 'opensearch', 'list', ['http://127.0.0.1:9250'], 'OpenSearch URL(s), comma-separated'),
    outputOption('opensearchIndex', 'opensearch-index', 'string', 'rtbeat-%{+yyyy.MM.dd}', 'OpenSearch index pattern (date from the message time, UTC)'),
    outputOption('opensearchDlqIndex', 'opensearch-dlq-index', 'string', '', 'OpenSearch dead-letter index pattern (default: <index>-dlq)'),
  ],
  check(c: Config, name: SettingName) {
    for (const u of c.opensearch) checkUrl(u, name('opensearch', '--opensearch'));
    c.opensearchDlqIndex = checkIndexPatterns(c.opensearchIndex, c.opensearchDlqIndex,
      [name('opensearchIndex', '--opensearch-index'), name('opensearchDlqIndex', '--opensearch-dlq-index')]);
  },
};
