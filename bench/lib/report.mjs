// Results → a Markdown report with ratios, an SVG bar chart, and a chart of
// throughput and latency over time.
import { timelineChart } from './timeline.mjs';
const f = (n, d = 0) => (n === undefined || Number.isNaN(n) ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
/** A shortfall as a share, in percentage points: "1 point", "40 points". */
const points = (share) => {
  const n = Math.max(1, Math.round(share * 100));
  return `${n} point${n === 1 ? '' : 's'}`;
};
const pct = (a, b) => (a && b ? `${Math.round((a / b) * 100)}%` : '–');

// { spillway: 0.6, elasticsearch: 1.1 } or { edge, beat, elasticsearch } → "0.60 / 1.10".
function cpuCell(c) {
  if (!c) return '–';
  const { elasticsearch, ...client } = c;
  const mine = Object.values(client).reduce((a, b) => a + b, 0);
  return `${f(mine, 2)} / ${f(elasticsearch, 2)}`;
}

export function renderReport(r) {
  const s = r.scenarios;
  const ceiling = s['ceiling: do-nothing uWebSockets.js'];
  const loader = s['ceiling: direct bulk loader'];
  const lines = [];
  lines.push(`# Spillway benchmark (${r.mode}), ${r.started}`, '');
  lines.push(`Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node}. Load: wrk, ${64} keep-alive connections unless noted; Elasticsearch on the same machine.`, '');
  lines.push('## Ingest (durable ack)', '');
  lines.push('| scenario | req/s | msg/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | non-2xx | daemon CPU (cores) | peak RSS MiB | anon RSS MiB | ÷ ceiling (req/s) |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, x] of Object.entries(s)) {
    if (x.rps === undefined) continue;
    const l = x.latencyMs;
    lines.push(`| ${name} | ${f(x.rps)} | ${f(x.messagesPerSecond)} | ${f(l.p50, 2)} | ${f(l.p90, 2)} | ${f(l.p99, 2)} | ${f(l.p999, 2)} | ${f(l.max, 1)} | ${x.non2xx + x.socketErrors} | ${f(x.cpuCores, 2)} | ${f(x.peakRssMiB)} | ${f(x.anonRssMiB)} | ${x === ceiling ? '100%' : pct(x.rps, ceiling?.rps)} |`);
  }
  lines.push('', '## Delivery into Elasticsearch', '');
  lines.push('The ceiling is the better of two loader runs, one before and one after Spillway\'s delivery runs.', '');
  lines.push('| scenario | messages | documents | exactly once | seconds | docs/s | ÷ direct loader | lag ack→searchable ms (mean / max) | RSS MiB | CPU cores (client / Elasticsearch) |');
  lines.push('| --- | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  // The loader ran before and after Spillway's runs; the better one is the ceiling.
  for (const [name, x] of Object.entries(s)) {
    if (!name.startsWith('ceiling: direct bulk loader (')) continue;
    lines.push(`| ${name} | ${f(x.total)} | ${f(x.total - x.failed)} | – | ${f(x.seconds, 1)} | ${f(x.docsPerSecond)} | ${pct(x.docsPerSecond, loader?.docsPerSecond)} | – | – | ${cpuCell(x.cpuCores)} |`);
  }
  if (loader && !loader.bestOf) lines.push(`| ceiling: direct bulk loader | ${f(loader.total)} | ${f(loader.total - loader.failed)} | – | ${f(loader.seconds, 1)} | ${f(loader.docsPerSecond)} | 100% | – | – | ${cpuCell(loader.cpuCores)} |`);
  for (const [name, x] of Object.entries(s)) {
    if (!name.startsWith('delivery') && !name.startsWith('backlog')) continue;
    const rss = x.rssMiB ?? x.peakRssWhileDrainingMiB;
    lines.push(`| ${name} | ${f(x.acked)} | ${f(x.docs)} | ${x.delivered ? 'yes' : '**NO**'} | ${f(x.seconds, 1)} | ${f(x.docsPerSecond)} | ${pct(x.docsPerSecond, loader?.docsPerSecond)} | ${x.lagMs ? `${f(x.lagMs.mean)} / ${f(x.lagMs.max)}` : '–'} | ${f(rss)} | ${cpuCell(x.cpuCores)} |`);
  }
  const b = s['backlog drain'];
  if (b) lines.push('', `Backlog: ${f(b.acked)} messages held on disk with Elasticsearch away; daemon RSS ${f(b.rssWhileHeldMiB)} MiB (of which anonymous ${f(b.anonRssWhileHeldMiB)} MiB; the rest is LMDB's memory map) while holding them, peak ${f(b.peakRssWhileDrainingMiB)} MiB while draining (anonymous ${f(b.peakAnonRssWhileDrainingMiB)} MiB).`);
  lines.push('', ...targets(r));
  if (Object.keys(r.notRun).length) {
    lines.push('', '## Not run', '');
    for (const [k, v] of Object.entries(r.notRun)) lines.push(`- ${k}: ${v}`);
  }
  const timelineSvg = r.timeline?.length ? timelineChart(r.timeline) : undefined;
  lines.push('', '![throughput](CHART)', '');
  if (timelineSvg) lines.push('![throughput and latency over time](TIMELINE)', '');
  return { markdown: lines.join('\n'), svg: chart(s), timelineSvg };
}

/**
 * Issue 4's targets read off this run: each with the figure, the target and
 * by how much it is met or missed. Never a failure: these machines are noisy.
 */
export function targets(r) {
  const s = r.scenarios;
  const ceiling = s['ceiling: do-nothing uWebSockets.js'];
  const rx = s['spillway /rx (300 B)'];
  const half = s['spillway /rx at about half rate'];
  const rxb = Object.entries(s).filter(([n]) => n.startsWith('spillway /rxb')).map(([, x]) => x.messagesPerSecond);
  const loader = s['ceiling: direct bulk loader'];
  const all = s['delivery: spillway all'];
  const b = s['backlog drain'];
  const rows = [];
  const row = (target, measured, met, by) => rows.push(`| ${target} | ${measured} | ${met === undefined ? 'not measured' : met ? 'met' : `**missed**${by ? `, ${by}` : ''}`} |`);
  if (rx && ceiling) {
    const ratio = rx.rps / ceiling.rps;
    row('/rx durable ≥ 70% of the do-nothing server', `${pct(rx.rps, ceiling.rps)} (${f(rx.rps)} of ${f(ceiling.rps)} req/s)`, ratio >= 0.7, `by ${points(0.7 - ratio)}`);
  }
  if (half) {
    row('/rx p99 ack ≤ 5 ms at half that rate', `${f(half.latencyMs.p99, 2)} ms at ${f(half.rps)} req/s (${pct(half.ofFullRate, 1)} of full)`, half.latencyMs.p99 <= 5, `by ${f(half.latencyMs.p99 - 5, 2)} ms`);
  }
  if (rxb.length) {
    const best = Math.max(...rxb);
    row('/rxb ≥ 500,000 msg/s durable', `${f(best)} msg/s (best /rxb row)`, best >= 500_000, `at ${pct(best, 500_000)} of it`);
  }
  if (all && loader) {
    const ratio = all.docsPerSecond / loader.docsPerSecond;
    row('all-mode delivery ≥ 90% of the direct loader', `${pct(all.docsPerSecond, loader.docsPerSecond)} (${f(all.docsPerSecond)} of ${f(loader.docsPerSecond)} docs/s)`, ratio >= 0.9, `by ${points(0.9 - ratio)}`);
  }
  row('≥ 10× Go rxtx durable, ≥ 2× async', r.notRun['peer: Go rxtx'] ? 'not run (see below)' : '–', undefined);
  if (b) row('RSS bounded and reported with a 10-million backlog', `${f(b.acked)} held: ${f(b.rssWhileHeldMiB)} MiB RSS (${f(b.anonRssWhileHeldMiB)} anonymous)`, b.acked >= 10_000_000 ? true : undefined);
  return ['## Targets (issue 4), read off this run', '', '| target | this run | verdict |', '| --- | --- | --- |', ...rows];
}

function chart(s) {
  const bars = Object.entries(s)
    .filter(([, x]) => !x.bestOf) // the best loader run is already a bar of its own
    .map(([name, x]) => [name, x.messagesPerSecond ?? x.docsPerSecond])
    .filter(([, v]) => v > 0);
  const max = Math.max(...bars.map(([, v]) => v));
  const h = 28;
  const width = 900;
  const rows = bars.map(([name, v], i) => {
    const w = Math.max(1, Math.round((v / max) * 480));
    const y = 30 + i * h;
    return `<text x="0" y="${y + 16}" font-size="12">${esc(name)}</text><rect x="330" y="${y + 4}" width="${w}" height="18" fill="#3b82f6"/><text x="${336 + w}" y="${y + 17}" font-size="12">${Math.round(v).toLocaleString('en-US')}/s</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${40 + bars.length * h}" font-family="sans-serif"><text x="0" y="16" font-size="14" font-weight="bold">messages (or documents) per second</text>${rows.join('')}</svg>\n`;
}

const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
