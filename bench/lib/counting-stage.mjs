// The counting stage: a stage that acknowledges at once, so a steady-state
// row measures the edge in front of it and nothing behind. It parses each
// POST /in MessageBatch, records every message's uuid with the time it first
// arrived and how many copies came, and answers 200 {"status":"OK"}.
//
// It runs in its own process (startCountingStage spawns this file with
// --serve), so its JSON parsing shows up in neither the edge's CPU nor the
// bench's event loop. The bench asks it:
//   GET /counts  {batches, messages, unique, lastNewAtMs}
//   GET /uuids   one line per uuid seen: "<uuid> <copies> <first arrival, epoch ms>"
// A gzip body (Content-Encoding: gzip) is inflated; /counts also gives the
// request body bytes as they came over the wire, plain and gzip apart
// ({plain,gzip}: {batches, messages, wireBytes, jsonBytes}). Started with
// {acceptGzip: true} it answers `Accept-Encoding: gzip`, as a Spillway stage
// does, so an edge with --ingest-gzip auto starts gzipping.
// Times are epoch milliseconds with sub-millisecond precision
// (performance.timeOrigin + performance.now()), comparable across the
// processes of one machine.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const now = () => performance.timeOrigin + performance.now();

function serve() {
  const seen = new Map(); // uuid → [copies, first arrival ms]
  let batches = 0;
  let messages = 0;
  let lastNewAtMs = 0;
  let bad = 0;
  const acceptGzip = process.argv.includes('--accept-gzip');
  const link = { plain: { batches: 0, messages: 0, wireBytes: 0, jsonBytes: 0 }, gzip: { batches: 0, messages: 0, wireBytes: 0, jsonBytes: 0 } };
  const okHeaders = { 'content-type': 'application/json', ...(acceptGzip ? { 'accept-encoding': 'gzip' } : {}) };
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/counts') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ batches, messages, unique: seen.size, lastNewAtMs, bad, link }));
      return;
    }
    if (req.method === 'GET' && req.url === '/uuids') {
      const lines = [];
      for (const [u, [n, at]] of seen) lines.push(`${u} ${n} ${at}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\n'));
      return;
    }
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/in') {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let batch;
      const wire = Buffer.concat(chunks);
      const zipped = /\bgzip\b/i.test(String(req.headers['content-encoding'] ?? ''));
      let json = wire;
      try {
        if (zipped) json = gunzipSync(wire);
        batch = JSON.parse(json.toString());
        if (!Array.isArray(batch.messages)) throw new Error('no messages');
      } catch (e) {
        bad++;
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'FAIL', message: e.message }));
        return;
      }
      const at = now();
      batches++;
      const l = link[zipped ? 'gzip' : 'plain'];
      l.batches++;
      l.messages += batch.messages.length;
      l.wireBytes += wire.length;
      l.jsonBytes += json.length;
      for (const m of batch.messages) {
        messages++;
        const s = seen.get(m.uuid);
        if (s) s[0]++;
        else {
          seen.set(m.uuid, [1, at]);
          lastNewAtMs = at;
        }
      }
      res.writeHead(200, okHeaders).end('{"status":"OK"}');
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

/** Start the counting stage in its own process: { url (its /in), base, pid, counts(), arrivals(), stop() }. */
export async function startCountingStage({ acceptGzip = false } = {}) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', ...(acceptGzip ? ['--accept-gzip'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`counting stage exited ${code}`)));
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    url: `${base}/in`,
    pid: child.pid,
    async counts() {
      return (await fetch(`${base}/counts`)).json();
    },
    /** Map uuid → { copies, atMs } of every message that arrived. */
    async arrivals() {
      const text = await (await fetch(`${base}/uuids`)).text();
      const m = new Map();
      for (const line of text.split('\n')) {
        if (!line) continue;
        const [u, n, at] = line.split(' ');
        m.set(u, { copies: Number(n), atMs: Number(at) });
      }
      return m;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--serve')) serve();
