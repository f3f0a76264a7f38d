/**
 * One lumberjack v2 connection (the Beats protocol that Logstash's beats
 * input speaks), written from the protocol as go-lumber and libbeat use it.
 * Every integer is a big-endian uint32; every frame starts with the version
 * byte '2':
 *
 *   client → server   '2' 'W' <n>                          a window of n events follows
 *                     '2' 'J' <seq> <len> <len bytes JSON>  one event, seq 1..n in the window
 *                     '2' 'C' <len> <len bytes zlib>        zlib of J frames (compression level > 0)
 *   server → client   '2' 'A' <seq>                         events 1..seq of the oldest open window are
 *                                                           acknowledged; seq = n closes it; seq 0 (or a
 *                                                           repeat) is a keepalive: "still working"
 *
 * Windows are pipelined: send() writes at once and several windows may wait
 * for their ACKs; ACKs always refer to the oldest open window. An ACK below n
 * is a partial acknowledgement (Logstash sends them for large windows): those
 * events are safe, and if the connection fails later, LumberjackError.acked
 * says how many of the window's leading events need no resend.
 *
 * The connection fails (every open window rejects, the socket is destroyed)
 * on a socket error or close, on a frame that is not an ACK, on an ACK beyond
 * the window, and when no frame at all arrives for `timeoutMs` while a window
 * is open (a server that is alive sends keepalives while it works).
 */
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { deflate as deflateCb } from 'node:zlib';

const deflate = promisify(deflateCb);

const VERSION = 0x32; // '2'
const WINDOW = 0x57; // 'W'
const JSON_FRAME = 0x4a; // 'J'
const COMPRESSED = 0x43; // 'C'
const ACK = 0x41; // 'A'

export interface LumberjackOptions {
  host: string;
  port: number;
  /** TLS options (ca, cert, key, servername …); absent: plain TCP. */
  tls?: tls.ConnectionOptions;
  /** Connect, and longest silence from the server while a window waits for its ACK. */
  timeoutMs: number;
  /** zlib level 1–9; 0 sends J frames uncompressed. */
  compressionLevel: number;
}

/** A window that was not fully acknowledged; its first `acked` events were. */
export class LumberjackError extends Error {
  override name = 'LumberjackError';
  constructor(message: string, readonly acked: number) {
    super(message);
  }
}

interface OpenWindow {
  n: number;
  acked: number;
  resolve(): void;
  reject(e: LumberjackError): void;
}

/** The J frames of `events` (JSON texts), seq 1..n. */
export function encodeFrames(events: readonly Buffer[]): Buffer {
  let size = 0;
  for (const e of events) size += 10 + e.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    out[off] = VERSION;
    out[off + 1] = JSON_FRAME;
    out.writeUInt32BE(i + 1, off + 2);
    out.writeUInt32BE(e.length, off + 6);
    e.copy(out, off + 10);
    off += 10 + e.length;
  }
  return out;
}

/** A whole window as it goes on the wire: 'W' header, then J frames or one C frame. */
export async function encodeWindow(events: readonly Buffer[], compressionLevel: number): Promise<Buffer> {
  const head = Buffer.allocUnsafe(compressionLevel > 0 ? 12 : 6);
  head[0] = VERSION;
  head[1] = WINDOW;
  head.writeUInt32BE(events.length, 2);
  const frames = encodeFrames(events);
  if (compressionLevel <= 0) return Buffer.concat([head, frames]);
  const z = await deflate(frames, { level: compressionLevel });
  head[6] = VERSION;
  head[7] = COMPRESSED;
  head.writeUInt32BE(z.length, 8);
  return Buffer.concat([head, z]);
}

export class LumberjackConnection {
  private readonly open: OpenWindow[] = [];
  private input: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  private failure: string | undefined;

  private constructor(private readonly socket: net.Socket, private readonly o: LumberjackOptions) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e.message));
    socket.on('close', () => this.fail('connection closed by the server'));
  }

  /** Connect (and finish the TLS handshake) within `o.timeoutMs`. */
  static connect(o: LumberjackOptions): Promise<LumberjackConnection> {
    return new Promise((resolve, reject) => {
      const where = `${o.host}:${o.port}`;
      const socket = o.tls
        ? tls.connect({ servername: net.isIP(o.host) ? undefined : o.host, ...o.tls, host: o.host, port: o.port })
        : net.connect({ host: o.host, port: o.port });
      const timer = setTimeout(() => done(new Error(`${where}: connect timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
      const onError = (e: Error) => done(new Error(`${where}: ${e.message}`));
      const onClose = () => done(new Error(`${where}: connection closed during connect`));
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once(o.tls ? 'secureConnect' : 'connect', () => done());
      function done(e?: Error) {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onClose);
        if (e) {
          socket.destroy();
          reject(e);
        } else {
          resolve(new LumberjackConnection(socket, o));
        }
      }
    });
  }

  get where(): string {
    return `${this.o.host}:${this.o.port}`;
  }

  /** Failed or closed: send() rejects at once. */
  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Windows written and not yet fully acknowledged. */
  get pending(): number {
    return this.open.length;
  }

  /** Send one window (encoded by encodeWindow) of `n` events; resolves once all n are acknowledged. */
  send(wire: Buffer, n: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new LumberjackError(this.failure, 0));
    if (n === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.open.push({ n, acked: 0, resolve, reject });
      this.socket.write(wire);
      if (this.open.length === 1) this.arm();
    });
  }

  close(): void {
    this.fail('connection closed');
    this.socket.destroy();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.open.length === 0) return;
    this.timer = setTimeout(() => {
      this.fail(`no ACK from ${this.where} in ${this.o.timeoutMs} ms`);
      this.socket.destroy();
    }, this.o.timeoutMs);
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    let off = 0;
    while (this.input.length - off >= 6) {
      const version = this.input[off]!;
      const code = this.input[off + 1]!;
      const seq = this.input.readUInt32BE(off + 2);
      off += 6;
      if (version !== VERSION || code !== ACK) {
        this.fail(`protocol error from ${this.where}: expected an ACK frame, got 0x${version.toString(16)} 0x${code.toString(16)}`);
        this.socket.destroy();
        return;
      }
      this.onAck(seq);
      if (this.failure !== undefined) return;
    }
    this.input = this.input.subarray(off);
    this.arm();
  }

  private onAck(seq: number): void {
    const w = this.open[0];
    if (!w) {
      if (seq === 0) return; // a keepalive after the last window closed
      this.fail(`protocol error from ${this.where}: ACK ${seq} with no window open`);
      this.socket.destroy();
      return;
    }
    if (seq > w.n) {
      this.fail(`protocol error from ${this.where}: ACK ${seq} beyond the window of ${w.n}`);
      this.socket.destroy();
      return;
    }
    if (seq <= w.acked) return; // keepalive (0) or a repeat
    w.acked = seq;
    if (seq === w.n) {
      this.open.shift();
      w.resolve();
    }
  }

  private fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    clearTimeout(this.timer);
    const open = this.open.splice(0);
    for (const w of open) w.reject(new LumberjackError(reason, w.acked));
  }
}
