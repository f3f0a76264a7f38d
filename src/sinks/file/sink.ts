/**
 * The file output: each message as one line of NDJSON, the same event
 * document as the index outputs write (`@timestamp`, `type`, `clientIp`,
 * `rxtxMsg`), appended to the current file and fdatasync'd before deliver()
 * resolves.
 *
 * Files: the --file-path pattern's date tokens are resolved from the clock
 * (UTC) when a file is opened, and `-<writer>-<opened, ms since epoch>` is
 * added before the extension, so every writer (forwarder thread, beat
 * stage) has files of its own and no name is ever reused. A file is closed
 * and the next opened once it holds --file-rotate-bytes, or when a write
 * comes --file-rotate-interval seconds after it was opened.
 *
 * Retry: a failed write or sync rejects (the caller resends the batch) and
 * closes the file; the resend goes to a new file, so it never appends after
 * a torn line. Lines already written before a failed sync may be on disk
 * twice after the resend: the file output is at least once.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { StoredMessage } from '../../store/message.js';
import { eventDocument } from '../elasticsearch/documents.js';
import { DeliveryError, type DeliverOptions, type Sink, type SinkEvents } from '../types.js';

export interface FileSinkOptions {
  pattern: string;
  rotateBytes: number;
  rotateIntervalMs: number;
  mode: number;
  /** Part of every file name: which writer made it (f0, f1 …, beat). */
  writer: string;
  clientIp?: string;
  events?: SinkEvents;
}

const TOKEN = /%\{\+([^}]+)\}/g;

export function resolvePath(pattern: string, now: Date): string {
  const iso = now.toISOString();
  return pattern.replace(TOKEN, (_, fmt: string) =>
    fmt
      .replace(/yyyy/g, iso.slice(0, 4)).replace(/MM/g, iso.slice(5, 7)).replace(/dd/g, iso.slice(8, 10))
      .replace(/HH/g, iso.slice(11, 13)).replace(/mm/g, iso.slice(14, 16)),
  );
}

interface OpenFile {
  fh: FileHandle;
  path: string;
  bytes: number;
  opened: number;
}

export class FileSink implements Sink {
  private file: OpenFile | undefined;
  /** Writes go one after another, in the order deliver() was called. */
  private tail: Promise<unknown> = Promise.resolve();
  private lastOpened = 0;
  readonly paths: string[] = [];

  constructor(private readonly o: FileSinkOptions) {}

  deliver(messages: readonly StoredMessage[], opts: DeliverOptions): Promise<void> {
    const clientIp = opts.clientIp ?? this.o.clientIp ?? '';
    let text = '';
    for (const m of messages) text += eventDocument(m, clientIp);
    const run = this.tail.then(() => this.write(text, messages.length, opts));
    this.tail = run.catch(() => {});
    return run;
  }

  private async write(text: string, n: number, opts: DeliverOptions): Promise<void> {
    if (opts.signal?.aborted || Date.now() >= opts.deadline) throw new DeliveryError('not written in time', 504);
    const t0 = performance.now();
    try {
      const f = await this.current();
      const buf = Buffer.from(text);
      let off = 0;
      while (off < buf.length) off += (await f.fh.write(buf, off, buf.length - off)).bytesWritten;
      await f.fh.datasync();
      f.bytes += buf.length;
    } catch (e) {
      this.o.events?.requestFailed?.();
      await this.closeFile();
      throw new DeliveryError(`file output: ${(e as Error).message}`);
    }
    this.o.events?.request?.(performance.now() - t0, n);
    this.o.events?.delivered?.(n);
  }

  private async current(): Promise<OpenFile> {
    const f = this.file;
    const now = Date.now();
    if (f) {
      const full = this.o.rotateBytes > 0 && f.bytes >= this.o.rotateBytes;
      const old = this.o.rotateIntervalMs > 0 && now - f.opened >= this.o.rotateIntervalMs;
      if (!full && !old) return f;
      await this.closeFile();
    }
    // Names carry the open time in ms: never the same twice from one writer.
    const opened = Math.max(now, this.lastOpened + 1);
    this.lastOpened = opened;
    const resolved = resolvePath(this.o.pattern, new Date(opened));
    const ext = extname(resolved);
    const path = join(dirname(resolved), `${basename(resolved, ext)}-${this.o.writer}-${opened}${ext}`);
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'wx', this.o.mode);
    await fh.chmod(this.o.mode); // the umask may have taken bits away
    // The new name must survive a crash too: sync the directory entry.
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.paths.push(path);
    this.file = { fh, path, bytes: 0, opened };
    return this.file;
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    await f?.fh.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.tail;
    await this.closeFile();
  }
}
