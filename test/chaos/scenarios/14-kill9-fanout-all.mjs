// kill -9 of `spillway all` while it fans out to Elasticsearch, Kafka, Redis
// and Logstash (a lumberjack v2 server of its own), several times under
// load, restarting on the same --path (issue 14). Elasticsearch holds every
// stored message exactly once (_id = uuid: the chaos ledger); Kafka, Redis
// and Logstash hold that same set, at least once: their second copies are
// counted per output and stay within the bound of their guarantee (per
// crash, the batches in flight or within the window are resent:
// shards × (inflight + window) × batch). Needs the local Kafka and Redis
// (scripts/kafka.sh, scripts/redis.sh; started when down) and the lumberjack
// server (scripts/lumberjack.sh build): without one the scenario is a skip,
// a failure under CI.
import { freePort, removeDir, stats } from '../../helpers/daemon.mjs';
import { ES_URL } from '../../helpers/es.mjs';
import { KAFKA_BROKER, kafkaScript, kafkaUp, readTopic, testTopic } from '../../helpers/kafka.mjs';
import { lumberjackBinary, receivedUuids, startLumberjack } from '../../helpers/lumberjack.mjs';
import { readLists, REDIS_URL, redisScript, redisUp, testKey } from '../../helpers/redis.mjs';
import { ledger, mergeRefused, rand, result, unackedCheck, waitDocs, waitDrained } from '../lib.mjs';

export const name = 'kill -9 of all during a fan-out to elasticsearch, kafka, redis and logstash';
const OUTPUTS = ['elasticsearch', 'kafka', 'redis', 'logstash'];
export const timeoutMs = { quick: 240_000, long: 1_200_000 };

async function up(what, check, start) {
  if (await check()) return undefined;
  const r = await start();
  if (r.ok && (await check())) return undefined;
  return `${what} is not reachable and its script could not start it: ${r.output.slice(-500)}`;
}

