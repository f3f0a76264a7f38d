// What the status page tests and the screenshot script share: a daemon
// with --ops-port, Debian's chromium driven by playwright-core (no browser
// download), and a WebSocket client for /status/ws.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { WebSocket } from 'undici';
import { MAIN, freePort, waitFor } from '../helpers/daemon.mjs';

/**
 * `spillway <role> --ops-port <free port> ...args` on free ports, ready once
 * the ops port answers /healthz (test/helpers/daemon.mjs waits on the main
 * port, where --ops-port leaves no /healthz). Returns { url, ops, child, logs(), kill() }.
 */
export async function startWithOpsPort(role, args = []) {
  const [port, opsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [MAIN, role, '--port', String(port), '--host', '127.0.0.1', '--ops-port', String(opsPort), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  const d = {
    url: `http://127.0.0.1:${port}`,
    ops: `http://127.0.0.1:${opsPort}`,
    child,
    logs: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitFor('the ops port', async () => {
      if (child.exitCode !== null) throw new Error(`spillway exited (${child.exitCode}):\n${out}`);
      return (await fetch(`${d.ops}/healthz`).catch(() => undefined))?.ok;
    }, { timeoutMs: 20_000, everyMs: 50 });
  } catch (e) {
    await d.kill();
    throw e;
  }
  return d;
}

export const CHROMIUM = process.env.SPILLWAY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Why the browser tests cannot run here, or undefined. Under CI the caller fails instead of skipping. */
export function chromiumMissing() {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install -y chromium)`;
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A page that records everything that would show as a problem in the
 * browser's console: console errors and warnings, uncaught exceptions,
 * failed requests and answers of 400 and above.
 */
export async function openPage(browser, url, { width = 1280, height = 1000 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.goto(url);
  return { page, problems };
}

/** What the page's charts hold now: each chart's series labels and its last values (read from the uPlot instances). */
export function chartState(page) {
  return page.evaluate(() => {
    const st = window.spillwayStatus;
    const out = { frames: st.frames, connected: st.connected, samples: st.samples.length, charts: {} };
    for (const [key, { chart }] of Object.entries(st.charts)) {
      const d = chart.data;
      out.charts[key] = {
        labels: chart.series.slice(1).map((s) => s.label),
        lastT: d[0][d[0].length - 1],
        points: d[0].length,
        last: d.slice(1).map((col) => col[col.length - 1]),
      };
    }
    out.outputs = [...document.querySelectorAll('#outputs tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent));
    out.figures = Object.fromEntries(['f-in', 'f-out', 'f-held'].map((id) => [id, document.getElementById(id).textContent]));
    return out;
  });
}

/**
 * Open /status/ws: { ws, frames (parsed), opened, closed } where opened
 * resolves on open (rejects on a failed handshake) and closed resolves with
 * { code, reason }.
 */
export function statusSocket(url, { headers } = {}) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/status/ws', headers ? { headers } : undefined);
  const frames = [];
  let onFrame = () => {};
  ws.addEventListener('message', (ev) => {
    frames.push(JSON.parse(ev.data));
    onFrame();
  });
  const opened = new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', (e) => reject(new Error(`status socket error: ${e.message ?? e.type}`)), { once: true });
  });
  opened.catch(() => {});
  const closed = new Promise((resolve) => ws.addEventListener('close', (ev) => resolve({ code: ev.code, reason: ev.reason }), { once: true }));
  /** The next frame that `match` accepts (searching those already received too), within `timeoutMs`. */
  const frame = (match, timeoutMs = 10_000) => new Promise((resolve, reject) => {
    const check = () => {
      const f = frames.find(match);
      if (f) {
        clearTimeout(t);
        onFrame = () => {};
        resolve(f);
      }
    };
    const t = setTimeout(() => reject(new Error('no matching frame in time')), timeoutMs);
    onFrame = check;
    check();
  });
  return { ws, frames, opened, closed, frame };
}
