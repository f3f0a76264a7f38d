// Load for the Elasticsearch tests: the shared POST loop
// (load/lib/post-loop.mjs), with the acknowledged uuids as a Set (what
// checkExactlyOnce takes).
import { postLoop } from '../../load/lib/post-loop.mjs';

export async function postMany(url, opts) {
  const { acked, refused, errors, sent } = await postLoop(url, opts);
  return { acked, refused, errors, sent };
}
