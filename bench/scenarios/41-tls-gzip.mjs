// Issue 11's measures, in one run:
//
// 1. /rx over TLS beside plain /rx on the same edge build, beside the
//    do-nothing uWebSockets.js server over SSLApp and over App: the same wrk
//    load as the ingest rows (64 connections, the 134 B body, 1,000 paths;
//    keep-alive, so each connection does one handshake), the edge's stage
//    unreachable as in 02-ingest (the cost of accepting and storing). The
//    certificate is made now with openssl (EC P-256, signed by a CA made
//    beside it) into the bench's scratch directory. Ratios: TLS ÷ plain and
//    Spillway ÷ do-nothing over TLS.
// 2. The edge → stage link with gzip and without: an edge forwarding to the
//    counting stage, which answers `Accept-Encoding: gzip` so the default
//    `--ingest-gzip auto` turns gzip on, against `--ingest-gzip off`; the
//    stage counts each batch's request body bytes as they came over the wire.
//    Bytes per message on the wire and the sustained rate (steady rows: the
//    clock runs until the last acknowledged message arrives).
//
// A row that cannot run (no openssl, a daemon that does not start) is
// "Not run" with the reason; the other rows go on.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { MAIN, freePort, removeDir, startDaemon, stats } from '../../test/helpers/daemon.mjs';
import { compactPosEventJson } from '../../load/lib/payload.mjs';
import { startCountingStage } from '../lib/counting-stage.mjs';
import { measure } from '../lib/proc.mjs';
import { lossOrDuplicate, steadyRow } from '../lib/steady.mjs';
import { PROMISE } from '../lib/systems.mjs';
import { runWrk } from '../lib/wrk.mjs';

export const title = 'TLS and gzip: /rx over TLS, the edge → stage link gzipped';

export const ROWS = {
  noopPlain: 'tls: do-nothing uWebSockets.js App',
  noopTls: 'tls: do-nothing uWebSockets.js SSLApp',
  plain: 'tls: spillway edge /rx plain',
  tls: 'tls: spillway edge /rx over TLS',
  gzip: 'link: edge → counting stage, gzip (auto)',
  off: 'link: edge → counting stage, --ingest-gzip off',
};

const openssl = (args, cwd) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA and a server certificate for 127.0.0.1 signed by it, in `dir`: { cert, key, ca } paths. */
function makeServerCert(dir) {
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=spillway bench CA'], dir);
  openssl(['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
    '-days', '2', '-extfile', 'server.ext'], dir);
  return { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), ca: join(dir, 'ca.pem') };
}

function httpsOk(url, ca) {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** A process that prints its port on its first stdout line: { url, pid, stop() }. */
async function portPrinter(args, scheme) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  });
  return { url: `${scheme}://127.0.0.1:${port}`, pid: child.pid, stop: () => (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), exited) };
}

