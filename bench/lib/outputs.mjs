// The outputs table of the per-output bench rows (scenarios/24-outputs.mjs):
// for each output, how to start `spillway all --output <name>` into its
// server, how to read back what arrived there, and a direct client that
// writes the same records (rtbeat's event document, the 131-byte
// point-of-sale payload, --batch records a request, as many requests in
// flight as spillway all may have) to the same server, with nothing in
// between. To add an output, add one entry to OUTPUTS (bench/README.md,
// "Adding an output row").
//
// An entry:
//   name        the --output name
//   guarantee   'exactly once' (a second copy fails the bench) or 'at least once'
//               (second copies are counted, a missing message fails the bench)
//   down()      undefined when its server answers, else why not (the row is
//               then "not run" with that reason; the bench goes on)
//   target(ctx) a fresh place in the server: { args, received(acked), cleanup() }
//               (or a promise of it: the Logstash entry starts a server of its own)
//               args: the spillway flags for it (without --output); received:
//               the comparison of the acknowledged set (consumed) with what
//               arrived (load/lib/ledger.mjs consumeAgainst)
//   direct(ctx, records, { batch, concurrency, warm })  the direct client:
//               writes `records` (eventRecords()) into a place of its own,
//               bodies built before the clock; → { seconds, failed, how }.
//               `warm` true: an unmeasured warm-up run (same path, fewer records).
//   concurrency what spillway all keeps in flight into it with the bench's
//               flags (the direct client's concurrency)
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Client as OsClient } from '@opensearch-project/opensearch';
import { removeDir } from '../../test/helpers/daemon.mjs';
import { ES_URL, esUp, testIndex } from '../../test/helpers/es.mjs';
import { readEvents } from '../../test/helpers/ndjson-files.mjs';
import { allIds, OS_URL, osTestIndex, osUp } from '../../test/helpers/opensearch.mjs';
import { lumberjackBinary, receivedUuids, startLumberjack } from '../../test/helpers/lumberjack.mjs';
import { encodeWindow, LumberjackConnection } from '../../dist/sinks/logstash/lumberjack.js';
import { consumeAgainst } from '../../load/lib/ledger.mjs';
import { IndexPattern } from '../../dist/sinks/elasticsearch/index-name.js';
import { eventTemplate } from '../../dist/sinks/elasticsearch/template.js';
import { LOADER_CONCURRENCY } from './ceilings.mjs';
import { forEachIndexedUuid } from './elasticsearch.mjs';

/** spillway all's defaults the rows run with: 2 forwarders, each one sink. */
export const FORWARDERS = 2;

/** The /rxb ledger's uuids are version 5 (Idempotency-Key scheme): an arrival of one twice is a duplicate. */
const compare = (acked) => consumeAgainst(acked, { isAcknowledged: (u) => u[14] === '5' });

/**
 * `n` records as the outputs write them: { uuid, doc } with doc the rtbeat
 * event (one JSON line, no newline), the payload from `makePayload(i)`.
 */
export function eventRecords(n, makePayload) {
  const time = new Date().toISOString();
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const uuid = randomUUID();
    out[i] = {
      uuid,
      doc: `{"@timestamp":"${time}","type":"rtbeat","clientIp":"127.0.0.1","rxtxMsg":{"seq":"${String(i).padStart(19, '0')}","time":"${time}","uuid":"${uuid}","producer":"bench","label":"/direct","key":"k","payload":${makePayload(i)}}}`,
    };
  }
  return out;
}

/** _bulk bodies of `batch` create actions each (_id = uuid) into `index`: { text, records }. */
function bulkBodies(records, index, batch) {
  const bodies = [];
  for (let i = 0; i < records.length; i += batch) bodies.push(bulkBody(records.slice(i, i + batch), index));
  return bodies;
}

function bulkBody(records, index) {
  let text = '';
  for (const r of records) text += `{"create":{"_index":"${index}","_id":"${r.uuid}"}}\n${r.doc}\n`;
  return { text, records };
}

