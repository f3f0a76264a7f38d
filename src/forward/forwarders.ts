/**
 * Main-thread side of the forwarder threads: starts them with their share
 * of the shards (shard i goes to thread i mod N), relays their reports,
 * restarts a thread that dies, and stops them gracefully within a deadline.
 * In all mode the threads wait for release() (every output ready once: an
 * index output's templates in place) before they write anything.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { ForwarderData, FromForwarder, ToForwarder } from './protocol.js';

const SCRIPT = new URL('../workers/forwarder.js', import.meta.url);
const RESTART_DELAY_MS = 1000;

export class Forwarders {
  private readonly workers: Worker[] = [];
  private released = false;
  private stopping = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly onReport: (m: FromForwarder) => void,
    /** The thread's script; a test passes one of its own. */
    private readonly script: URL = SCRIPT,
  ) {
    for (let f = 0; f < config.forwarders; f++) this.spawn(f);
  }

  private spawn(f: number): void {
    const shards = [];
    for (let s = f; s < this.config.shards; s += this.config.forwarders) shards.push(s);
    const data: ForwarderData = { config: this.config, shards, index: f };
    const worker = new Worker(this.script, { workerData: data, name: `forwarder-${f}` });
    worker.on('message', this.onReport);
    worker.on('error', (e) => this.log.error({ err: e, forwarder: f }, 'forwarder thread failed'));
    worker.once('exit', (code) => {
      if (this.stopping) return;
      this.log.error({ forwarder: f, code }, 'forwarder thread exited; restarting it');
      setTimeout(() => !this.stopping && this.spawn(f), RESTART_DELAY_MS).unref();
    });
    if (this.released) worker.postMessage({ type: 'start' } satisfies ToForwarder);
    this.workers[f] = worker;
  }

  /** Let the threads start draining (all mode waits for this). */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const w of this.workers) w.postMessage({ type: 'start' } satisfies ToForwarder);
  }

  /** Ask every thread to finish its batches in flight by `deadline`, then end them. */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    const stopped = this.workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.on('message', (m: FromForwarder) => m.type === 'stopped' && resolve());
          w.once('exit', () => resolve());
          w.postMessage({ type: 'stop', deadline } satisfies ToForwarder);
        }),
    );
    // Not unref'd: a thread that had already exited (waiting for its restart)
    // never says 'stopped' nor exits again, and this timer is then what ends the wait.
    let timeout: NodeJS.Timeout | undefined;
    const timer = new Promise<void>((r) => (timeout = setTimeout(r, Math.max(0, deadline - Date.now()) + 500)));
    await Promise.race([Promise.all(stopped), timer]);
    clearTimeout(timeout);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
