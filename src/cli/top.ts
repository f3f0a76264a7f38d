/**
 * spillway top URL...: the figures an operator watches, in a terminal, one
 * row per daemon (a fleet view), refreshed every second from each daemon's
 * GET /stats. Rates are the difference of two readings of a counter over the
 * time between them, so `top` changes nothing on the daemon (any number of
 * them may watch). A daemon that does not answer keeps its row and says why.
 * Plain ANSI: the screen is redrawn in place; q or Ctrl-C quits.
 */
import { parseArgs } from 'node:util';

interface Percentiles { count: number; p99: number }
interface Stats {
  role: string;
  name: string;
  ready: boolean;
  notReady?: string;
  outputs?: Record<string, { ready?: boolean; reason?: string; requestFailures?: number }>;
  edge?: {
    received: number; refused: number; txMessages: number; txFails: number; inQueue: number; maxq: number;
    oldestAgeSeconds: number; ackLatencyMs: Percentiles; ackLatencyLastSecondMs: Percentiles;
  };
  stage?: { messagesParsed: number; indexed: number; timeouts: number };
}

/** One reading of one daemon. */
interface Reading { at: number; stats?: Stats; error?: string }

export interface Row {
  url: string;
  error?: string;
  role?: string;
  inRate?: number;
  outRate?: number;
  p99AckMs?: number;
  backlog?: number;
  oldestSeconds?: number;
  /** Seconds to deliver the backlog at the current out rate (undefined: nothing goes out). */
  lagSeconds?: number;
  refusedRate?: number;
  outputs?: string;
}

const HELP = `Usage: spillway top [--interval SECONDS] [--once] URL...

A live view of one or more running Spillway daemons, one row per daemon,
read from each URL's /stats every --interval seconds (default 1).

  URL          the daemon's base URL (its --ops-port when it has one), e.g. http://edge-1:8080
  --interval   seconds between readings (default 1)
  --once       print two readings --interval apart as plain text and exit (for scripts)

Columns: in/s (messages stored or, on a beat, received), out/s (delivered),
p99 ack (ms, over the last second), backlog (messages held), oldest (age of
the oldest held message), lag (backlog / out/s: time to catch up), refused/s,
outputs (each output's health; "tx failing" when an edge's sends fail).
q or Ctrl-C quits.`;

