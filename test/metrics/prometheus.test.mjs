// /metrics of a daemon that stored and delivered a known set of messages
// (all mode, file output: the edge's and the stage's metrics in one process),
// read by a strict text-format reader (prom-text.mjs) and by promtool check
// metrics (Prometheus's own parser): every family typed and helped,
// histogram buckets cumulative with +Inf == _count, counts equal to what was
// sent, build info, process metrics; two scrapers at once read the same
// values, and a scrape changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, tempDir, removeDir, ROOT, waitFor, stats } from '../helpers/daemon.mjs';
import { postMany, post } from '../helpers/edge-client.mjs';
import { promtoolOrNote, promtool } from './promtool.mjs';
import { parseExposition, series } from './prom-text.mjs';

const scrape = async (url) => {
  const r = await fetch(url + '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return r.text();
};

/** name → family, after checking every family has HELP and TYPE. */
function families(text) {
  const byName = parseExposition(text);
  for (const f of byName.values()) {
    assert.ok(f.help, `${f.name} has no HELP`);
    assert.ok(f.type, `${f.name} has no TYPE`);
  }
  return byName;
}

const one = (fams, name, labels = {}) => {
  const f = fams.get(name);
  assert.ok(f, `no ${name}`);
  const m = series(f).find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  assert.ok(m, `no ${name}${JSON.stringify(labels)}`);
  return m;
};
const value = (fams, name, labels) => one(fams, name, labels).value;

/** Buckets cumulative (never falling as le grows), +Inf present and == _count; returns the count. */
function checkHistogram(fams, name, labels) {
  assert.equal(fams.get(name)?.type, 'histogram', `${name} is a histogram`);
  const m = one(fams, name, labels);
  const les = [...m.buckets].sort((a, b) => a[0] - b[0]);
  assert.equal(les.at(-1)[0], Infinity, `${name} has a +Inf bucket`);
  for (let i = 1; i < les.length; i++) assert.ok(les[i][1] >= les[i - 1][1], `${name} bucket le=${les[i][0]} < le=${les[i - 1][0]}`);
  assert.equal(les.at(-1)[1], m.count, `${name} +Inf == _count`);
  assert.ok(m.sum >= 0);
  return { count: m.count, sum: m.sum };
}

/** Every sample line not of the process (process_*, nodejs_*: CPU, memory, event-loop lag move by themselves). */
const ownSamples = (text) => text.split('\n').filter((l) => l && !l.startsWith('#') && !/^(process|nodejs)_/.test(l)).sort();

test('/metrics: histograms, counters, build info and process metrics, read by two parsers; scrapers do not disturb each other', { timeout: 180_000 }, async (t) => {
  const dir = tempDir();
  const out = tempDir();
  t.after(() => {
    removeDir(dir);
    removeDir(out);
  });
  const d = await startDaemon('all', [
    '--path', dir, '--output', 'file', '--file-path', join(out, 'out.ndjson'), '--interval', '0.1', '--log-level', 'warn',
  ]);
  t.after(() => d.kill());

  const N = 600;
  const { acked, refused, errors } = await postMany(d.url, { total: N, connections: 8 });
  assert.equal(acked.size, N, `refused ${JSON.stringify([...refused])} errors ${errors}`);
  // Refusals with known reasons: 3 bad paths (404), 2 bodies that are not JSON objects (400).
  for (let i = 0; i < 3; i++) assert.equal((await post(d.url, '/rx/onlyproducer', '{}')).status, 404);
  for (let i = 0; i < 2; i++) assert.equal((await post(d.url, '/rx/p/k/l', '[1]')).status, 400);
  await waitFor('every message delivered', async () => {
    const s = await stats(d.url);
    return s.edge.inQueue === 0 && s.edge.txMessages === N && s.edge.writesPending === 0;
  });

  // The per-shard gauges are sampled every second: wait for a sample taken after the drain.
  const text = await waitFor('the sampled gauges to show the empty store', async () => {
    const t = await scrape(d.url);
    const shards = [...t.matchAll(/^rxtx_shard_messages\{shard="\d+"\} (\S+)$/gm)].map((m) => Number(m[1]));
    return shards.length === 4 && shards.every((x) => x === 0) && /^rxtx_oldest_message_age_seconds 0$/m.test(t) ? t : undefined;
  }, { timeoutMs: 10_000 });
  const fams = families(text);

  // Build info: one series, value 1, the three versions.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const info = one(fams, 'spillway_build_info');
  assert.equal(info.value, 1);
  assert.equal(info.labels.version, pkg.version);
  assert.equal(info.labels.node, process.versions.node);
  assert.match(info.labels.uws, /^20\.\d+\.\d+/);

  // Counters equal what was sent.
  assert.equal(fams.get('rxtx_total_messages_received').type, 'counter');
  assert.equal(value(fams, 'rxtx_total_messages_received'), N);
  assert.equal(value(fams, 'rxtx_tx_messages'), N);
  assert.equal(value(fams, 'rtbeat_documents_indexed'), N);
  assert.equal(value(fams, 'spillway_output_events_total', { output: 'file', event: 'delivered' }), N);
  assert.equal(value(fams, 'rxtx_refused_requests', { reason: 'path' }), 3);
  assert.equal(value(fams, 'rxtx_refused_requests', { reason: 'body' }), 2);
  assert.equal(value(fams, 'rxtx_msg_errors'), 5);
  assert.ok(value(fams, 'rxtx_received_bytes') > 0);
  assert.equal(value(fams, 'rxtx_messages_in_queue'), 0);
  assert.equal(value(fams, 'rxtx_maxq'), 2_000_000);
  assert.equal(value(fams, 'spillway_ready'), 1);
  assert.equal(value(fams, 'spillway_output_up', { output: 'file' }), 1);

  // Histograms: cumulative, consistent, and counting the right things.
  const ack = checkHistogram(fams, 'rxtx_ack_latency_seconds');
  assert.equal(ack.count, N, 'one ack latency per acknowledged request');
  const batches = checkHistogram(fams, 'rxtx_tx_batch_messages');
  assert.equal(batches.sum, N, 'batch sizes add up to the messages delivered');
  assert.equal(batches.count, value(fams, 'rxtx_tx_batches'));
  assert.equal(checkHistogram(fams, 'rxtx_tx_latency_seconds').count, batches.count);
  const bulk = checkHistogram(fams, 'rtbeat_bulk_latency_seconds');
  assert.equal(bulk.count, value(fams, 'rtbeat_bulk_requests'));
  assert.equal(checkHistogram(fams, 'rtbeat_bulk_items').sum, N);
  assert.equal(checkHistogram(fams, 'spillway_output_request_seconds', { output: 'file' }).count, bulk.count);
  // rxtx's summary: _sum and _count of the same observations.
  const rt = one(fams, 'rxtx_response_time');
  assert.equal(fams.get('rxtx_response_time').type, 'summary');
  assert.equal(rt.count, N);
  assert.ok(Math.abs(rt.sum - ack.sum) < 1e-9);
  // The raw text lists each histogram's buckets in ascending le, +Inf last.
  for (const name of ['rxtx_ack_latency_seconds', 'rxtx_tx_batch_messages', 'rtbeat_bulk_latency_seconds']) {
    const les = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}`, 'gm'))].map((m) => (m[1] === '+Inf' ? Infinity : Number(m[1])));
    assert.ok(les.length > 5);
    assert.deepEqual(les, [...les].sort((a, b) => a - b), `${name} buckets in order`);
  }

  // Nothing resets on scrape: the per-scrape rate gauge is gone, and no quantile gauges remain.
  assert.ok(!fams.has('rtbeat_documents_per_second'));
  assert.doesNotMatch(text, /quantile=/);

  // Process metrics (prom-client's default metrics).
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
    assert.ok(fams.has(name), `no ${name}`);
  }

  // Two scrapers at once, several times, and one after the other: the same values.
  for (let i = 0; i < 5; i++) {
    const [a, b] = await Promise.all([scrape(d.url), scrape(d.url)]);
    assert.deepEqual(ownSamples(a), ownSamples(b), 'two concurrent scrapes differ');
  }
  assert.deepEqual(ownSamples(await scrape(d.url)), ownSamples(text), 'scraping changed a value');

  // Prometheus's own parser (--lint=none: parse only), then its linter. The linter asks counters for a
  // _total suffix: rxtx's and rtbeat's names are kept as they were (and prom-client's process metrics are
  // not ours); any other advice fails.
  const tool = promtoolOrNote(t);
  if (tool) {
    const parsed = promtool(tool, ['check', 'metrics', '--lint=none', '--extended'], text);
    assert.equal(parsed.status, 0, `promtool check metrics --lint=none --extended:\n${parsed.output}`);
    const linted = promtool(tool, ['check', 'metrics'], text);
    const advice = linted.output.split('\n').map((l) => l.trim()).filter(Boolean);
    const other = advice.filter((l) => !/^(process|nodejs)_/.test(l) && !/ counter metrics should have "_total" suffix$/.test(l));
    assert.deepEqual(other, [], `promtool check metrics:\n${linted.output}`);
  }
});

test('the text-format reader refuses what Prometheus would not read', () => {
  const ok = '# HELP a_seconds x\n# TYPE a_seconds histogram\na_seconds_bucket{le="0.1",output="f"} 1\na_seconds_bucket{le="+Inf",output="f"} 2\na_seconds_sum{output="f"} 0.3\na_seconds_count{output="f"} 2\n';
  const [h] = series(parseExposition(ok).get('a_seconds'));
  assert.deepEqual(h, { labels: { output: 'f' }, value: undefined, sum: 0.3, count: 2, buckets: [[0.1, 1], [Infinity, 2]] });
  for (const bad of [
    'a 1\n', // no TYPE
    '# TYPE a counter\na{x=y} 1\n', // unquoted label value
    '# TYPE a counter\na{x="y"} one\n', // not a float
    '# TYPE a counter\na 1\na 2\n', // a series twice
    '# TYPE a counter\nb 1\n', // outside its family
    '# TYPE a histogram\na_bucket 1\n', // bucket without le
    '# TYPE a counter\na{x="\\q"} 1\n', // bad escape
  ]) assert.throws(() => parseExposition(bad), undefined, JSON.stringify(bad));
});
