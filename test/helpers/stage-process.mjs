// A recording stage /in in a process of its own, so that a test can stop it
// with SIGSTOP (a stage that stops reading: its sockets fill, the sender is
// pushed back) and let it go on with SIGCONT. It reports every batch to the
// parent over IPC: { batch uuid, message uuids, at: Date.now() at receipt }.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--stage-child') {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let batch;
      try {
        batch = JSON.parse(Buffer.concat(chunks).toString());
      } catch (e) {
        res.writeHead(400).end(JSON.stringify({ status: 'FAIL', message: e.message }));
        return;
      }
      process.send({ batch: batch.uuid, uuids: batch.messages.map((m) => m.uuid), at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}

/**
 * Start the stage. Returns { port, batches: Map(batch uuid → times), messages: Map(uuid →
 * { n, batches: Set }), receivedBetween(from, to), stop() (SIGSTOP), cont() (SIGCONT), close() }.
 */
export async function startStageProcess() {
  const child = fork(fileURLToPath(import.meta.url), ['--stage-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const batches = new Map();
  const messages = new Map();
  const arrivals = [];
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`stage process exited (${code})`)));
    child.on('message', (m) => {
      if (m.port) return resolve(m.port);
      batches.set(m.batch, (batches.get(m.batch) ?? 0) + 1);
      let fresh = 0;
      for (const u of m.uuids) {
        let e = messages.get(u);
        if (!e) {
          e = { n: 0, batches: new Set() };
          messages.set(u, e);
          fresh++;
        }
        e.n++;
        e.batches.add(m.batch);
      }
      arrivals.push([m.at, fresh]);
    });
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    port,
    batches,
    messages,
    /** Messages first received (by the stage's clock) in [from, to). */
    receivedBetween: (from, to) => arrivals.reduce((n, [at, k]) => (at >= from && at < to ? n + k : n), 0),
    stop: () => child.kill('SIGSTOP'),
    cont: () => child.kill('SIGCONT'),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
