/**
 * The Logstash output: build(config) → { sink, health }. Ready while at
 * least one of --logstash-hosts accepts a connection (and its TLS handshake),
 * checked at start and every 5 s from the main thread.
 */
import type { Config } from '../../config/options.js';
import type { OutputContext, OutputDef } from '../output.js';
import type { BuiltOutput, Health } from '../types.js';
import { LumberjackConnection, type LumberjackOptions } from './lumberjack.js';
import { logstashOptions, logstashTlsFiles, parseHost } from './options.js';
import { LogstashSink } from './sink.js';

const CHECK_EVERY_MS = 5000;

class LogstashHealth implements Health {
  notReady: string | undefined = 'logstash output: not checked yet';
  onFirstReady?: () => void;
  private timer: NodeJS.Timeout | undefined;
  private fired = false;
  constructor(private readonly targets: LumberjackOptions[], private readonly log: OutputContext['log']) {}

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const errors: string[] = [];
    for (const t of this.targets) {
      try {
        (await LumberjackConnection.connect({ ...t, timeoutMs: Math.min(t.timeoutMs, CHECK_EVERY_MS) })).close();
        errors.length = 0;
        break;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    const was = this.notReady;
    this.notReady = errors.length > 0 ? `logstash output: no host reachable: ${errors.join('; ')}` : undefined;
    if (this.notReady !== was && this.notReady) this.log?.warn({ output: 'logstash' }, this.notReady);
    if (this.notReady === undefined && was !== undefined && this.fired) this.log?.info({ output: 'logstash' }, 'logstash output: reachable again');
    if (!this.notReady && !this.fired) {
      this.fired = true;
      this.onFirstReady?.();
    }
  }
}

export const logstash: OutputDef = {
  ...logstashOptions,
  build(c: Config, ctx: OutputContext): BuiltOutput {
    const hosts = c.logstashHosts.map(parseHost);
    const tls = logstashTlsFiles(c);
    const timeoutMs = c.logstashTimeoutMs ?? Math.round(c.logstashTimeout * 1000);
    const sink = new LogstashSink({
      hosts, loadbalance: c.logstashLoadbalance, workers: c.logstashWorkers, windowSize: c.logstashWindowSize,
      compressionLevel: c.logstashCompressionLevel, timeoutMs, tls, index: c.logstashIndex,
      clientIp: ctx.clientIp, retryCapMs: c.ms.retryMax, events: ctx.events,
    });
    const health = new LogstashHealth(hosts.map((h) => ({ ...h, tls, timeoutMs, compressionLevel: 0 })), ctx.log);
    return { sink, health };
  },
};
