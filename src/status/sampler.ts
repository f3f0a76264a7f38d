/**
 * The status page's figures, sampled once per second for every open page
 * (never per page): rates are counter deltas over the measured interval,
 * latencies are the last whole second's percentiles (metrics/latency.ts),
 * the backlog is the store's exact per-shard count, and each shard's lag is
 * the age of its oldest held message (the store samples it every second).
 *
 * It only reads: the counters, the store's view and the outputs' health that
 * /stats reads too. Nothing here resets or changes what /metrics reports.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import type { Latency, Percentiles } from '../metrics/latency.js';
import type { OutputMetrics } from '../metrics/outputs.js';
import type { EdgeMetrics, StageMetrics } from '../metrics/registry.js';
import type { Health } from '../sinks/types.js';
import type { StoreState } from '../store/state.js';
import { Ring } from './ring.js';

/** One output's second. `up`: its health check passes (true), fails (false), or, without a check, how its last attempts went (null: none yet). */
export interface OutputSample {
  up: boolean | null;
  /** Why it is down (the health check's reason, or "deliveries failing"). */
  reason?: string;
  /** Messages delivered per second. */
  rate: number;
  /** Failed requests (or batch attempts) per second. */
  failed: number;
  /** Messages retried per second (index outputs: 429s, 5xx items). */
  retried: number;
}

/** One second of the daemon. Rates are per second; latencies in ms; ages in s. */
export interface Sample {
  /** Unix time in seconds at which the sample was taken. */
  t: number;
  /** Messages accepted: acknowledged /rx* (edge, all), parsed from /in (beat). */
  in: number;
  /** Messages delivered: to the next hop (edge), into the outputs (all, beat). */
  out: number;
  /** [p50, p99] of the acknowledgement latency over the last whole second, or null when nothing was acknowledged in it. */
  ack: [number, number] | null;
  /** [p50, p99] of one delivery request over the last whole second (edge, all: a batch to the next hop; beat: an output request), or null. */
  tx: [number, number] | null;
  /** Messages held (edge, all: on disk; beat: waiting for the outputs' acknowledgement). */
  held: number;
  /** Messages held per shard (empty on a beat). */
  shards: number[];
  /** Age in seconds of each shard's oldest held message (0: the shard is empty). */
  ages: number[];
  /** The oldest held message's age in seconds: how far behind delivery is. */
  age: number;
  outputs: Record<string, OutputSample>;
  /** Requests refused per second, by reason (every reason refused at least once since start). */
  refused: Record<string, number>;
  ready: boolean;
  notReady?: string;
}

/** What the sampler reads: the parts cli/daemon.ts started (each absent in the roles without it). */
export interface StatusSources {
  role: 'all' | 'edge' | 'beat';
  name: string;
  outputNames: readonly string[];
  registry: Registry;
  notReady(): string | undefined;
  store?: { state: StoreState; metrics: EdgeMetrics };
  stage?: StageMetrics;
  outputs: OutputMetrics;
  health: ReadonlyMap<string, Health>;
}

/** Counted totals at one instant; a sample is the difference of two. */
interface Totals {
  at: number;
  in: number;
  out: number;
  outputs: Map<string, { delivered: number; failed: number; retried: number }>;
  refused: Map<string, number>;
  /** Beat: messages waiting for the outputs' acknowledgement. */
  waiting: number;
}

/**
 * Refusals, read from the registry by name: every /rx* and /in refusal by
 * reason (front/intake.ts) when the build counts them there; else the edge's
 * *_refused_requests plus the token and rate refusals counted apart.
 */
const INTAKE_REFUSED = 'spillway_intake_refused_requests';
const SECURITY_REFUSED = 'spillway_security_refused_requests';

async function sumOf(metric: Pick<Counter, 'get'> | Pick<Gauge, 'get'>): Promise<number> {
  let n = 0;
  for (const v of (await metric.get()).values) n += v.value;
  return n;
}

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
/** Three significant digits: enough for a chart, small on the wire. */
const sig3 = (x: number) => (x === 0 ? 0 : Number(x.toPrecision(3)));
const pair = (p: Percentiles): [number, number] | null => (p.count === 0 ? null : [sig3(p.p50), sig3(p.p99)]);
const lastSecond = (l: Latency | undefined) => (l ? pair(l.lastSecond()) : null);

export class StatusSampler {
  readonly ring: Ring<Sample>;
  private previous?: Totals;
  /** Per output without a health check: did its last active second fail? */
  private readonly lastOutcome = new Map<string, boolean>();

  constructor(private readonly src: StatusSources, capacity = 600, private readonly now: () => number = Date.now) {
    this.ring = new Ring<Sample>(capacity);
  }

