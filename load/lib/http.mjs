// HTTP for the runner: an undici Pool of a bounded number of keep-alive
// connections, a whole-request timeout, and failures described in a few
// words for the summary's "failures" line.
import { Pool } from 'undici';

export class TargetError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TargetError';
  }
}

/**
 * A client for `target` (settings.mjs targetFrom) over at most `connections`
 * sockets. Requests beyond that wait in the pool's queue.
 */
export function createClient(target, { connections }) {
  const pool = new Pool(target.origin, {
    connections,
    pipelining: 1, // one request per socket at a time: what a till's HTTP client does
    keepAliveTimeout: 30_000,
    connect: { timeout: 5_000 },
  });

  return {
    /**
     * { status, text } of one request, or a rejection. `timeoutMs` bounds
     * the whole exchange, from the queue to the last body byte; undici's own
     * headers/body timeouts only start on the socket, so they would not
     * catch a request stuck behind others.
     */
    async request({ method, path, body, headers }, timeoutMs) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new RequestTimeout(timeoutMs)), timeoutMs);
      try {
        const res = await pool.request({ method, path: target.prefix + path, body, headers, signal: controller.signal });
        const text = await res.body.text();
        return { status: res.statusCode, text };
      } catch (e) {
        // Whatever undici rejected with, a fired timer means it was the timeout.
        if (controller.signal.aborted) throw controller.signal.reason;
        throw e;
      } finally {
        clearTimeout(timer);
      }
    },
    /** Requests waiting in the pool for a free connection right now. */
    queued: () => pool.stats.queued,
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };
}

export class RequestTimeout extends Error {
  constructor(ms) {
    super(`no answer within ${ms} ms`);
    this.name = 'RequestTimeout';
  }
}

/**
 * Before the clock starts: `workers` loops of GET /healthz, each waiting for
 * its answer, for `durationMs`. This opens the keep-alive connections and
 * gets undici's request path compiled, which otherwise costs the first
 * ~0.5 s of a 10000/s run over 100 ms of latency that is the runner's own
 * (measured against a do-nothing server). Nothing here is recorded; a
 * failure just ends that loop (the run itself will record the real ones).
 */
export async function warmUp(client, { workers, durationMs }) {
  const until = performance.now() + durationMs;
  const loop = async () => {
    while (performance.now() < until) {
      const res = await client.request({ method: 'GET', path: '/healthz' }, 5_000).catch(() => undefined);
      if (!res) return;
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}

/** A failure in a few stable words: "timeout", "ECONNREFUSED", "UND_ERR_SOCKET other side closed". */
export function describeFailure(e) {
  if (e instanceof RequestTimeout) return 'timeout';
  const cause = e?.cause ?? e;
  const code = cause?.code ?? e?.code;
  if (code === 'UND_ERR_SOCKET') return `${code} ${cause.message}`;
  if (code) return String(code);
  return (cause?.message ?? String(e)).slice(0, 80);
}

/** The body's JSON, or undefined when it is not JSON. */
export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Before the run: does anything answer at SPILLWAY_URL? One GET /healthz
 * (every role serves it); a refused connection or a timeout is a TargetError,
 * so the runner stops with "cannot reach ..." instead of recording a run
 * made of connection errors. With `needEdge` (soak), /stats must also have
 * an edge section, as the soak's thresholds are about that section.
 */
export async function probeTarget(client, target, { needEdge = false, timeoutMs = 5_000 } = {}) {
  let res;
  try {
    res = await client.request({ method: 'GET', path: '/healthz' }, timeoutMs);
  } catch (e) {
    throw new TargetError(`cannot reach ${target.display} (${describeFailure(e)}); set SPILLWAY_URL`);
  }
  if (res.status !== 200) throw new TargetError(`${target.display}/healthz answered HTTP ${res.status}; is SPILLWAY_URL a Spillway?`);
  if (!needEdge) return;
  const stats = await client.request({ method: 'GET', path: '/stats' }, timeoutMs).catch((e) => {
    throw new TargetError(`${target.display}/stats: ${describeFailure(e)}`);
  });
  const edge = parseJson(stats.text)?.edge;
  if (stats.status !== 200 || typeof edge?.inQueue !== 'number') {
    throw new TargetError(`${target.display}/stats has no edge section (HTTP ${stats.status}); soak needs the edge or all role`);
  }
}