/** `spillway edge` listening with TLS (startDaemon polls /healthz over plain HTTP): { url, pid, stop() }. */
async function startTlsEdge(args, certs, caPem) {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'edge', '--port', String(port), '--host', '127.0.0.1', '--tls-cert', certs.cert, '--tls-key', certs.key, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  const stop = () => (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), exited);
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`spillway edge (TLS) exited early (${child.exitCode}): ${out.trim().slice(-400)}`);
    if (await httpsOk(`${url}/healthz`, caPem)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`spillway edge (TLS) did not answer /healthz over TLS in 20 s: ${out.trim().slice(-400)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid, stop };
}

export async function run(ctx) {
  await tlsRows(ctx);
  await gzipRows(ctx);
}

// ---- 1. /rx over TLS beside plain, beside the do-nothing server
async function tlsRows(ctx) {
  const { seconds, ingestWarmSeconds: warmSeconds, connections } = ctx.settings;
  const body = compactPosEventJson(0);
  const path = '/rx/pos/till-{n}/sale';
  const how = `wrk, 2 threads, ${connections} keep-alive connections, the ${Buffer.byteLength(body)} B body to 1,000 paths, ${seconds} s after a ${warmSeconds} s unmeasured warm-up on the same server; CPU: utime+stime of the server's threads over wrk's run`;
  let certs;
  try {
    certs = makeServerCert(ctx.dir('tls-certs'));
  } catch (e) {
    for (const name of [ROWS.noopTls, ROWS.tls]) ctx.notRun(name, `openssl could not make a certificate: ${String(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
  const caPem = certs ? readFileSync(certs.ca, 'utf8') : undefined;
  const edgeArgs = (dir) => ['--path', dir, '--maxq', '100000000', '--ingest', 'http://127.0.0.1:9/in', '--retry-max', '5', '--log-level', 'warn'];

  // Each server: started, warmed up, measured, stopped, one at a time.
  const servers = [
    [ROWS.noopPlain, { ceiling: true }, () => portPrinter([join(ctx.root, 'bench', 'noop-server.mjs'), '0'], 'http')],
    [ROWS.noopTls, { ceiling: true, tls: true }, () => portPrinter([join(ctx.root, 'bench', 'noop-tls-server.mjs'), '0', certs.cert, certs.key], 'https')],
    [ROWS.plain, {}, async () => {
      const dir = ctx.dir('tls-edge-plain');
      const d = await startDaemon('edge', edgeArgs(dir));
      return { url: d.url, pid: d.child.pid, stop: async () => (await d.kill(), removeDir(dir)) };
    }],
    [ROWS.tls, { tls: true }, async () => {
      const dir = ctx.dir('tls-edge-tls');
      const d = await startTlsEdge(edgeArgs(dir), certs, caPem);
      return { url: d.url, pid: d.pid, stop: async () => (await d.stop(), removeDir(dir)) };
    }],
  ];
  for (const [name, extra, start] of servers) {
    if (extra.tls && !certs) continue;
    ctx.log(name);
    let server;
    try {
      server = await start();
      const load = (s) => runWrk({ url: server.url + path, fleet: 1000, body, seconds: s, connections, dir: ctx.work });
      await load(warmSeconds);
      const m = await measure(server.pid, () => load(seconds));
      const { raw, ...r } = m.result;
      const answered = r.requests - r.non2xx;
      if (!answered) throw new Error(`no 2xx answer in ${r.requests} requests (${r.socketErrors} socket errors)`);
      ctx.row(name, {
        kind: 'tls', ...extra, ...r, connections, bodyBytes: Buffer.byteLength(body),
        cpuCores: m.cpuCores, cpuPerRequestUs: (m.cpuCores * m.wallSeconds * 1e6) / answered,
        peakRssMiB: m.peakRssMiB, how,
      });
    } catch (e) {
      ctx.notRun(name, String(e.message ?? e).split('\n')[0]);
    } finally {
      await server?.stop().catch(() => {});
    }
  }
  const s = ctx.results.scenarios;
  const ratio = (a, b, k) => (s[a] && s[b] ? s[a][k] / s[b][k] : undefined);
  if (s[ROWS.tls]) {
    s[ROWS.tls].ratios = {
      tlsOverPlainRps: ratio(ROWS.tls, ROWS.plain, 'rps'),
      tlsOverPlainCpu: ratio(ROWS.tls, ROWS.plain, 'cpuPerRequestUs'),
      overNoopTlsRps: ratio(ROWS.tls, ROWS.noopTls, 'rps'),
      overNoopTlsCpu: ratio(ROWS.tls, ROWS.noopTls, 'cpuPerRequestUs'),
      noopTlsOverPlainRps: ratio(ROWS.noopTls, ROWS.noopPlain, 'rps'),
      noopTlsOverPlainCpu: ratio(ROWS.noopTls, ROWS.noopPlain, 'cpuPerRequestUs'),
    };
  }
}

// ---- 2. the edge → stage link, gzip against plain
async function gzipRows(ctx) {
  const { steadySeconds, warmSeconds, connections } = ctx.settings;
  const body = compactPosEventJson(0);
  // Quick: shorter than the other steady rows, to keep the scenario near a minute.
  const secondsOfRow = ctx.quick ? Math.min(steadySeconds, 5) : steadySeconds;
  for (const [name, gzip] of [[ROWS.gzip, 'auto'], [ROWS.off, 'off']]) {
    ctx.log(name);
    const cleanups = [];
    try {
      const stage = await startCountingStage({ acceptGzip: true });
      cleanups.push(() => stage.stop());
      const dir = ctx.dir(`link-${gzip}`);
      const edge = await startDaemon('edge', ['--path', dir, '--maxq', '100000000', '--log-level', 'warn', '--ingest', stage.url, '--ingest-gzip', gzip]);
      cleanups.push(async () => (await edge.kill(), removeDir(dir)));
      const sys = {
        url: edge.url, path: '/rx/pos/till-{n}/sale', pids: { edge: edge.child.pid }, sampleStatsOf: edge.url,
        delivered: async () => (await stage.counts()).unique, arrivals: () => stage.arrivals(), namesAcks: true,
        promise: PROMISE.spillway, downstream: 'counting stage',
      };
      const before = (await stage.counts()).link;
      const row = await steadyRow(ctx, name, sys, { seconds: secondsOfRow, warmSeconds, connections, body });
      const after = (await stage.counts()).link;
      // Per encoding over the row (warm-up included: per message it is the
      // same payload); under auto the first batches go plain until the
      // stage's first answer, so the gzip figures are the gzip batches' own.
      const used = gzip === 'off' ? 'plain' : 'gzip';
      const d = Object.fromEntries(['batches', 'messages', 'wireBytes', 'jsonBytes'].map((k) => [k, after[used][k] - before[used][k]]));
      row.kind = 'link';
      row.gzip = gzip;
      row.link = {
        encoding: used, ...d,
        plainBatchesToo: used === 'gzip' ? after.plain.batches - before.plain.batches : 0,
        wireBytesPerMessage: d.wireBytes / Math.max(1, d.messages),
        jsonBytesPerMessage: d.jsonBytes / Math.max(1, d.messages),
        messagesPerBatch: d.messages / Math.max(1, d.batches),
      };
      const { txBatches, txMessages, txFails } = (await stats(edge.url)).edge;
      row.link.edgeTx = { txBatches, txMessages, txFails };
      if (!d.messages) throw new Error(`no ${used} batch reached the stage (gzip ${gzip})`);
      row.how = `wrk, 2 threads, ${connections} connections, the ${Buffer.byteLength(body)} B body to 1,000 paths, ${secondsOfRow} s after a ${warmSeconds} s warm-up; bytes: request bodies as the stage read them off the socket (HTTP headers not counted); every message carries the same 131 B event (only its uuid, key and time differ), so gzip's ratio here is a best case`;
      ctx.row(name, row);
      const why = lossOrDuplicate(name, row, { spillwayAnswers: true });
      if (why) ctx.fail(why);
    } catch (e) {
      ctx.notRun(name, String(e.message ?? e).split('\n')[0]);
    } finally {
      for (const c of cleanups.reverse()) await c().catch(() => {});
    }
  }
  const s = ctx.results.scenarios;
  if (s[ROWS.gzip] && s[ROWS.off]) {
    s[ROWS.gzip].vsOff = {
      wireBytes: s[ROWS.gzip].link.wireBytesPerMessage / s[ROWS.off].link.wireBytesPerMessage,
      sustained: s[ROWS.gzip].sustainedPerSecond / s[ROWS.off].sustainedPerSecond,
      cpu: s[ROWS.gzip].cpuPerMessageUs / s[ROWS.off].cpuPerMessageUs,
    };
  }
}
