/**
 * The Logstash output: each message as one Beats event (rtbeat's document
 * plus the `@metadata` that libbeat's logstash output adds), sent in
 * lumberjack v2 windows (./lumberjack.ts) and delivered once Logstash has
 * acknowledged every event of the batch.
 *
 *   {"@timestamp":<message time>,"@metadata":{"beat":"rtbeat","type":"_doc","version":"7.17.29"},
 *    "type":"rtbeat","clientIp":"…","rxtxMsg":{seq,time,uuid,producer,label,key,payload}}
 *
 * Hosts: --logstash-loadbalance false (libbeat's default) sends to one host,
 * picked at random, and moves to the next when a connection to it fails;
 * true spreads the windows over every host that is not backing off. Each
 * host has up to --logstash-workers connections; windows are pipelined on
 * them (a connection takes the next window before the previous is acked).
 *
 * Retry: every failure is a connection's (refused, reset, TLS, timeout, a
 * protocol error): there is nothing to dead-letter, since Logstash never
 * refuses single events. The events a window did not get acknowledged
 * (partial ACKs count) are sent again, on the next host or connection, with
 * backoff, until the delivery's deadline; then deliver() rejects and the
 * drainer resends the batch later (at least once). After a failure the
 * window shrinks by half (down to 1) and grows back by half again with each
 * acknowledged window, like libbeat's, for a server that refuses large ones.
 */
import type { StoredMessage } from '../../store/message.js';
import { messageJson } from '../../store/message.js';
import { backoffMs, DeliveryError, sleep, type DeliverOptions, type Sink, type SinkEvents } from '../types.js';
import { encodeWindow, LumberjackConnection, LumberjackError, type LumberjackOptions } from './lumberjack.js';

/** libbeat's version in the rtbeat that Spillway succeeds (its @metadata.version). */
export const LIBBEAT_VERSION = '7.17.29';

export interface LogstashSinkOptions {
  hosts: readonly { host: string; port: number }[];
  loadbalance: boolean;
  /** Connections per host. */
  workers: number;
  windowSize: number;
  compressionLevel: number;
  timeoutMs: number;
  tls?: LumberjackOptions['tls'];
  /** @metadata.beat */
  index: string;
  clientIp?: string;
  retryCapMs: number;
  events?: SinkEvents;
}

/** One event's JSON text. */
export function beatsEvent(m: StoredMessage, meta: string, clientIp: string): string {
  return `{"@timestamp":"${m.time}","@metadata":${meta},"type":"rtbeat","clientIp":${JSON.stringify(clientIp)},"rxtxMsg":${messageJson(m)}}`;
}

interface Host {
  host: string;
  port: number;
  conns: (Promise<LumberjackConnection> | undefined)[];
  /** Date.now() before which the host is not tried (after a failure). */
  downUntil: number;
  failures: number;
}

export class LogstashSink implements Sink {
  private readonly hosts: Host[];
  private readonly meta: string;
  private active: number;
  private rr = 0;
  private window: number;
  private closed = false;

  constructor(private readonly o: LogstashSinkOptions) {
    this.hosts = o.hosts.map((h) => ({ ...h, conns: new Array(o.workers).fill(undefined), downUntil: 0, failures: 0 }));
    this.meta = JSON.stringify({ beat: o.index, type: '_doc', version: LIBBEAT_VERSION });
    this.active = Math.floor(Math.random() * this.hosts.length);
    this.window = o.windowSize;
  }

