/**
 * Every output's events, counted in one place on the main thread: the beat
 * stage's sinks call events(name) directly; forwarder threads post
 * {type:'sink', output, event} reports that relay() applies. Each event
 * counts per output (spillway_output_*{output}) and into the rtbeat_*
 * totals that dashboards built for rtbeat read.
 */
import client from 'prom-client';
import type { SinkEventName, SinkEvents } from '../sinks/types.js';
import { Latency } from './latency.js';
import { DELIVERY_BUCKETS, type StageMetrics } from './registry.js';
import type { Health } from '../sinks/types.js';

export interface OutputCounts {
  requests: number;
  requestFailures: number;
  delivered: number;
  retried: number;
  deadLettered: number;
  requestLatency: Latency;
}

export class OutputMetrics {
  private readonly counts = new Map<string, OutputCounts>();
  private readonly counter: client.Counter<'output' | 'event'>;
  private readonly latency: client.Histogram<'output'>;

  constructor(registry: client.Registry, names: readonly string[], private readonly stage?: StageMetrics) {
    this.counter = new client.Counter({
      name: 'spillway_output_events_total',
      help: 'Per output: requests, request_failures, delivered, retried and dead_lettered messages',
      labelNames: ['output', 'event'],
      registers: [registry],
    });
    this.latency = new client.Histogram({
      name: 'spillway_output_request_seconds',
      help: 'Per output: latency of one request (a _bulk, a produce, a file write)',
      labelNames: ['output'],
      buckets: DELIVERY_BUCKETS,
      registers: [registry],
    });
    for (const n of names) {
      this.counts.set(n, { requests: 0, requestFailures: 0, delivered: 0, retried: 0, deadLettered: 0, requestLatency: new Latency() });
    }
  }

  private of(name: string): OutputCounts {
    let c = this.counts.get(name);
    if (!c) {
      c = { requests: 0, requestFailures: 0, delivered: 0, retried: 0, deadLettered: 0, requestLatency: new Latency() };
      this.counts.set(name, c);
    }
    return c;
  }

  /** Apply one event of output `name`. */
  relay(name: string, event: SinkEventName, n: number, ms = 0): void {
    const c = this.of(name);
    const s = this.stage;
    switch (event) {
      case 'request':
        c.requests++;
        c.requestLatency.recordMs(ms);
        this.counter.inc({ output: name, event: 'requests' });
        this.latency.observe({ output: name }, ms / 1000);
        s?.bulkRequests.inc();
        s?.bulkLatency.recordMs(ms);
        if (n > 0) s?.bulkItems.observe(n);
        break;
      case 'requestFailed':
        c.requestFailures++;
        this.counter.inc({ output: name, event: 'request_failures' });
        s?.bulkFailures.inc();
        break;
      case 'delivered':
        if (n <= 0) return;
        c.delivered += n;
        this.counter.inc({ output: name, event: 'delivered' }, n);
        s?.addIndexed(n);
        break;
      case 'retried':
        if (n <= 0) return;
        c.retried += n;
        this.counter.inc({ output: name, event: 'retried' }, n);
        s?.retried.inc(n);
        break;
      case 'deadLettered':
        if (n <= 0) return;
        c.deadLettered += n;
        this.counter.inc({ output: name, event: 'dead_lettered' }, n);
        s?.deadLettered.inc(n);
        break;
    }
  }

  /** SinkEvents that count for output `name` (the beat stage's sinks, in this thread). */
  events(name: string): Required<SinkEvents> {
    return {
      request: (ms, items) => this.relay(name, 'request', items, ms),
      requestFailed: () => this.relay(name, 'requestFailed', 0),
      delivered: (n) => this.relay(name, 'delivered', n),
      retried: (n) => this.relay(name, 'retried', n),
      deadLettered: (n) => this.relay(name, 'deadLettered', n),
    };
  }

  snapshot(): Record<string, object> {
    const out: Record<string, object> = {};
    for (const [name, c] of this.counts) {
      out[name] = {
        requests: c.requests, requestFailures: c.requestFailures, delivered: c.delivered, retried: c.retried,
        deadLettered: c.deadLettered, requestLatencyMs: c.requestLatency.snapshot(),
      };
    }
    return out;
  }
}

/** The same events posted from a forwarder thread: one `post` per event, tagged with the output. */
export function postedEvents(
  name: string,
  post: (m: { type: 'sink'; output: string; event: SinkEventName; n: number; ms?: number }) => void,
): Required<SinkEvents> {
  return {
    request: (ms, items) => post({ type: 'sink', output: name, event: 'request', n: items, ms }),
    requestFailed: () => post({ type: 'sink', output: name, event: 'requestFailed', n: 0 }),
    delivered: (n) => n > 0 && post({ type: 'sink', output: name, event: 'delivered', n }),
    retried: (n) => n > 0 && post({ type: 'sink', output: name, event: 'retried', n }),
    deadLettered: (n) => n > 0 && post({ type: 'sink', output: name, event: 'deadLettered', n }),
  } as Required<SinkEvents>;
}

/**
 * spillway_ready (1 when /readyz would answer 200) and spillway_output_up{output}
 * (1 when the output's health check passes), read at scrape time from the
 * same state /readyz and /stats read.
 */
export function registerHealthGauges(
  registry: client.Registry, notReady: () => string | undefined, health: ReadonlyMap<string, Health>,
): void {
  new client.Gauge({
    name: 'spillway_ready', help: '1 when /readyz answers 200, else 0', registers: [registry],
    collect() {
      this.set(notReady() === undefined ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'spillway_output_up', help: "1 when the output's health check passes, else 0", labelNames: ['output'],
    registers: [registry],
    collect() {
      for (const [name, h] of health) this.set({ output: name }, h.notReady === undefined ? 1 : 0);
    },
  });
}
