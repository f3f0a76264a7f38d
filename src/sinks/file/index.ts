/** The file output: build(config) → { sink, health }. */
import { access, constants, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from '../../config/options.js';
import type { OutputContext, OutputDef } from '../output.js';
import type { BuiltOutput, Health } from '../types.js';
import { fileOptions } from './options.js';
import { FileSink, resolvePath } from './sink.js';

/** Ready when the directory of the next file can be created and written. */
class DirectoryHealth implements Health {
  notReady: string | undefined = 'file output: directory not checked yet';
  private timer: NodeJS.Timeout | undefined;
  private fired = false;
  onFirstReady?: () => void;
  constructor(private readonly pattern: string) {}
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), 5000);
    this.timer.unref();
  }
  stop(): void {
    clearInterval(this.timer);
  }
  private async check(): Promise<void> {
    const dir = dirname(resolvePath(this.pattern, new Date()));
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
      this.notReady = undefined;
    } catch (e) {
      this.notReady = `file output: cannot write in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
    if (!this.notReady && !this.fired) {
      this.fired = true;
      this.onFirstReady?.();
    }
  }
}

export const file: OutputDef = {
  ...fileOptions,
  build(c: Config, ctx: OutputContext): BuiltOutput {
    return {
      sink: new FileSink({
        pattern: c.filePath, rotateBytes: c.fileRotateBytes, rotateIntervalMs: c.ms.fileRotateInterval,
        mode: parseInt(c.fileMode, 8), writer: ctx.writer ?? 'w', clientIp: ctx.clientIp, events: ctx.events,
      }),
      health: new DirectoryHealth(c.filePath),
    };
  },
};