async function read(url: string, timeoutMs: number): Promise<Reading> {
  const at = Date.now();
  try {
    const r = await fetch(new URL('/stats', url), { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return { at, error: `HTTP ${r.status}` };
    return { at, stats: (await r.json()) as Stats };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === 'TimeoutError' ? 'no answer in time' : err.cause?.code ?? err.cause?.message ?? err.message;
    return { at, error: `unreachable: ${why}` };
  }
}

/** The row of `url` from two readings (`before` may be missing or failed: no rates yet). */
export function row(url: string, before: Reading | undefined, now: Reading): Row {
  if (!now.stats) return { url, error: now.error ?? 'no answer' };
  const s = now.stats;
  const p = before?.stats;
  const secs = before ? (now.at - before.at) / 1000 : 0;
  const rate = (f: (x: Stats) => number | undefined): number | undefined => {
    if (!p || secs <= 0) return undefined;
    const a = f(p);
    const b = f(s);
    return a === undefined || b === undefined ? undefined : Math.max(0, (b - a) / secs);
  };
  const inOf = (x: Stats) => x.edge?.received ?? x.stage?.messagesParsed;
  const outOf = (x: Stats) => x.edge?.txMessages ?? x.stage?.indexed;
  const out = rate(outOf);
  const last = s.edge?.ackLatencyLastSecondMs;
  const health: string[] = [];
  for (const [name, o] of Object.entries(s.outputs ?? {})) {
    if (o.ready === false) health.push(`${name} DOWN${o.reason ? ` (${o.reason})` : ''}`);
    else if (o.ready === true) health.push(`${name} ok`);
  }
  const txFails = rate((x) => x.edge?.txFails);
  if (s.role === 'edge') health.push(txFails ? `tx failing ${fmtRate(txFails)}/s` : 'tx ok');
  if (!s.ready && s.notReady) health.push(`not ready: ${s.notReady}`);
  const backlog = s.edge?.inQueue;
  return {
    url,
    role: s.role,
    inRate: rate(inOf),
    outRate: out,
    p99AckMs: last && last.count > 0 ? last.p99 : undefined,
    backlog,
    oldestSeconds: s.edge?.oldestAgeSeconds,
    lagSeconds: backlog === undefined ? undefined : backlog === 0 ? 0 : out ? backlog / out : undefined,
    refusedRate: rate((x) => x.edge?.refused),
    outputs: health.join(', '),
  };
}

function fmtRate(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n >= 10_000) return `${(n / 1000).toFixed(0)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return n.toFixed(0);
}

function fmtCount(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}

export function fmtSeconds(s: number | undefined): string {
  if (s === undefined) return '-';
  if (s < 1) return s === 0 ? '0s' : '<1s';
  if (s < 120) return `${s.toFixed(0)}s`;
  if (s < 7200) return `${(s / 60).toFixed(0)}m`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(1)}d`;
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

const COLUMNS: [string, number][] = [
  ['daemon', 0], ['role', 5], ['in/s', 7], ['out/s', 7], ['p99 ack ms', 10], ['backlog', 8], ['oldest', 7],
  ['lag', 6], ['refused/s', 9], ['outputs', 0],
];

/** The frame: a title, a header and one line per row (plus a fleet total for several daemons), at most `width` wide. */
export function render(rows: Row[], width: number, at = new Date()): string[] {
  const urlWidth = Math.min(40, Math.max(6, ...rows.map((r) => r.url.length)));
  const cells = (r: Row): string[] => [
    r.url, r.role ?? '', fmtRate(r.inRate), fmtRate(r.outRate), fmtMs(r.p99AckMs), fmtCount(r.backlog),
    fmtSeconds(r.oldestSeconds), fmtSeconds(r.lagSeconds), fmtRate(r.refusedRate), r.outputs ?? '',
  ];
  const line = (values: string[]) => values.map((v, i) => {
    const w = i === 0 ? urlWidth : COLUMNS[i]![1];
    if (i === 0) return v.length > w ? '…' + v.slice(v.length - w + 1) : v.padEnd(w);
    return w ? v.padStart(w) : v;
  }).join('  ').slice(0, width);
  const up = rows.filter((r) => !r.error);
  const out = [
    `spillway top — ${at.toISOString().slice(11, 19)} UTC — ${up.length}/${rows.length} answering — q quits`,
    '',
    line(COLUMNS.map(([h]) => h)),
  ];
  for (const r of rows) out.push(r.error ? line([r.url, '', r.error]).replace(/\s+$/, '') : line(cells(r)));
  if (rows.length > 1) {
    const sum = (f: (r: Row) => number | undefined) => {
      const v = up.map(f).filter((x): x is number => x !== undefined);
      return v.length ? v.reduce((a, b) => a + b, 0) : undefined;
    };
    const max = (f: (r: Row) => number | undefined) => {
      const v = up.map(f).filter((x): x is number => x !== undefined);
      return v.length ? Math.max(...v) : undefined;
    };
    out.push(line([
      'fleet', '', fmtRate(sum((r) => r.inRate)), fmtRate(sum((r) => r.outRate)), fmtMs(max((r) => r.p99AckMs)),
      fmtCount(sum((r) => r.backlog)), fmtSeconds(max((r) => r.oldestSeconds)), fmtSeconds(max((r) => r.lagSeconds)),
      fmtRate(sum((r) => r.refusedRate)), `${rows.length - up.length} unreachable`,
    ]));
  }
  return out;
}

export async function runTop(argv: string[]): Promise<number> {
  let values;
  let urls: string[];
  try {
    const parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: { interval: { type: 'string', default: '1' }, once: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
    values = parsed.values;
    urls = parsed.positionals;
  } catch (e) {
    process.stderr.write(`spillway top: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const interval = Number(values.interval);
  if (!(interval >= 0.1)) {
    process.stderr.write(`spillway top: --interval ${values.interval} is not a number of seconds (0.1 or more)\n`);
    return 2;
  }
  if (urls.length === 0) {
    process.stderr.write('spillway top: give at least one URL (spillway top --help)\n');
    return 2;
  }
  for (const u of urls) {
    try {
      const p = new URL(u);
      if (p.protocol !== 'http:' && p.protocol !== 'https:') throw new Error();
    } catch {
      process.stderr.write(`spillway top: "${u}" is not an http(s) URL\n`);
      return 2;
    }
  }
  const timeoutMs = Math.max(100, interval * 800);
  const readAll = () => Promise.all(urls.map((u) => read(u, timeoutMs)));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  if (values.once) {
    const before = await readAll();
    await sleep(interval * 1000);
    const now = await readAll();
    process.stdout.write(render(urls.map((u, i) => row(u, before[i], now[i]!)), 1000).join('\n') + '\n');
    return now.every((r) => r.stats) ? 0 : 1;
  }

  const tty = process.stdout.isTTY === true;
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', (d: Buffer) => {
      if (d.includes(0x71) || d.includes(0x03)) stop(); // q, Ctrl-C
    });
  }
  if (tty) process.stdout.write('\x1b[?25l\x1b[2J'); // hide the cursor, clear
  let previous: Reading[] = [];
  try {
    while (!stopped) {
      const t0 = Date.now();
      const now = await readAll();
      const rows = urls.map((u, i) => row(u, previous[i], now[i]!));
      // A failed reading does not replace the last good one: the next good one then rates over the gap.
      previous = now.map((r, i) => (r.stats ? r : previous[i] ?? r));
      const frame = render(rows, tty ? process.stdout.columns || 120 : 1000);
      if (tty) process.stdout.write('\x1b[H' + frame.map((l) => l + '\x1b[K').join('\n') + '\x1b[J');
      else process.stdout.write(frame.join('\n') + '\n\n');
      const wait = interval * 1000 - (Date.now() - t0);
      for (let waited = 0; waited < wait && !stopped; waited += 50) await sleep(Math.min(50, wait - waited));
    }
  } finally {
    if (tty) process.stdout.write('\x1b[?25h\n');
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }
  return 0;
}