  async deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const clientIp = opts.clientIp ?? this.o.clientIp ?? '';
    let todo: Buffer[] = messages.map((m) => Buffer.from(beatsEvent(m, this.meta, clientIp)));
    let lastError = '';
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new DeliveryError('logstash output: closed');
      if (opts.signal?.aborted || Date.now() >= opts.deadline) {
        throw new DeliveryError(`logstash output: ${todo.length} of ${messages.length} events not acknowledged in time${lastError ? `: ${lastError}` : ''}`, 504);
      }
      const windows: Buffer[][] = [];
      for (let i = 0; i < todo.length; i += this.window) windows.push(todo.slice(i, i + this.window));
      // Encoded (zlib off the event loop) before any is sent, so that they usually leave in order;
      // across windows and connections Logstash may still see them in another order.
      const wires = await Promise.all(windows.map((w) => encodeWindow(w, this.o.compressionLevel)));
      const results = await Promise.all(windows.map((w, i) => this.sendWindow(w, wires[i]!, opts.deadline)));
      const left: Buffer[] = [];
      for (let i = 0; i < windows.length; i++) {
        const r = results[i]!;
        if (r.error === undefined) continue;
        left.push(...windows[i]!.slice(r.acked));
        lastError = r.error;
      }
      if (left.length === 0) return;
      todo = left;
      this.o.events?.retried?.(left.length);
      const wait = Math.min(backoffMs(attempt, 100, this.o.retryCapMs), opts.deadline - Date.now());
      if (wait > 0) await sleep(wait, opts.signal);
      await opts.beforeRetry?.();
    }
  }

  /** Send one window; never rejects: { acked, error } says how far it got. */
  private async sendWindow(events: Buffer[], wire: Buffer, deadline: number): Promise<{ acked: number; error?: string }> {
    const t0 = performance.now();
    let conn: LumberjackConnection | undefined;
    let host: Host | undefined;
    try {
      ({ conn, host } = await this.connection());
      const sent = conn.send(wire, events.length);
      sent.catch(() => {}); // left behind at the deadline, it settles later: never an unhandled rejection
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LumberjackError('deadline passed', -1)), Math.max(0, deadline - Date.now()));
      });
      try {
        await Promise.race([sent, late]);
      } finally {
        clearTimeout(timer);
      }
      host.failures = 0;
      this.window = Math.min(this.o.windowSize, Math.ceil(this.window * 1.5));
      this.o.events?.request?.(performance.now() - t0, events.length);
      this.o.events?.delivered?.(events.length);
      return { acked: events.length };
    } catch (e) {
      // At the deadline the window is still open on a live connection: nothing of it is known to be acked.
      const acked = e instanceof LumberjackError ? Math.max(0, e.acked) : 0;
      if (acked > 0) this.o.events?.delivered?.(acked);
      this.o.events?.requestFailed?.();
      if (!(e instanceof LumberjackError && e.acked < 0)) {
        if (host) this.hostFailed(host);
        // A window the server took and dropped unacknowledged may be too large for it.
        if (conn && acked === 0) this.window = Math.max(1, Math.floor(this.window / 2));
      }
      return { acked, error: (e as Error).message };
    }
  }

  /** A live connection: the least busy of the chosen host's, opening one if a slot is free. */
  private async connection(): Promise<{ conn: LumberjackConnection; host: Host }> {
    const host = this.pickHost();
    let best = -1;
    let bestPending = Infinity;
    for (let i = 0; i < host.conns.length; i++) {
      const p = host.conns[i];
      if (p === undefined) {
        best = i;
        break;
      }
      const c = await p.catch(() => undefined);
      if (!c || c.closed) {
        host.conns[i] = undefined;
        best = i;
        break;
      }
      if (c.pending < bestPending) {
        best = i;
        bestPending = c.pending;
      }
    }
    let p = host.conns[best];
    if (p === undefined) {
      p = LumberjackConnection.connect({
        host: host.host, port: host.port, tls: this.o.tls, timeoutMs: this.o.timeoutMs, compressionLevel: this.o.compressionLevel,
      });
      host.conns[best] = p;
      p.catch(() => {
        if (host.conns[best] === p) host.conns[best] = undefined;
      });
    }
    try {
      return { conn: await p, host };
    } catch (e) {
      this.hostFailed(host);
      throw new LumberjackError((e as Error).message, 0);
    }
  }

  private pickHost(): Host {
    const now = Date.now();
    if (!this.o.loadbalance) {
      // Failover: stay on the active host unless it is backing off and another is not.
      for (let i = 0; i < this.hosts.length; i++) {
        const h = this.hosts[(this.active + i) % this.hosts.length]!;
        if (h.downUntil <= now) {
          this.active = (this.active + i) % this.hosts.length;
          return h;
        }
      }
      return this.hosts[this.active]!;
    }
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[this.rr++ % this.hosts.length]!;
      if (h.downUntil <= now) return h;
    }
    return this.hosts.reduce((a, b) => (b.downUntil < a.downUntil ? b : a));
  }

  private hostFailed(h: Host): void {
    // Every window open on a failed connection reports it: count the host down once.
    if (h.downUntil > Date.now()) return;
    h.failures++;
    h.downUntil = Date.now() + backoffMs(h.failures, 250, this.o.retryCapMs);
    if (!this.o.loadbalance && this.hosts[this.active] === h) this.active = (this.active + 1) % this.hosts.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Not awaited: a connect still under way (a host that does not answer) closes when it settles.
    for (const h of this.hosts) {
      for (const p of h.conns) p?.then((c) => c.close(), () => {});
      h.conns.fill(undefined);
    }
  }
}
