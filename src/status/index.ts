/**
 * The live status page (docs/operations.md, "Status page"): one sampler
 * ticking once per second whatever the number of open pages, a ring of the
 * last ten minutes for pages that open later, and the routes on the ops
 * listener (or the main one without --ops-port), like /stats.
 *
 * Cost without a page open: one sample a second (a few counter reads) kept
 * in the ring; nothing is serialised. With pages open: one JSON text a second
 * for all of them (app.publish). A page that opens reads the history once
 * over HTTP (/status/history: built and gzipped at most once a second,
 * whatever the number of pages opening), so every WebSocket frame stays small.
 */
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { TemplatedApp } from 'uWebSockets.js';
import { loadAssets } from './assets.js';
import { registerStatusRoutes, TOPIC } from './routes.js';
import { StatusSampler, type Sample, type StatusSources } from './sampler.js';

/** Ten minutes of one-second samples. */
export const HISTORY_SECONDS = 600;
/** Status sockets open at once; the next is closed with 1013. */
export const MAX_STATUS_SOCKETS = 1000;

export interface StatusOptions {
  corsOrigins: readonly string[];
  isClosing(): boolean;
  log: Logger;
  maxSockets?: number;
  historySeconds?: number;
}

export interface StatusPage {
  /** Stop sampling and close every status socket. */
  stop(): void;
}

export function startStatus(app: TemplatedApp, sources: StatusSources, opts: StatusOptions): StatusPage {
  const sampler = new StatusSampler(sources, opts.historySeconds ?? HISTORY_SECONDS);
  const hello = JSON.stringify({ type: 'hello', role: sources.role, name: sources.name, capacity: sampler.ring.capacity });
  // The history is serialised (and gzipped) at most once per second, however many pages open in it.
  let history: { t: number | undefined; json: Buffer; gzip?: Buffer } | undefined;
  const historyOf = (gzip: boolean) => {
    const t = sampler.ring.last()?.t;
    if (!history || history.t !== t) history = { t, json: Buffer.from(JSON.stringify(sampler.ring.toArray())) };
    if (gzip) history.gzip ??= gzipSync(history.json);
    return gzip ? history.gzip! : history.json;
  };

  let assets;
  try {
    assets = loadAssets();
  } catch (e) {
    // A build without the page's files still runs; /status says why it is missing.
    opts.log.error({ reason: (e as Error).message }, 'status page not served');
    const missing = (e as Error).message;
    app.get('/status', (res) => {
      res.cork(() => res.writeStatus('500 Internal Server Error').writeHeader('Content-Type', 'application/json')
        .end(JSON.stringify({ status: 'FAIL', message: missing })));
    });
  }
  const routes = assets
    ? registerStatusRoutes(app, {
      assets, hello, history: historyOf, maxSockets: opts.maxSockets ?? MAX_STATUS_SOCKETS,
      corsOrigins: opts.corsOrigins, isClosing: opts.isClosing,
    })
    : undefined;

  let busy = false;
  const tick = () => {
    if (busy) return; // a slow read never stacks ticks
    busy = true;
    sampler.tick().then(
      (s: Sample | undefined) => {
        busy = false;
        if (s && routes && routes.open > 0) app.publish(TOPIC, JSON.stringify({ type: 'sample', ...s }), false);
      },
      (e: Error) => {
        busy = false;
        opts.log.warn({ reason: e.message }, 'status sample failed');
      },
    );
  };
  tick();
  const timer = setInterval(tick, 1000);
  timer.unref();

  return {
    stop() {
      clearInterval(timer);
      routes?.closeAll();
    },
  };
}

export type { Sample, StatusSources } from './sampler.js';
