/**
 * GET /status (the page), GET /status/assets/<file> (its script, styles and
 * uPlot), GET /status/history (the samples held, oldest first: what a page
 * draws before the first pushed second) and the WebSocket /status/ws that
 * pushes one sample a second.
 *
 * The socket protocol, server to page (text frames, JSON):
 *   {"type":"hello", role, name, capacity}   once, on open
 *   {"type":"sample", …Sample}               every second
 *   {"type":"pong"}                          after a "ping"
 * Page to server: the 4-byte text "ping", and nothing else. Whatever else
 * arrives closes the socket with a code (CLOSE below); a frame larger than
 * MAX_CLIENT_FRAME makes uWebSockets.js drop the connection at once, without
 * reading it (the page sees 1006).
 * Every page is one subscriber of one topic: the sample is serialised once
 * and uWS copies the same bytes to each socket (app.publish).
 */
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { Asset, StatusAssets } from './assets.js';

export const TOPIC = 'status';

/** Close codes of /status/ws (RFC 6455 §7.4.1). */
export const CLOSE = {
  /** The daemon is stopping. */
  goingAway: 1001,
  /** A binary frame. */
  binary: 1003,
  /** A text message other than "ping". */
  unexpected: 1008,
  /** More than maxSockets status sockets are open. */
  tooMany: 1013,
} as const;

/** The largest frame a page may send: "ping" is 4 bytes. */
export const MAX_CLIENT_FRAME = 64;

export interface StatusRouteOptions {
  assets: StatusAssets;
  /** The hello frame. */
  hello: string;
  /** The held samples as a JSON array, gzipped when asked. */
  history(gzip: boolean): Buffer;
  /** Most status sockets open at once; the next is closed with CLOSE.tooMany. */
  maxSockets: number;
  /** --cors-origins: ['*'] lets any page open the socket; a list allows those origins and the daemon's own. */
  corsOrigins: readonly string[];
  isClosing(): boolean;
}

export interface StatusRoutes {
  /** Open status sockets. */
  readonly open: number;
  /** Close every status socket (the daemon is stopping). */
  closeAll(): void;
}

interface SocketData {
  /** Counted in `open` (false for a socket closed at once for being one too many). */
  counted: boolean;
}

const PAGE_HEADERS: [string, string][] = [
  ['Cache-Control', 'no-cache'],
  // Only the daemon's own scripts, styles and socket; no inline script, no framing.
  ['Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
];
const ASSET_HEADERS: [string, string][] = [
  // The page names each asset with a hash of its content (?v=…): it never changes under that URL.
  ['Cache-Control', 'public, max-age=31536000, immutable'],
  ['X-Content-Type-Options', 'nosniff'],
];

function serve(res: HttpResponse, req: HttpRequest, a: Asset, headers: [string, string][]): void {
  const fresh = req.getHeader('if-none-match') === a.etag;
  res.cork(() => {
    res.writeStatus(fresh ? '304 Not Modified' : '200 OK');
    res.writeHeader('ETag', a.etag);
    for (const [k, v] of headers) res.writeHeader(k, v);
    if (fresh) {
      res.endWithoutBody();
    } else {
      res.writeHeader('Content-Type', a.contentType);
      res.end(a.body);
    }
  });
}

function plain(res: HttpResponse, status: string, message: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(JSON.stringify({ status: 'FAIL', message }));
  });
}

/**
 * May a page of `origin` open the socket? Browsers always send Origin on a
 * WebSocket handshake; the check stops another site's page from reading the
 * figures through a visitor's browser. Without Origin (curl, a script) there
 * is no such page to stop.
 */
export function originAllowed(origin: string, host: string, corsOrigins: readonly string[]): boolean {
  if (origin === '' || corsOrigins.includes('*')) return true;
  const wanted = origin.replace(/\/$/, '');
  if (corsOrigins.some((o) => o.trim().replace(/\/$/, '') === wanted)) return true;
  try {
    return new URL(wanted).host === host;
  } catch {
    return false;
  }
}

export function registerStatusRoutes(app: TemplatedApp, opts: StatusRouteOptions): StatusRoutes {
  const { assets } = opts;
  // Keyed by each socket's own user data (one object per socket for its whole life).
  const sockets = new Map<SocketData, WebSocket<SocketData>>();

  app.get('/status', (res, req) => serve(res, req, assets.page, PAGE_HEADERS));
  app.get('/status/', (res, req) => serve(res, req, assets.page, PAGE_HEADERS));
  app.get('/status/history', (res, req) => {
    const gzip = /\bgzip\b/.test(req.getHeader('accept-encoding'));
    const body = opts.history(gzip);
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').writeHeader('Cache-Control', 'no-store');
      if (gzip) res.writeHeader('Content-Encoding', 'gzip');
      res.writeHeader('Vary', 'Accept-Encoding').end(body);
    });
  });
  app.get('/status/assets/:file', (res, req) => {
    const a = assets.files.get(req.getParameter(0) ?? '');
    if (a) serve(res, req, a, ASSET_HEADERS);
    else plain(res, '404 Not Found', 'no such asset');
  });

  app.ws<SocketData>('/status/ws', {
    compression: 0,
    maxPayloadLength: MAX_CLIENT_FRAME,
    // Every frame is small (a sample is a few hundred bytes): a page that stops reading is closed past this.
    maxBackpressure: 256 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (opts.isClosing()) return plain(res, '503 Service Unavailable', 'shutting down');
      if (!originAllowed(req.getHeader('origin'), req.getHeader('host'), opts.corsOrigins)) {
        return plain(res, '403 Forbidden', 'origin not allowed (--cors-origins)');
      }
      res.cork(() => res.upgrade<SocketData>({ counted: false }, key, protocol, extensions, context));
    },
    open: (ws) => {
      if (sockets.size >= opts.maxSockets) {
        ws.end(CLOSE.tooMany, `too many status pages open (${opts.maxSockets}); try again later`);
        return;
      }
      const data = ws.getUserData();
      data.counted = true;
      sockets.set(data, ws);
      ws.send(opts.hello, false);
      ws.subscribe(TOPIC);
    },
    message: (ws, message, isBinary) => {
      if (isBinary) return ws.end(CLOSE.binary, 'binary frames are not accepted');
      if (message.byteLength === 4 && Buffer.from(message).toString('latin1') === 'ping') {
        ws.send('{"type":"pong"}', false);
        return;
      }
      ws.end(CLOSE.unexpected, 'unexpected message: a page may send only "ping"');
    },
    close: (ws) => {
      sockets.delete(ws.getUserData());
    },
  });

  return {
    get open() {
      return sockets.size;
    },
    closeAll() {
      for (const ws of [...sockets.values()]) ws.end(CLOSE.goingAway, 'shutting down');
    },
  };
}
