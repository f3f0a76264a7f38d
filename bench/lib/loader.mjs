// The Elasticsearch ingest ceiling: a direct bulk loader that writes the same
// documents Spillway writes (same shape, create with _id = uuid) with the
// same client, bulk size and concurrency, and nothing in between.
import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { IndexPattern } from '../../dist/sinks/elasticsearch/index-name.js';
import { eventTemplate } from '../../dist/sinks/elasticsearch/template.js';

export async function directLoad({ node, index, total, bulkBytes = 5 * 1024 * 1024, concurrency = 4, makePayload, startMeter }) {
  const client = new Client({ node, maxRetries: 5 });
  const time = new Date().toISOString();
  // Bodies are built before the clock starts: the figure is Elasticsearch's
  // ingest rate through this client, not this loader's string building.
  const bodies = [];
  let body = '';
  for (let i = 0; i < total; i++) {
    const uuid = randomUUID();
    body += `{"create":{"_index":"${index}","_id":"${uuid}"}}\n`;
    body += `{"@timestamp":"${time}","type":"rtbeat","clientIp":"127.0.0.1","rxtxMsg":{"seq":"${String(i).padStart(19, '0')}","time":"${time}","uuid":"${uuid}","producer":"bench","label":"/direct","key":"k","payload":${makePayload(i)}}}\n`;
    if (body.length >= bulkBytes) {
      bodies.push(body);
      body = '';
    }
  }
  if (body) bodies.push(body);
  // Create the index first, with the mappings of Spillway's template (keyword
  // fields rather than dynamic text + keyword), as Spillway's runs find it.
  const { mappings } = eventTemplate(new IndexPattern(index)).template;
  await client.indices.create({ index, mappings });
  let next = 0;
  let failed = 0;
  // startMeter: a CPU meter started with the clock (after the bodies are built).
  const readCpu = startMeter?.();
  const t0 = performance.now();
  async function worker() {
    while (next < bodies.length) {
      const r = await client.bulk({ operations: bodies[next++], filter_path: 'errors,items.*.status' });
      if (r.errors) failed += r.items.filter((it) => Object.values(it)[0].status >= 300).length;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpuCores = readCpu?.();
  await client.close();
  return { total, failed, seconds, docsPerSecond: total / seconds, cpuCores };
}
