// Throughput and latency over time: a sampler that reads a daemon's /stats
// once a second while a scenario runs, and an SVG chart of all the samples
// of a bench run. The rates are differences of the daemon's own counters
// (messages stored, messages forwarded), the latency is its ack p99 over the
// last whole second, so the chart shows what the server saw, not wrk.
import { request } from 'undici';

/**
 * Sample `url`'s /stats every `everyMs` into `into` (an array), labelled
 * `scenario`, with t in seconds since `origin` (performance.now() ms).
 * Returns stop(), which resolves after the last sample. A failed poll is
 * skipped: a gap in the chart, not a failed bench.
 */
export function sampleStats(url, scenario, into, origin, everyMs = 1000) {
  let previous;
  let stopped = false;
  const poll = async () => {
    try {
      const s = await request(`${url}/stats`, { headersTimeout: everyMs * 2 }).then((r) => r.body.json());
      const now = performance.now();
      const edge = s.edge;
      if (edge && previous) {
        const dt = (now - previous.at) / 1000;
        into.push({
          t: Math.round(((now - origin) / 1000) * 10) / 10,
          scenario,
          storedPerSecond: Math.max(0, (edge.received - previous.received) / dt),
          forwardedPerSecond: Math.max(0, (edge.txMessages - previous.txMessages) / dt),
          ackP99Ms: edge.ackLatencyLastSecondMs?.count ? edge.ackLatencyLastSecondMs.p99 : undefined,
        });
      }
      if (edge) previous = { at: now, received: edge.received, txMessages: edge.txMessages };
    } catch {
      // the daemon is busy or restarting: leave a gap
    }
  };
  // stop() cancels the sleep between polls, so a scenario's clock, read
  // after stop(), is not rounded up to the next poll (issue 15 item 12);
  // better still, scenarios read their clock before they stop the sampler.
  let wake = () => {};
  let timer;
  const loop = (async () => {
    while (!stopped) {
      const next = performance.now() + everyMs;
      await poll();
      if (stopped) break;
      await new Promise((r) => {
        wake = r;
        timer = setTimeout(r, Math.max(0, next - performance.now()));
      });
    }
  })();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    wake();
    await loop;
  };
}

const W = 960;
const LABEL_ROOM = 190; // below the plots, for the scenario names written downwards
const LEFT = 70;
const PLOT = W - LEFT - 20;

/** Two panels over one time axis: messages/s (stored, forwarded) and ack p99. */
export function timelineChart(samples) {
  if (!samples.length) return undefined;
  const tMax = Math.max(...samples.map((s) => s.t));
  const x = (t) => LEFT + (t / tMax) * PLOT;
  const rateMax = niceMax(Math.max(...samples.flatMap((s) => [s.storedPerSecond, s.forwardedPerSecond])));
  const p99s = samples.map((s) => s.ackP99Ms).filter((v) => v !== undefined);
  const p99Max = niceMax(p99s.length ? quantile(p99s, 0.98) : 1); // a lone spike should not flatten the rest
  const top = { y: 40, h: 220 };
  const bottom = { y: 320, h: 160 };
  const parts = [];
  parts.push(`<text x="0" y="16" font-size="14" font-weight="bold">over time: what the daemon stored and forwarded per second, and its ack p99 over the last second</text>`);
  parts.push(...bands(samples, x, top.y, bottom.y + bottom.h - top.y));
  parts.push(...axes(top, rateMax, 'msg/s'), ...axes(bottom, p99Max, 'p99 ms'));
  parts.push(line(samples, x, (s) => s.storedPerSecond, top, rateMax, '#2563eb'));
  parts.push(line(samples, x, (s) => s.forwardedPerSecond, top, rateMax, '#16a34a'));
  parts.push(line(samples, x, (s) => s.ackP99Ms, bottom, p99Max, '#dc2626'));
  parts.push(`<text x="${LEFT}" y="${top.y - 6}" font-size="11" fill="#2563eb">stored</text><text x="${LEFT + 50}" y="${top.y - 6}" font-size="11" fill="#16a34a">forwarded</text>`);
  parts.push(`<text x="${LEFT}" y="${bottom.y - 6}" font-size="11" fill="#dc2626">ack p99 (clipped at ${fmt(p99Max)} ms)</text>`);
  parts.push(`<text x="${LEFT + PLOT}" y="${bottom.y + bottom.h + 14}" font-size="11" text-anchor="end">${Math.round(tMax)} s since the bench started</text>`);
  const height = bottom.y + bottom.h + LABEL_ROOM;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif">${parts.join('')}</svg>\n`;
}

// Shaded spans, one per scenario, named at their foot.
function bands(samples, x, y, h) {
  const spans = [];
  for (const s of samples) {
    const last = spans.at(-1);
    if (last?.scenario === s.scenario) last.to = s.t;
    else spans.push({ scenario: s.scenario, from: Math.max(0, s.t - 1), to: s.t });
  }
  return spans.map((sp, i) => {
    const x0 = x(sp.from);
    const w = Math.max(1, x(sp.to) - x0);
    const label = `<text transform="translate(${x0 + w / 2 - 3},${y + h + 22}) rotate(90)" font-size="10" fill="#333">${esc(sp.scenario)}</text>`;
    return `<rect x="${x0}" y="${y}" width="${w}" height="${h}" fill="${i % 2 ? '#f3f4f6' : '#e5e7eb'}"/>${label}`;
  });
}

function axes({ y, h }, max, unit) {
  const ticks = [0, 0.5, 1].map((f) => {
    const ty = y + h - f * h;
    return `<line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${ty}" y2="${ty}" stroke="#ccc"/><text x="${LEFT - 4}" y="${ty + 4}" font-size="10" text-anchor="end">${fmt(max * f)}</text>`;
  });
  return [...ticks, `<text x="${LEFT - 4}" y="${y - 6}" font-size="10" text-anchor="end">${unit}</text>`];
}

function line(samples, x, value, { y, h }, max, colour) {
  // A new scenario, a missing value or a gap of more than 3 s starts a new
  // run of the line: nothing was measured in between.
  let d = '';
  let prev;
  for (const s of samples) {
    const v = value(s);
    if (v === undefined) {
      prev = undefined;
      continue;
    }
    const py = y + h - (Math.min(v, max) / max) * h;
    const joined = prev && prev.scenario === s.scenario && s.t - prev.t <= 3;
    d += `${joined ? 'L' : 'M'}${x(s.t).toFixed(1)},${py.toFixed(1)}`;
    prev = s;
  }
  return `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v);
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const fmt = (n) => (n >= 1000 ? `${Math.round(n / 1000)}k` : `${Math.round(n * 10) / 10}`);
const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