  /** Read the totals now; from the second call on, push and return the sample since the previous call. */
  async tick(): Promise<Sample | undefined> {
    const totals = await this.totals();
    const before = this.previous;
    this.previous = totals;
    if (!before) return undefined;
    const sample = this.sampleOf(before, totals);
    this.ring.push(sample);
    return sample;
  }

  private async totals(): Promise<Totals> {
    const { store, stage } = this.src;
    const outputs = new Map<string, { delivered: number; failed: number; retried: number }>();
    if (this.src.role === 'edge' && store) {
      // The edge has one next hop (the stage, or --ingest's list); its forwarders count it.
      outputs.set('stage', {
        delivered: await sumOf(store.metrics.txMessages), failed: await sumOf(store.metrics.txFails), retried: 0,
      });
    } else {
      const snap = this.src.outputs.snapshot() as Record<string, { delivered: number; requestFailures: number; retried: number }>;
      for (const name of this.src.outputNames) {
        const c = snap[name];
        outputs.set(name, { delivered: c?.delivered ?? 0, failed: c?.requestFailures ?? 0, retried: c?.retried ?? 0 });
      }
    }
    const refused = new Map<string, number>();
    const add = (reason: string, n: number) => n > 0 && refused.set(reason, (refused.get(reason) ?? 0) + n);
    const intake = this.src.registry.getSingleMetric(INTAKE_REFUSED);
    if (intake) {
      for (const v of (await intake.get()).values) add(String(v.labels.reason), v.value);
    } else {
      if (store) for (const v of (await store.metrics.refused.get()).values) add(String(v.labels.reason), v.value);
      const security = this.src.registry.getSingleMetric(SECURITY_REFUSED);
      if (security) for (const v of (await security.get()).values) add(String(v.labels.reason), v.value);
    }
    // A beat's /in batch answered 504: taken, but not acknowledged in time (the edge sends it again).
    if (stage) add('timeout', await sumOf(stage.timeouts));
    return {
      at: this.now(),
      in: store ? await sumOf(store.metrics.received) : stage ? await sumOf(stage.messagesParsed) : 0,
      // All mode: what left the store (each message once, whatever the number of outputs).
      out: store ? await sumOf(store.metrics.txMessages) : stage ? stage.indexedCount : 0,
      outputs,
      refused,
      waiting: !store && stage ? await sumOf(stage.currentAcks) : 0,
    };
  }

  private sampleOf(a: Totals, b: Totals): Sample {
    const { store, stage } = this.src;
    const secs = Math.max(0.001, (b.at - a.at) / 1000);
    const rate = (x: number, y: number) => round(Math.max(0, y - x) / secs, 1);

    const outputs: Record<string, OutputSample> = {};
    for (const [name, now] of b.outputs) {
      const was = a.outputs.get(name) ?? { delivered: 0, failed: 0, retried: 0 };
      const o: OutputSample = {
        up: null, rate: rate(was.delivered, now.delivered), failed: rate(was.failed, now.failed), retried: rate(was.retried, now.retried),
      };
      const h = this.src.health.get(name);
      if (h) {
        o.up = h.notReady === undefined;
        if (h.notReady) o.reason = h.notReady;
      } else {
        // No health check (the edge's stage, files): the last second with attempts decides, until the next such second.
        if (o.failed > 0 || o.rate > 0) this.lastOutcome.set(name, o.failed > 0 && o.rate === 0);
        const failing = this.lastOutcome.get(name);
        o.up = failing === undefined ? null : !failing;
        if (failing) o.reason = 'deliveries failing';
      }
      outputs[name] = o;
    }
    const refused: Record<string, number> = {};
    for (const [reason, n] of b.refused) refused[reason] = rate(a.refused.get(reason) ?? 0, n);

    const t = b.at;
    const shards: number[] = [];
    const ages: number[] = [];
    let held = 0;
    if (store) {
      const views = store.state.shards;
      store.state.held.forEach((n, i) => {
        const messages = Math.max(0, n);
        shards.push(messages);
        held += messages;
        const oldest = views[i]?.oldestTime;
        ages.push(messages > 0 && oldest ? round(Math.max(0, (t - Date.parse(oldest)) / 1000), 1) : 0);
      });
    } else {
      held = Math.max(0, b.waiting);
    }
    const notReady = this.src.notReady();
    return {
      t: Math.round(t / 1000),
      in: rate(a.in, b.in),
      out: rate(a.out, b.out),
      // A beat acknowledges a batch once its outputs have: its latency is theirs.
      ack: store ? lastSecond(store.metrics.ackLatency) : lastSecond(stage?.bulkLatency),
      tx: store ? lastSecond(store.metrics.txLatency) : lastSecond(stage?.bulkLatency),
      held,
      shards,
      ages,
      age: ages.length ? Math.max(...ages) : 0,
      outputs,
      refused,
      ready: notReady === undefined,
      ...(notReady ? { notReady } : {}),
    };
  }
}
