// The Elasticsearch ingest ceiling: a direct bulk loader that writes the same
// documents Spillway writes (same shape, create with _id = uuid) with the
// same client, bulk size and concurrency, and nothing in between.
import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';

export async function directLoad({ node, index, total, bulkBytes = 5 * 1024 * 1024, concurrency = 4, makePayload }) {
  const client = new Client({ node, maxRetries: 5 });
  const time = new Date().toISOString();
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  async function worker() {
    while (next < total) {
      let body = '';
      while (next < total && body.length < bulkBytes) {
        const i = next++;
        const uuid = randomUUID();
        body += `{"create":{"_index":"${index}","_id":"${uuid}"}}\n`;
        body += `{"@timestamp":"${time}","type":"rtbeat","clientIp":"127.0.0.1","rxtxMsg":{"seq":"${String(i).padStart(19, '0')}","time":"${time}","uuid":"${uuid}","producer":"bench","label":"/direct","key":"k","payload":${makePayload(i)}}}\n`;
      }
      const r = await client.bulk({ operations: body, filter_path: 'errors,items.*.status' });
      if (r.errors) failed += r.items.filter((it) => Object.values(it)[0].status >= 300).length;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  await client.close();
  return { total, failed, seconds, docsPerSecond: total / seconds };
}
