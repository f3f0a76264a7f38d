// A small receiver speaking the stage protocol (POST /in, MessageBatch JSON),
// for edge tests that need to see exactly what the edge forwards. It checks
// every batch strictly against rtbeat's MessageBatch shape and can be told
// to fail, hang or refuse, then recover.
import http from 'node:http';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_ANY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Throws unless `batch` is exactly rtbeat's MessageBatch with rxtx Messages. */
export function assertMessageBatch(batch) {
  const keys = Object.keys(batch).sort().join(',');
  if (keys !== 'messages,size,uuid') throw new Error(`batch keys are ${keys}`);
  if (!UUID.test(batch.uuid)) throw new Error(`batch uuid ${batch.uuid}`);
  if (!Array.isArray(batch.messages) || batch.size !== batch.messages.length) throw new Error('size mismatch');
  for (const m of batch.messages) {
    const mk = Object.keys(m).join(',');
    if (mk !== 'seq,time,uuid,producer,label,key,payload') throw new Error(`message keys ${mk}`);
    if (!/^\d{19}$/.test(m.seq)) throw new Error(`seq ${m.seq}`);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/.test(m.time)) throw new Error(`time ${m.time}`);
    if (!UUID_ANY.test(m.uuid)) throw new Error(`uuid ${m.uuid}`);
    if (typeof m.producer !== 'string' || typeof m.key !== 'string') throw new Error('producer/key');
    if (typeof m.label !== 'string' || !m.label.startsWith('/')) throw new Error(`label ${m.label}`);
    if (m.payload === null || typeof m.payload !== 'object' || Array.isArray(m.payload)) throw new Error('payload');
  }
}

export async function startReceiver({ port = 0, mode = 'ok' } = {}) {
  const state = {
    mode, // 'ok' | 'fail' (500) | 'hang' (never answers)
    batches: 0,
    counts: new Map(), // uuid -> times received
    messages: [],
    errors: [],
    hung: new Set(),
    requests: 0, // every POST /in, answered or not: what quiescence checks watch
    lastRequestAt: 0, // Date.now() of the last POST /in to arrive (0: none yet)
  };
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/in') {
      res.writeHead(404).end();
      return;
    }
    state.requests++;
    state.lastRequestAt = Date.now();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (state.mode === 'hang') {
        state.hung.add(res);
        return;
      }
      if (state.mode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"status":"FAIL","message":"test"}');
        return;
      }
      let batch;
      try {
        batch = JSON.parse(Buffer.concat(chunks).toString());
        assertMessageBatch(batch);
      } catch (e) {
        state.errors.push(e.message);
        res.writeHead(400).end(JSON.stringify({ status: 'FAIL', message: e.message }));
        return;
      }
      state.batches++;
      for (const m of batch.messages) {
        state.counts.set(m.uuid, (state.counts.get(m.uuid) ?? 0) + 1);
        state.messages.push(m);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const startedAt = Date.now();
  return {
    state,
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}/in`,
    /** Milliseconds since the last POST /in arrived (since start if none did). */
    idleMs() {
      return Date.now() - (state.lastRequestAt || startedAt);
    },
    setMode(m) {
      state.mode = m;
      if (m !== 'hang') {
        for (const res of state.hung) res.destroy();
        state.hung.clear();
      }
    },
    async close() {
      for (const res of state.hung) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
