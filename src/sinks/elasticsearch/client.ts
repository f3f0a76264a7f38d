/**
 * The official Elasticsearch client, configured from --es and the
 * environment. Credentials are read from ES_API_KEY or ES_USERNAME and
 * ES_PASSWORD, the CA from ES_CA_CERT (a PEM file); none of them is ever
 * logged. The client does not retry on its own: the sink retries per item.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';

export interface EsConnection {
  nodes: string[];
  requestTimeoutMs?: number;
}

export function createClient(conn: EsConnection, env: NodeJS.ProcessEnv = process.env): Client {
  const opts: ClientOptions = {
    nodes: conn.nodes,
    maxRetries: 0,
    requestTimeout: conn.requestTimeoutMs ?? 60_000,
    compression: false,
  };
  if (env.ES_API_KEY) opts.auth = { apiKey: env.ES_API_KEY };
  else if (env.ES_USERNAME) opts.auth = { username: env.ES_USERNAME, password: env.ES_PASSWORD ?? '' };
  if (env.ES_CA_CERT) {
    try {
      opts.tls = { ca: readFileSync(env.ES_CA_CERT) };
    } catch (e) {
      throw new Error(`ES_CA_CERT: cannot read ${env.ES_CA_CERT}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  }
  return new Client(opts);
}