export async function run({ quick, log = () => {}, signal, scope }) {
  const missing = (await up(`Kafka at ${KAFKA_BROKER}`, () => kafkaUp(), () => kafkaScript('start')))
    ?? (await up(`Redis at ${REDIS_URL}`, () => redisUp(), () => redisScript('start')));
  let bin;
  try {
    bin = lumberjackBinary();
  } catch (e) {
    if (!missing) return result(name, { skipped: e.message, notes: e.message });
  }
  if (missing) return result(name, { skipped: missing, notes: missing });

  const kills = quick ? 3 : 10;
  const SHARDS = 2;
  const INFLIGHT = 2;
  const WINDOW = 4;
  const BATCH = 500;
  const esIdx = await scope.index();
  const topic = testTopic('spillway-chaos');
  await scope.defer(`delete Kafka topic ${topic.name}`, () => topic.cleanup());
  const key = testKey('spillway-chaos');
  await scope.defer(`delete Redis key ${key.base}`, () => key.cleanup());
  const ls = await startLumberjack(bin);
  await scope.defer(`lumberjack server on ${ls.port}`, async () => {
    await ls.kill();
    removeDir(ls.out.replace(/\/events\.ndjson$/, ''));
  });
  const dir = await scope.tempDir();
  const port = await freePort();
  const args = [
    '--path', dir, '--shards', String(SHARDS), '--inflight', String(INFLIGHT), '--output-window', String(WINDOW), '--batch', String(BATCH),
    '--interval', '0.2', '--retry-max', '1', '--log-level', 'warn',
    '--output', OUTPUTS.join(','),
    '--es', ES_URL, '--index', esIdx.pattern,
    '--kafka-brokers', KAFKA_BROKER, '--kafka-topic', topic.name,
    '--redis', REDIS_URL, '--redis-key', key.base,
    '--logstash-hosts', ls.address, '--logstash-timeout', '5',
  ];
  let d;
  let target = null;
  // Single /rx messages only: every stored message is named by the uuid of its 200.
  const load = scope.load(() => target, { connections: 12, run: 'kfa', maxMs: 150_000 });
  const exits = [];
  for (let k = 0; k < kills; k++) {
    d = await scope.daemon('all', args, { port, waitMs: 60_000 });
    target = d.url;
    const before = load.acked.size;
    // Mid-fan-out: once this life has acknowledged a few hundred messages and
    // every output has delivered some of them, then a random 0–1.5 s more.
    const t0 = Date.now();
    let o;
    for (;;) {
      o = load.acked.size - before >= 300 ? (await stats(d.url).catch(() => undefined))?.outputs : undefined;
      if (o && OUTPUTS.every((n) => o[n]?.delivered > 0)) break;
      if (Date.now() - t0 > 30_000) break; // kill anyway: the checks below still hold
      await scope.sleep(50);
    }
    await scope.sleep(rand(0, 1500));
    target = null;
    d.child.kill('SIGKILL');
    exits.push((await d.exited).signal);
    log(`  kill ${k + 1}/${kills} after ${Date.now() - t0} ms: acked so far ${load.acked.size}; delivered in this life ${OUTPUTS.map((n) => `${n} ${o?.[n]?.delivered ?? '?'}`).join(', ')}`);
  }
  d = await scope.daemon('all', args, { port, waitMs: 60_000 });
  target = d.url;
  await scope.sleep(1000);
  const { acked, ackedTags, cutTags, refused, errors, errorCodes } = await load.stop();
  await waitDrained(d.url, 180_000, signal);

  // Elasticsearch: the chaos ledger (lost, duplicated, stored without a 200).
  const docs = await waitDocs(esIdx.all, acked, 30_000, undefined, signal);
  const l = ledger(docs, acked, ackedTags);
  const stored = new Set(docs.map((x) => x.id));
  // The others: every stored message at least once; second copies counted per output.
  const found = {
    kafka: (await readTopic(topic.name, { timeoutMs: 120_000 })).map((r) => r.uuid),
    redis: (await readLists([key.base])).map((e) => e.rxtxMsg.uuid),
    logstash: receivedUuids(ls.received().events),
  };
  const bound = kills * SHARDS * (INFLIGHT + WINDOW) * BATCH;
  const per = {};
  const checks = [];
  let lostElsewhere = 0;
  for (const [n, ids] of Object.entries(found)) {
    const set = new Set(ids);
    const miss = [...stored].filter((u) => !set.has(u)).length;
    const extra = [...set].filter((u) => !stored.has(u)).length;
    const dup = ids.length - set.size;
    per[n] = { records: ids.length, missing: miss, extra, duplicates: dup };
    lostElsewhere = Math.max(lostElsewhere, [...acked].filter((u) => !set.has(u)).length);
    checks.push(
      { what: `${n} holds what elasticsearch holds (${miss} missing, ${extra} extra)`, ok: miss === 0 && extra === 0 },
      { what: `${n}'s second copies within the bound (${dup} ≤ ${bound})`, ok: dup <= bound },
    );
  }
  return result(name, {
    acked: l.messagesAcked, documents: l.documents, lost: Math.max(l.lost, lostElsewhere), duplicated: l.duplicated,
    refused: mergeRefused(refused),
    notes: `${acked.size} acknowledged; ${kills} kills; ${errors} requests failed (${JSON.stringify(errorCodes)}), ${cutTags.size} cut in flight; ` +
      `${l.unacked} stored but never acked; elasticsearch ${l.documents} documents, ${l.duplicated} second copies; ` +
      `${Object.entries(per).map(([n, p]) => `${n}: ${p.records} records, ${p.duplicates} second copies`).join('; ')} (at least once; bound ${bound}); ` +
      `lumberjack torn lines ${ls.received().torn}`,
    checks: [
      unackedCheck(l, cutTags),
      ...checks,
      { what: 'every kill was a SIGKILL', ok: exits.every((s) => s === 'SIGKILL') },
      { what: 'load was acknowledged', ok: acked.size >= kills * 300 },
    ],
  });
}
