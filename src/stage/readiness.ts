/**
 * Is Elasticsearch there? Pings it on an interval, installs the index
 * templates the first time it answers, and tells /in and /readyz why not
 * when it is not. Elasticsearch being away at start is a warning, not an exit.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { IndexPattern } from '../sinks/elasticsearch/index-name.js';
import { installTemplates } from '../sinks/elasticsearch/template.js';

export class EsReadiness {
  private reason: string | undefined = 'Elasticsearch not checked yet';
  private templatesInstalled: boolean;
  private timer: NodeJS.Timeout | undefined;
  private firstReadyFired = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
    private readonly opts: { index: string; dlqIndex: string; template: boolean; intervalMs?: number },
  ) {
    this.templatesInstalled = !opts.template;
  }

  /** Why Elasticsearch cannot take writes now, or undefined when it can. */
  get notReady(): string | undefined {
    return this.reason;
  }

  async start(): Promise<void> {
    await this.check();
    if (this.reason) this.log.warn({ reason: this.reason }, 'Elasticsearch not reachable at start; /in answers 503 until it is');
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Install the templates once; returns why not when that fails. */
  private async ensureTemplates(): Promise<string | undefined> {
    if (this.templatesInstalled) return undefined;
    try {
      await installTemplates(this.client, new IndexPattern(this.opts.index), new IndexPattern(this.opts.dlqIndex));
    } catch (e) {
      return `index templates not installed: ${(e as Error).message}`;
    }
    this.templatesInstalled = true;
    this.log.info({ index: this.opts.index, dlqIndex: this.opts.dlqIndex }, 'index templates installed');
    return undefined;
  }

  /** Called once, when Elasticsearch first answers and the templates are in place. */
  onFirstReady?: () => void;

  private async check(): Promise<void> {
    const before = this.reason;
    try {
      // Cluster health rather than ping (HEAD /) or info (GET /): the minimal
      // distributions answer those with 405.
      const health = await this.client.cluster.health({}, { requestTimeout: 3000 });
      if (health.status === 'red') {
        this.reason = 'Elasticsearch cluster health is red';
      } else {
        this.reason = await this.ensureTemplates();
      }
    } catch (e) {
      // Connection errors and HTTP errors alike: say which.
      const err = e as Error & { meta?: { statusCode?: number } };
      this.reason = `Elasticsearch unreachable: ${err.message || err.name}${err.meta?.statusCode ? ` (HTTP ${err.meta.statusCode})` : ''}`;
    }
    if (!this.reason && !this.firstReadyFired) {
      this.firstReadyFired = true;
      this.onFirstReady?.();
    }
    if (before && !this.reason) this.log.info('Elasticsearch reachable');
    if (!before && this.reason) this.log.warn({ reason: this.reason }, 'Elasticsearch lost');
  }
}
