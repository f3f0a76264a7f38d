/**
 * Operational GETs, the same on every role: /metrics (Prometheus text),
 * /stats (the same figures as JSON), /healthz (the process answers) and
 * /readyz (503 with the reason when new messages would be refused).
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import { exchange, send } from './http.js';

export interface OpsContext {
  registry: Registry;
  /** Why the daemon is not ready, or undefined. */
  notReady(): string | undefined;
  stats(): Promise<Record<string, unknown>>;
}

export function registerOpsRoutes(app: TemplatedApp, ctx: OpsContext): void {
  app.get('/healthz', (res) => send(exchange(res), 200, '{"status":"OK"}'));
  app.get('/readyz', (res) => {
    const reason = ctx.notReady();
    if (reason) send(exchange(res), 503, JSON.stringify({ status: 'FAIL', message: reason }));
    else send(exchange(res), 200, '{"status":"OK"}');
  });
  app.get('/metrics', (res) => {
    const ex = exchange(res);
    ctx.registry.metrics().then(
      (text) => send(ex, 200, text, ctx.registry.contentType),
      (e: Error) => send(ex, 500, JSON.stringify({ status: 'FAIL', message: e.message })),
    );
  });
  app.get('/stats', (res) => {
    const ex = exchange(res);
    ctx.stats().then(
      (stats) => send(ex, 200, JSON.stringify(stats)),
      (e: Error) => send(ex, 500, JSON.stringify({ status: 'FAIL', message: e.message })),
    );
  });
}
