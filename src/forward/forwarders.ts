/**
 * Main-thread side of the forwarder threads: starts them with their share
 * of the shards (shard i goes to thread i mod N), relays their reports, and
 * stops them gracefully within a deadline.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { ForwarderData, FromForwarder, ToForwarder } from './protocol.js';

const SCRIPT = new URL('../workers/forwarder.js', import.meta.url);

export class Forwarders {
  private readonly workers: Worker[] = [];
  private readonly exited: Promise<void>[] = [];

  constructor(config: Config, log: Logger, onReport: (m: FromForwarder) => void) {
    for (let f = 0; f < config.forwarders; f++) {
      const shards = [];
      for (let s = f; s < config.shards; s += config.forwarders) shards.push(s);
      const data: ForwarderData = { config, shards };
      const worker = new Worker(SCRIPT, { workerData: data, name: `forwarder-${f}` });
      worker.on('message', onReport);
      worker.on('error', (e) => log.error({ err: e, forwarder: f }, 'forwarder thread failed'));
      this.exited.push(new Promise((r) => worker.once('exit', () => r())));
      this.workers.push(worker);
    }
  }

  /** Ask every thread to finish its batches in flight by `deadline`, then end them. */
  async stop(deadline: number): Promise<void> {
    const stopped = this.workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.on('message', (m: FromForwarder) => m.type === 'stopped' && resolve());
          w.once('exit', () => resolve());
          w.postMessage({ type: 'stop', deadline } satisfies ToForwarder);
        }),
    );
    const timer = new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 500).unref());
    await Promise.race([Promise.all(stopped), timer]);
    await Promise.all(this.workers.map((w) => w.terminate()));
    await Promise.all(this.exited);
  }
}
