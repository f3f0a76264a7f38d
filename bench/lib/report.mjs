// Results → a Markdown report (steady state beside the peers, ingest alone,
// delivery with its feed, how each ceiling was run, the targets of issue 9
// read off the run), an SVG bar chart, and a chart of throughput and latency
// over time.
import { bestLoader, LOADER_CONCURRENCY } from './ceilings.mjs';
import { timelineChart } from './timeline.mjs';

const f = (n, d = 0) => (n === undefined || n === null || Number.isNaN(n) ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
/** A shortfall as a share, in percentage points: "1 point", "40 points". */
const points = (share) => {
  const n = Math.max(1, Math.round(share * 100));
  return `${n} point${n === 1 ? '' : 's'}`;
};
const pct = (a, b) => (a && b ? `${Math.round((a / b) * 100)}%` : '–');
const times = (a, b) => (a && b ? `${f(a / b, 1)}×` : '–');

// { spillway: 0.6, elasticsearch: 1.1 } or { edge, beat, elasticsearch } → "0.60 / 1.10".
function cpuCell(c) {
  if (!c) return '–';
  const { elasticsearch, ...client } = c;
  const mine = Object.values(client).reduce((a, b) => a + b, 0);
  return `${f(mine, 2)} / ${f(elasticsearch, 2)}`;
}

/** The exactly-once cell of a row. */
export function exactlyCell(row) {
  const e = row.exactly;
  if (!e) return '–';
  if (e.unnamed) {
    const what = `${f(e.acknowledged)} acknowledged, ${f(e.distinct ?? e.arrived)} ${e.distinct !== undefined ? 'distinct ' : ''}arrived`;
    const dup = e.duplicatedCount ? `, ${f(e.duplicatedCount)} repeated` : '';
    return `${e.exact ? 'counts match' : '**counts differ**'} (${what}${dup}; nothing names the messages)`;
  }
  const bad = [];
  if (e.missingCount) bad.push(`**${f(e.missingCount)} lost**`);
  if (e.duplicatedCount) bad.push(`**${f(e.duplicatedCount)} duplicated**`);
  const extra = e.extraCount ? ` (+${f(e.extraCount)} unacknowledged: requests wrk cut short)` : '';
  return `${bad.length ? bad.join(', ') : 'yes'}${extra}`;
}

const rowsOf = (s, kind) => Object.entries(s).filter(([, x]) => x.kind === kind);

export function renderReport(r) {
  const s = r.scenarios;
  const lines = [];
  lines.push(`# Spillway benchmark (${r.mode}), ${r.started}`, '');
  lines.push(`Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node}. Load: wrk, 2 threads, 64 keep-alive connections unless noted; Elasticsearch on the same machine.${r.benchSeconds ? ` The run took ${f(r.benchSeconds)} s.` : ''}${r.machine.loadAverageAtStart !== undefined ? ` 1-minute load average ${f(r.machine.loadAverageAtStart, 1)} at the start and ${f(r.machine.loadAverageAtEnd, 1)} at the end: other work on the same cores shows up as noise.` : ''}`, '');

  // ---- steady state
  const steady = rowsOf(s, 'steady');
  const noop = s['ceiling: do-nothing uWebSockets.js (134 B)'];
  if (steady.length || noop) {
    lines.push('## Steady state: accept and forward at once', '');
    lines.push('The same wrk load on every row (a 131-byte point-of-sale JSON, 1,000 keys), after an unmeasured warm-up that is waited out. *Sustained* = acknowledged ÷ (first POST → last acknowledged message delivered downstream). *CPU per message* = utime+stime of every thread of the row\'s daemon processes (`/proc/<pid>/stat`) over that same window ÷ acknowledged. *Exactly once* compares the set of acknowledged uuids with the set that arrived.', '');
    lines.push('| system | a 2xx promises | ingest req/s | sustained msg/s | p50 ms | p99 ms | p99.9 ms | CPU µs/msg (cores) | Elasticsearch cores | peak RSS MiB | exactly once |');
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    if (noop) lines.push(`| do-nothing uWebSockets.js (ceiling) | nothing | ${f(noop.rps)} | – | ${f(noop.latencyMs.p50, 2)} | ${f(noop.latencyMs.p99, 2)} | ${f(noop.latencyMs.p999, 2)} | ${f(noop.cpuPerMessageUs, 1)} per request (${f(noop.cpuCores, 2)}) | – | ${f(noop.peakRssMiB)} | – |`);
    for (const [name, x] of steady) {
      const l = x.latencyMs;
      lines.push(`| ${name.replace(/^steady: /, '')} | ${x.promise ?? '–'} | ${f(x.rps)} | ${f(x.sustainedPerSecond)} | ${f(l.p50, 2)} | ${f(l.p99, 2)} | ${f(l.p999, 2)} | ${f(x.cpuPerMessageUs, 1)} (${f(x.cpuCores, 2)}) | ${f(x.elasticsearchCores, 2)} | ${f(x.peakRssMiB)} | ${exactlyCell(x)} |`);
    }
    const notes = steady.filter(([, x]) => x.how).map(([name, x]) => `- ${name.replace(/^steady: /, '')}: ${x.how}.`);
    if (notes.length) lines.push('', ...notes);
    lines.push('');
  }

  // ---- ingest alone
  const ingest = rowsOf(s, 'ingest');
  const ceiling = s['ceiling: do-nothing uWebSockets.js'];
  if (ingest.length) {
    lines.push('## Ingest alone (durable ack, stage unreachable)', '');
    lines.push('| scenario | req/s | msg/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | non-2xx | daemon CPU (cores) | CPU µs/msg | peak RSS MiB | anon RSS MiB | ÷ ceiling (req/s) |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [name, x] of ingest) {
      const l = x.latencyMs;
      lines.push(`| ${name} | ${f(x.rps)} | ${f(x.messagesPerSecond)} | ${f(l.p50, 2)} | ${f(l.p90, 2)} | ${f(l.p99, 2)} | ${f(l.p999, 2)} | ${f(l.max, 1)} | ${x.non2xx + x.socketErrors} | ${f(x.cpuCores, 2)} | ${f(x.cpuPerMessageUs, 1)} | ${f(x.peakRssMiB)} | ${f(x.anonRssMiB)} | ${x === ceiling ? '100%' : pct(x.rps, ceiling?.rps)} |`);
    }
    lines.push('');
  }

  // ---- delivery
  const loaders = rowsOf(s, 'loader');
  const delivery = rowsOf(s, 'delivery');
  if (loaders.length || delivery.length) {
    const best = Object.fromEntries(Object.entries(LOADER_CONCURRENCY).map(([k, c]) => [k, bestLoader(s, c)]));
    const ceilingOf = (name) => (name.includes('beat') ? best.beat : best.all);
    lines.push('## Delivery into Elasticsearch', '');
    lines.push('Each delivery row is fed by `/rxb` batches from a feed that can outrun the delivery; *bound by* says which side limited the row (the feed, when it was still posting in the last tenth of the window). Each row\'s ceiling is the better of two direct-loader runs (before and after the Spillway rows) at the concurrency Spillway may have in flight in that row.', '');
    lines.push('| scenario | messages | documents | exactly once | seconds | docs/s | feed msg/s | bound by | ÷ its loader ceiling | lag ack→searchable ms (mean / max) | RSS MiB | CPU cores (client / Elasticsearch) |');
    lines.push('| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
    for (const [name, x] of loaders) {
      lines.push(`| ${name} | ${f(x.total)} | ${f(x.total - x.failed)} | – | ${f(x.seconds, 1)} | ${f(x.docsPerSecond)} | – | – | ${pct(x.docsPerSecond, bestLoader(s, x.concurrency)?.docsPerSecond)} | – | – | ${cpuCell(x.cpuCores)} |`);
    }
    for (const [name, x] of delivery) {
      const rss = x.rssMiB ?? x.peakRssWhileDrainingMiB;
      lines.push(`| ${name} | ${f(x.acked)} | ${f(x.docs)} | ${exactlyCell(x)} | ${f(x.seconds, 1)} | ${f(x.docsPerSecond)} | ${f(x.feedPerSecond)} | ${x.boundBy ?? '–'}${x.feedSeconds && x.seconds && !x.backlog ? ` (feed done at ${pct(x.feedSeconds, x.seconds)})` : ''} | ${pct(x.docsPerSecond, ceilingOf(name)?.docsPerSecond)} | ${x.lagMs ? `${f(x.lagMs.mean)} / ${f(x.lagMs.max)}` : '–'} | ${f(rss)} | ${cpuCell(x.cpuCores)} |`);
    }
    const b = s['backlog drain'];
    if (b) lines.push('', `Backlog: ${f(b.acked)} messages held on disk with Elasticsearch away; daemon RSS ${f(b.rssWhileHeldMiB)} MiB (of which anonymous ${f(b.anonRssWhileHeldMiB)} MiB; the rest is LMDB's memory map) while holding them, peak ${f(b.peakRssWhileDrainingMiB)} MiB while draining (anonymous ${f(b.peakAnonRssWhileDrainingMiB)} MiB).`);
    lines.push('');
  }

  lines.push(...outputsSection(s));
  lines.push(...tlsGzipSection(s));
  lines.push(...ceilingsRun(r), '');
  lines.push(...targets(r));
  if (Object.keys(r.notRun ?? {}).length) {
    lines.push('', '## Not run', '');
    for (const [k, v] of Object.entries(r.notRun)) lines.push(`- ${k}: ${v}`);
  }
  if (r.failures?.length) {
    lines.push('', '## Failures', '');
    for (const x of r.failures) lines.push(`- ${x}`);
  }
  const timelineSvg = r.timeline?.length ? timelineChart(r.timeline) : undefined;
  lines.push('', '![throughput](CHART)', '');
  if (timelineSvg) lines.push('![throughput and latency over time](TIMELINE)', '');
  return { markdown: lines.join('\n'), svg: chart(s), timelineSvg };
}

/** The per-output rows (scenarios/24-outputs.mjs): spillway all beside a direct client to the same server. */
export function outputsSection(s) {
  const rows = rowsOf(s, 'output');
  if (!rows.length) return [];
  const lines = ['## Outputs: spillway all beside a direct client', ''];
  lines.push('Each row: `spillway all --output X` fed `/rxb` batches (after a delivered warm-up), clock from the first POST until the edge counts the last message delivered, beside a direct client that writes the same records (rtbeat\'s event with the same 131 B payload, batches of `--batch` records, as many requests in flight as spillway all keeps) to the same server in the same run, after its own warm-up. The last row runs every output at once, beside every direct client at once (records ÷ the slowest client\'s time). *As promised* compares the acknowledged uuids with what each output holds: exactly once for the index outputs, at least once for files (second copies counted).', '');
  lines.push('| output | messages | spillway all msg/s | direct client msg/s | spillway ÷ direct | bound by | as promised | spillway cores | peak RSS MiB |');
  lines.push('| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |');
  const single = {};
  for (const [name, x] of rows) {
    const sp = x.spillway;
    const promised = Object.entries(sp.received).map(([k, c]) => `${k}: ${c.verdict === 'exact' ? (c.guarantee === 'exactly once' ? 'exactly once' : 'each once') : `**${c.verdict}**`}`).join('; ');
    if (!x.fanout) single[x.outputs[0]] = sp.perSecond;
    lines.push(`| ${name.replace(/^output: /, '')} | ${f(sp.acked)} | ${f(sp.perSecond)} | ${f(x.direct.perSecond)}${x.direct.retried ? ` (${f(x.direct.retried)} items sent again)` : ''}${x.direct.failed ? ` (**${f(x.direct.failed)} failed**)` : ''} | ${pct(sp.perSecond, x.direct.perSecond)} | ${sp.boundBy} (feed done at ${pct(sp.feedSeconds, sp.seconds)}) | ${promised} | ${f(sp.cpuCores?.spillway, 2)} | ${f(sp.rssMiB)} |`);
  }
  const fan = rows.find(([, x]) => x.fanout)?.[1];
  if (fan) {
    const slowest = Math.min(...fan.outputs.map((k) => single[k] ?? Infinity));
    if (Number.isFinite(slowest)) lines.push('', `The fan-out delivered ${f(fan.spillway.perSecond)} msg/s to ${fan.outputs.length} outputs: ${pct(fan.spillway.perSecond, slowest)} of its slowest output alone (${f(slowest)} msg/s).`);
  }
  const how = rows.flatMap(([, x]) => Object.entries(x.direct.each).map(([k, e]) => `${k}: ${e.how}`));
  lines.push('', 'Direct clients:', ...[...new Set(how)].map((h) => `- ${h}.`), `- spillway all: ${rows[0][1].spillway.how}.`, '');
  return lines;
}

/** Issue 11's measures (scenarios/41-tls-gzip.mjs): /rx over TLS beside plain and the do-nothing servers; the edge → stage link gzipped or not. */
export function tlsGzipSection(s) {
  const lines = [];
  const tls = rowsOf(s, 'tls');
  if (tls.length) {
    const plain = s['tls: spillway edge /rx plain'];
    const noopTls = s['tls: do-nothing uWebSockets.js SSLApp'];
    lines.push('## /rx over TLS', '');
    lines.push(`Each server alone, one after another, under the same wrk load (${tls[0][1].how}). The edge's stage is unreachable, as in *ingest alone*. *CPU µs/req* = the server's CPU over wrk's run ÷ 2xx answers.`, '');
    lines.push('| server | req/s | p50 ms | p99 ms | non-2xx + socket errors | cores | CPU µs/req | ÷ plain edge (req/s, CPU/req) | ÷ do-nothing SSLApp (req/s, CPU/req) |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [name, x] of tls) {
      const vs = (b) => (b && b !== x ? `${pct(x.rps, b.rps)}, ${times(x.cpuPerRequestUs, b.cpuPerRequestUs)}` : '–');
      lines.push(`| ${name.replace(/^tls: /, '')} | ${f(x.rps)} | ${f(x.latencyMs.p50, 2)} | ${f(x.latencyMs.p99, 2)} | ${x.non2xx + x.socketErrors} | ${f(x.cpuCores, 2)} | ${f(x.cpuPerRequestUs, 1)} | ${x.ceiling ? '–' : vs(plain)} | ${x.ceiling ? '–' : vs(noopTls)} |`);
    }
    lines.push('');
  }
  const link = rowsOf(s, 'link');
  if (link.length) {
    const off = link.find(([, x]) => x.gzip === 'off')?.[1];
    lines.push('## Edge → stage link: gzip or not', '');
    lines.push('`spillway edge` forwarding to the counting stage (which answers `Accept-Encoding: gzip`, so `--ingest-gzip auto` gzips), steady rows as above. *Wire B/msg* = request body bytes the stage read ÷ messages in those batches (HTTP headers not counted); *JSON B/msg* the same inflated. Every message carries the same 131 B event (only its uuid, key and time differ): gzip\'s ratio here is a best case.', '');
    lines.push('| link | wire B/msg | JSON B/msg | ÷ plain wire bytes | msg/batch | ingest req/s | sustained msg/s | ÷ plain sustained | edge CPU µs/msg | p99 ms | exactly once |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const [name, x] of link) {
      const l = x.link;
      const offL = off?.link;
      lines.push(`| ${name.replace(/^link: /, '')} | ${f(l.wireBytesPerMessage, 1)} | ${f(l.jsonBytesPerMessage, 1)} | ${x === off ? '–' : pct(l.wireBytesPerMessage, offL?.wireBytesPerMessage)} | ${f(l.messagesPerBatch)} | ${f(x.rps)} | ${f(x.sustainedPerSecond)} | ${x === off ? '–' : pct(x.sustainedPerSecond, off?.sustainedPerSecond)} | ${f(x.cpuPerMessageUs, 1)} | ${f(x.latencyMs.p99, 2)} | ${exactlyCell(x)} |`);
    }
    lines.push('');
  }
  return lines;
}

/** How each ceiling was run (issue 15 item 13: like with like, and said). */
export function ceilingsRun(r) {
  const s = r.scenarios;
  const out = ['## How each ceiling was run', ''];
  for (const [name, x] of Object.entries(s)) {
    if (!x.ceiling && x.kind !== 'loader') continue;
    if (x.kind === 'loader' && x.when === 'after') continue;
    out.push(`- ${name.replace(/ \((before|after)\)$/, '')}: ${x.how ?? '–'}.`);
  }
  for (const [name, x] of rowsOf(s, 'delivery')) if (x.feed) out.push(`- feed of ${name}: ${x.feed}.`);
  return out;
}

/**
 * Issue 9's targets read off this run: each with the figures, the target,
 * and by how much it is met or missed. Never a failure: these machines are noisy.
 */
export function targets(r) {
  const s = r.scenarios;
  const noop = s['ceiling: do-nothing uWebSockets.js (134 B)'];
  const edge = s['steady: spillway edge /rx → counting stage'];
  const edgeHalf = s['steady: spillway edge /rx → counting stage, about half rate'];
  const ingestHalf = s['spillway /rx at about half rate'];
  const ingestOnly = s['spillway /rx (134 B)'];
  const rxs = s['steady: Go rxtx /rxs → counting stage'];
  const rx = s['steady: Go rxtx /rx → counting stage'];
  const all = s['steady: spillway all /rx → Elasticsearch'];
  const fb = s['steady: Fluent Bit http → Elasticsearch'];
  const loader = bestLoader(s, LOADER_CONCURRENCY.all);
  const rxb = Object.entries(s).filter(([n]) => n.startsWith('spillway /rxb')).map(([, x]) => x.messagesPerSecond);
  const b = s['backlog drain'];
  const rows = [];
  const row = (target, measured, met, by) => rows.push(`| ${target} | ${measured} | ${met === undefined ? 'not measured' : met ? 'met' : `**missed**${by ? `, ${by}` : ''}`} |`);
  const notMeasured = (target, why) => rows.push(`| ${target} | ${why} | not measured |`);

  if (edge && noop) {
    const ratio = edge.cpuPerMessageUs / noop.cpuPerMessageUs;
    row('daemon CPU per durable, forwarded message ≤ 4× the do-nothing server\'s CPU per request', `${f(ratio, 1)}× (${f(edge.cpuPerMessageUs, 1)} µs vs ${f(noop.cpuPerMessageUs, 1)} µs)`, ratio <= 4, `by ${f(ratio / 4, 1)}× (needs ${f(edge.cpuPerMessageUs / (4 * noop.cpuPerMessageUs), 1)}× less CPU)`);
  } else notMeasured('daemon CPU per message ≤ 4× the do-nothing server', 'a row is missing');
  for (const [peer, label, need] of [[rxs, '/rxs', 10], [rx, '/rx', 4]]) {
    const target = `sustained edge /rx ≥ ${need}× the Go rxtx ${label} sustained`;
    if (edge && peer) {
      const ratio = edge.sustainedPerSecond / peer.sustainedPerSecond;
      row(target, `${f(ratio, 1)}× (${f(edge.sustainedPerSecond)} vs ${f(peer.sustainedPerSecond)} msg/s)`, ratio >= need, `at ${f(ratio, 1)}× of ${need}×`);
    } else notMeasured(target, edge ? `rxtx ${label} not run (see Not run)` : 'edge row missing');
  }
  if (edge && ingestOnly) {
    const ratio = edge.sustainedPerSecond / ingestOnly.messagesPerSecond;
    row('sustained ≥ 90% of the ingest-only rate', `${pct(edge.sustainedPerSecond, ingestOnly.messagesPerSecond)} (${f(edge.sustainedPerSecond)} of ${f(ingestOnly.messagesPerSecond)} msg/s)`, ratio >= 0.9, `by ${points(0.9 - ratio)}`);
  }
  const half = edgeHalf ?? ingestHalf;
  if (half) {
    const of = half.ofFullRate;
    row(`p99 ack ≤ 5 ms at half the full rate (${edgeHalf ? 'steady, forwarding' : 'ingest alone'})`, `${f(half.latencyMs.p99, 2)} ms at ${f(half.rps)} req/s (${pct(of, 1)} of full)`, half.latencyMs.p99 <= 5, `by ${f(half.latencyMs.p99 - 5, 2)} ms`);
  }
  if (all && loader) {
    const ratio = all.sustainedPerSecond / loader.docsPerSecond;
    row('all mode sustained ≥ 90% of the direct loader (×8)', `${pct(all.sustainedPerSecond, loader.docsPerSecond)} (${f(all.sustainedPerSecond)} of ${f(loader.docsPerSecond)} docs/s)`, ratio >= 0.9, `by ${points(0.9 - ratio)}`);
  }
  if (all && fb) {
    const rate = all.sustainedPerSecond / fb.sustainedPerSecond;
    const cpu = all.cpuPerMessageUs / fb.cpuPerMessageUs;
    row('all mode sustained ≥ Fluent Bit\'s', `${f(rate, 2)}× (${f(all.sustainedPerSecond)} vs ${f(fb.sustainedPerSecond)} msg/s)`, rate >= 1, `at ${pct(rate, 1)} of it`);
    row('all mode CPU per message ≤ 1.5× Fluent Bit\'s', `${f(cpu, 1)}× (${f(all.cpuPerMessageUs, 1)} vs ${f(fb.cpuPerMessageUs, 1)} µs)`, cpu <= 1.5, `by ${f(cpu / 1.5, 1)}×`);
  } else if (all) notMeasured('all mode vs Fluent Bit', 'Fluent Bit not run (see Not run)');
  if (rxb.length) {
    const best = Math.max(...rxb);
    row('/rxb ≥ 500,000 msg/s durable', `${f(best)} msg/s (best /rxb row)`, best >= 500_000, `at ${pct(best, 500_000)} of it`);
  }
  if (b) row('RSS bounded and reported with a 10-million backlog', `${f(b.acked)} held: ${f(b.rssWhileHeldMiB)} MiB RSS (${f(b.anonRssWhileHeldMiB)} anonymous)`, b.acked >= 10_000_000 ? true : undefined);
  return ['## Targets (issue 9), read off this run', '', '| target | this run | verdict |', '| --- | --- | --- |', ...rows];
}

function chart(s) {
  const bars = Object.entries(s)
    .map(([name, x]) => [name, x.sustainedPerSecond ?? x.messagesPerSecond ?? x.docsPerSecond])
    .filter(([, v]) => v > 0);
  const max = Math.max(1, ...bars.map(([, v]) => v));
  const h = 28;
  const width = 1000;
  const rows = bars.map(([name, v], i) => {
    const w = Math.max(1, Math.round((v / max) * 440));
    const y = 30 + i * h;
    return `<text x="0" y="${y + 16}" font-size="12">${esc(name)}</text><rect x="430" y="${y + 4}" width="${w}" height="18" fill="#3b82f6"/><text x="${436 + w}" y="${y + 17}" font-size="12">${Math.round(v).toLocaleString('en-US')}/s</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${40 + bars.length * h}" font-family="sans-serif"><text x="0" y="16" font-size="14" font-weight="bold">messages (or documents) per second; steady rows: sustained</text>${rows.join('')}</svg>\n`;
}

const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
