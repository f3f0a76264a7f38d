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

  private async check(): Promise<void> {
    const before = this.reason;
    try {
      // Cluster health rather than ping (HEAD /) or info (GET /): the minimal
      // distributions answer those with 405.
      await this.client.cluster.health({}, { requestTimeout: 3000 });
      if (!this.templatesInstalled) {
        await installTemplates(this.client, new IndexPattern(this.opts.index), new IndexPattern(this.opts.dlqIndex));
        this.templatesInstalled = true;
        this.log.info({ index: this.opts.index, dlqIndex: this.opts.dlqIndex }, 'index templates installed');
      }
      this.reason = undefined;
    } catch (e) {
      const err = e as Error & { meta?: { statusCode?: number } };
      this.reason = `Elasticsearch unreachable: ${err.message || err.name}${err.meta?.statusCode ? ` (HTTP ${err.meta.statusCode})` : ''}`;
    }
    if (before && !this.reason) this.log.info('Elasticsearch reachable');
    if (!before && this.reason) this.log.warn({ reason: this.reason }, 'Elasticsearch lost');
  }
}
