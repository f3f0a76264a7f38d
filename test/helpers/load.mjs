// Load for the Elasticsearch tests: edge-client's postMany, with the
// acknowledged uuids as a plain Set (what checkExactlyOnce takes).
import { postMany as postWithDetails } from './edge-client.mjs';

export async function postMany(url, opts) {
  const { acked, ...rest } = await postWithDetails(url, opts);
  return { acked: new Set(acked.keys()), ...rest };
}
