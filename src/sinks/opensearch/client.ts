/**
 * The official OpenSearch client (the Elasticsearch client refuses
 * OpenSearch: product check), configured from --opensearch and the
 * environment: OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD, OPENSEARCH_CA_CERT
 * (a PEM file); none of them is ever logged. The client does not retry on
 * its own: the sink retries per item.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@opensearch-project/opensearch';
import { BULK_FILTER_PATH, type BulkResponse, type BulkTransport } from '../elasticsearch/sink.js';

export function createOpenSearchClient(nodes: string[], env: NodeJS.ProcessEnv = process.env): Client {
  const opts: ClientOptions = { nodes, maxRetries: 0, requestTimeout: 60_000, compression: undefined };
  if (env.OPENSEARCH_USERNAME) opts.auth = { username: env.OPENSEARCH_USERNAME, password: env.OPENSEARCH_PASSWORD ?? '' };
  if (env.OPENSEARCH_CA_CERT) {
    try {
      opts.ssl = { ca: readFileSync(env.OPENSEARCH_CA_CERT) };
    } catch (e) {
      throw new Error(`OPENSEARCH_CA_CERT: cannot read ${env.OPENSEARCH_CA_CERT}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  }
  return new Client(opts);
}

/** _bulk over the OpenSearch client: the NDJSON text goes as it is (no re-serialisation). */
export function opensearchTransport(client: Client): BulkTransport {
  return {
    async bulk(body, signal, timeoutMs) {
      if (signal?.aborted) throw new Error('aborted');
      const request = client.bulk({ body: body as never, filter_path: BULK_FILTER_PATH }, { requestTimeout: timeoutMs });
      // The listener must return nothing: abort() returns the request (a
      // thenable), and an AbortSignal listener's returned thenable that
      // rejects (it does: RequestAbortedError) is rethrown by Node's
      // EventTarget as an uncaught exception, which ended the forwarder thread.
      const abort = (): void => {
        (request as unknown as { abort(): void }).abort();
      };
      signal?.addEventListener('abort', abort, { once: true });
      try {
        return (await request).body as unknown as BulkResponse;
      } finally {
        signal?.removeEventListener('abort', abort);
      }
    },
    close: () => client.close(),
  };
}