/** Run `send(body)` over `bodies` with `concurrency` at once; the clock covers only the sending. */
async function timed(bodies, concurrency, send) {
  let next = 0;
  const t = { failed: 0, retried: 0 };
  const t0 = performance.now();
  async function worker() {
    while (next < bodies.length) {
      const r = await send(bodies[next++]);
      t.failed += r.failed ?? 0;
      t.retried += r.retried ?? 0;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: (performance.now() - t0) / 1000, ...t };
}

/**
 * One _bulk body, its refused items sent again as Spillway does: 429 and 5xx
 * retried (a short backoff, at most 10 times), 409 is "already there",
 * anything else counts as failed. `bulk(text)` → the response's items.
 */
async function bulkWithRetries(body, index, bulk) {
  let retried = 0;
  for (let attempt = 0; ; attempt++) {
    const items = await bulk(body.text);
    const again = [];
    let failed = 0;
    items?.forEach((it, i) => {
      const status = Object.values(it)[0].status;
      if (status < 300 || status === 409) return;
      if ((status === 429 || status >= 500) && attempt < 10) again.push(body.records[i]);
      else failed++;
    });
    if (!again.length) return { failed, retried };
    retried += again.length;
    await new Promise((r) => setTimeout(r, 100 * 2 ** Math.min(attempt, 4)));
    body = bulkBody(again, index);
  }
}

/** An index output's direct client: create the index with Spillway's template mappings, then bulk. */
async function bulkDirect({ client, index, records, batch, concurrency, bulk }) {
  const { mappings } = eventTemplate(new IndexPattern(index)).template;
  await client.indices.create(client instanceof EsClient ? { index, mappings } : { index, body: { mappings } });
  const bodies = bulkBodies(records, index, batch);
  return timed(bodies, concurrency, (body) => bulkWithRetries(body, index, bulk));
}

/** The go-lumber test server (test/servers/lumberjack), built on first use; throws when it cannot be built. */
async function lumberjackServer() {
  const server = await startLumberjack(lumberjackBinary());
  return {
    server,
    async stop() {
      await server.kill();
      removeDir(server.out.replace(/\/events\.ndjson$/, ''));
    },
  };
}

/** libbeat's logstash output (and Spillway's) defaults: windows of 2048 events, zlib level 3. */
const LS_WINDOW = 2048;
const LS_ZLIB = 3;

const howIndex = (batch, concurrency) => `${concurrency} _bulk requests in flight of ${batch} create actions each (_id = uuid), Spillway's template mappings; bodies built before the clock; items refused with 429 or 5xx sent again after a backoff, as Spillway does`;

export const OUTPUTS = [
  {
    name: 'elasticsearch',
    guarantee: 'exactly once',
    concurrency: LOADER_CONCURRENCY.all, // 2 forwarders × --bulk-concurrency 4
    async down() {
      return (await esUp()) ? undefined : `Elasticsearch is not reachable at ${ES_URL} (npm run es:start)`;
    },
    target() {
      const idx = testIndex('bench-out');
      return {
        args: ['--es', ES_URL, '--index', idx.pattern],
        async received(acked) {
          const c = compare(acked);
          await forEachIndexedUuid(idx.all, (u) => c.arrived(u));
          return c.result();
        },
        cleanup: () => idx.cleanup(),
      };
    },
    async direct(ctx, records, { batch, concurrency }) {
      const idx = testIndex('bench-direct');
      const client = new EsClient({ node: ES_URL, maxRetries: 5 });
      try {
        const index = idx.pattern.replace(/%\{.*\}/, 'direct');
        const r = await bulkDirect({
          client, index, records, batch, concurrency,
          bulk: async (text) => (await client.bulk({ operations: text, filter_path: 'errors,items.*.status' })).items,
        });
        return { ...r, how: `@elastic/elasticsearch, ${howIndex(batch, concurrency)}` };
      } finally {
        await client.close();
        await idx.cleanup();
      }
    },
  },
  {
    name: 'opensearch',
    guarantee: 'exactly once',
    concurrency: LOADER_CONCURRENCY.all,
    async down() {
      return (await osUp()) ? undefined : `OpenSearch is not reachable at ${OS_URL} (npm run opensearch:start)`;
    },
    target() {
      const idx = osTestIndex('bench-out');
      return {
        args: ['--opensearch', OS_URL, '--opensearch-index', idx.pattern],
        async received(acked) {
          const c = compare(acked);
          for (const u of await allIds(idx.all, OS_URL)) c.arrived(u);
          return c.result();
        },
        cleanup: () => idx.cleanup(),
      };
    },
    async direct(ctx, records, { batch, concurrency }) {
      const idx = osTestIndex('bench-direct');
      const client = new OsClient({ node: OS_URL, maxRetries: 5 });
      try {
        const index = idx.pattern.replace(/%\{.*\}/, 'direct');
        const r = await bulkDirect({
          client, index, records, batch, concurrency,
          bulk: async (text) => (await client.bulk({ body: text, filter_path: 'errors,items.*.status' })).body.items,
        });
        return { ...r, how: `@opensearch-project/opensearch, ${howIndex(batch, concurrency)}` };
      } finally {
        await client.close();
        await idx.cleanup();
      }
    },
  },
  {
    name: 'file',
    guarantee: 'at least once',
    concurrency: FORWARDERS, // each forwarder thread is one writer; a writer's batches go one after another
    async down() {
      return undefined;
    },
    target(ctx) {
      const dir = ctx.dir(`files-${randomUUID().slice(0, 8)}`);
      return {
        args: ['--file-path', join(dir, 'events.ndjson')],
        async received(acked) {
          const c = compare(acked);
          const { uuids, torn } = readEvents(dir, { keep: 0 });
          for (const u of uuids) c.arrived(u);
          return { ...c.result(), torn };
        },
        cleanup: async () => removeDir(dir),
      };
    },
    async direct(ctx, records, { batch, concurrency }) {
      const dir = ctx.dir(`files-direct-${randomUUID().slice(0, 8)}`);
      mkdirSync(dir, { recursive: true });
      try {
        // One file per writer; each writer appends a batch's lines and fdatasyncs, one batch after another.
        const files = await Promise.all(Array.from({ length: concurrency }, (_, w) => open(join(dir, `direct-w${w}.ndjson`), 'wx', 0o640)));
        const bodies = [];
        for (let i = 0; i < records.length; i += batch) bodies.push(Buffer.from(records.slice(i, i + batch).map((r) => `${r.doc}\n`).join('')));
        let next = 0;
        const t0 = performance.now();
        await Promise.all(files.map(async (fh) => {
          while (next < bodies.length) {
            const buf = bodies[next++];
            let off = 0;
            while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
            await fh.datasync();
          }
        }));
        const seconds = (performance.now() - t0) / 1000;
        await Promise.all(files.map((fh) => fh.close()));
        return { seconds, failed: 0, retried: 0, how: `${concurrency} writers, each its own file, appending ${batch} lines and fdatasync per batch, one batch after another; lines built before the clock` };
      } finally {
        removeDir(dir);
      }
    },
  },
  {
    // No Logstash runs here (not on a registry this machine reaches): the rows go into the go-lumber
    // server of the tests, which writes each event as a line and then acks its window.
    name: 'logstash',
    guarantee: 'at least once',
    concurrency: FORWARDERS, // 2 forwarders × --logstash-workers 1: one connection each
    async down() {
      try {
        lumberjackBinary();
        return undefined;
      } catch (e) {
        return `the lumberjack test server cannot be built (scripts/lumberjack.sh build): ${String(e.message).slice(0, 300)}`;
      }
    },
    async target() {
      const ls = await lumberjackServer();
      return {
        args: ['--logstash-hosts', ls.server.address],
        async received(acked) {
          const c = compare(acked);
          const { events, torn } = ls.server.received();
          for (const u of receivedUuids(events)) c.arrived(u);
          return { ...c.result(), torn };
        },
        cleanup: () => ls.stop(),
      };
    },
    async direct(ctx, records, { batch, concurrency }) {
      const ls = await lumberjackServer();
      const conns = [];
      try {
        for (let i = 0; i < concurrency; i++) {
          conns.push(await LumberjackConnection.connect({ host: ls.server.host, port: ls.server.port, timeoutMs: 30_000, compressionLevel: LS_ZLIB }));
        }
        const batches = [];
        for (let i = 0; i < records.length; i += batch) batches.push(records.slice(i, i + batch).map((r) => Buffer.from(r.doc)));
        let next = 0;
        const t0 = performance.now();
        // Each connection takes the next batch, sends its windows back to back and waits for every ACK, as the sink does.
        await Promise.all(conns.map(async (conn) => {
          while (next < batches.length) {
            const events = batches[next++];
            const sends = [];
            for (let i = 0; i < events.length; i += LS_WINDOW) {
              const w = events.slice(i, i + LS_WINDOW);
              sends.push(conn.send(await encodeWindow(w, LS_ZLIB), w.length));
            }
            await Promise.all(sends);
          }
        }));
        const seconds = (performance.now() - t0) / 1000;
        return {
          seconds, failed: 0, retried: 0,
          how: `the sink's lumberjack client (src/sinks/logstash/lumberjack.ts), ${concurrency} connections, each a batch of ${batch} at a time in windows of ${LS_WINDOW} sent back to back, zlib ${LS_ZLIB} inside the clock; event texts built before it`,
        };
      } finally {
        for (const c of conns) c.close();
        await ls.stop();
      }
    },
  },
];
