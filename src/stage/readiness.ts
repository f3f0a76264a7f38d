/**
 * Is an index server (Elasticsearch, OpenSearch) there? Checks its cluster
 * health on an interval, installs the index templates the first time it
 * answers, and says why not when it cannot take writes (for /readyz, /in's
 * 503 and /stats). The server being away at start is a warning and a
 * not-ready state, not an exit: the store keeps accepting, and delivery
 * starts when it answers.
 */
import type { Logger } from 'pino';
import type { Health } from '../sinks/types.js';

export interface IndexServer {
  /** "Elasticsearch", "OpenSearch": used in every reason and log line. */
  label: string;
  /** The cluster's health status (green, yellow, red); rejects when it does not answer. */
  clusterStatus(timeoutMs: number): Promise<string>;
  installTemplates(): Promise<void>;
}

/**
 * The Elasticsearch client's very first request never settles when the
 * server accepts the connection and closes it at once (a proxy or load
 * balancer whose backend is down), whatever its requestTimeout or signal;
 * later requests fail as they should. Without this bound, start() would
 * wait forever and the daemon would never listen.
 */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class IndexReadiness implements Health {
  private reason: string | undefined;
  private templatesInstalled: boolean;
  private timer: NodeJS.Timeout | undefined;
  private firstReadyFired = false;
  onFirstReady?: () => void;

  constructor(
    private readonly server: IndexServer,
    private readonly log: Logger | undefined,
    private readonly opts: { template: boolean; intervalMs?: number; what?: object },
  ) {
    this.templatesInstalled = !opts.template;
    this.reason = `${server.label} not checked yet`;
  }

  get notReady(): string | undefined {
    return this.reason;
  }

  async start(): Promise<void> {
    await this.check();
    if (this.reason) this.log?.warn({ reason: this.reason }, `${this.server.label} not reachable at start; not ready until it is`);
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async ensureTemplates(): Promise<string | undefined> {
    if (this.templatesInstalled) return undefined;
    try {
      await this.server.installTemplates();
    } catch (e) {
      return `${this.server.label} index templates not installed: ${(e as Error).message}`;
    }
    this.templatesInstalled = true;
    this.log?.info(this.opts.what ?? {}, `${this.server.label} index templates installed`);
    return undefined;
  }

  private async check(): Promise<void> {
    const before = this.reason;
    try {
      // Cluster health rather than ping (HEAD /) or info (GET /): the minimal
      // distributions answer those with 405.
      const status = await withTimeout(this.server.clusterStatus(3000), 4000);
      this.reason = status === 'red' ? `${this.server.label} cluster health is red` : await this.ensureTemplates();
    } catch (e) {
      const err = e as Error & { meta?: { statusCode?: number } };
      this.reason = `${this.server.label} unreachable: ${err.message || err.name}${err.meta?.statusCode ? ` (HTTP ${err.meta.statusCode})` : ''}`;
    }
    if (!this.reason && !this.firstReadyFired) {
      this.firstReadyFired = true;
      this.onFirstReady?.();
    }
    if (before && !this.reason) this.log?.info(`${this.server.label} reachable`);
    if (!before && this.reason) this.log?.warn({ reason: this.reason }, `${this.server.label} lost`);
  }
}
