// Settings from the environment, with the same names, defaults and duration
// syntax as the k6 scripts in k6/, so a command line written for k6 works
// here unchanged.
//
// Every reader throws a SettingsError naming the variable and the bad value;
// run.mjs turns that into one line on stderr and exit code 2, before anything
// is sent. Garbage never silently falls back to a default: a typo in RATE
// would otherwise run a different test than the one asked for.

export class SettingsError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SettingsError';
  }
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as k6 writes them ("250ms", "90s", "5m", "1h30m") or a bare
 * number of seconds ("30", "0.5"), in milliseconds.
 */
export function parseDuration(text, name = 'duration') {
  const s = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy; // sticky: each part must follow the previous one
  let ms = 0;
  let consumed = 0;
  let m;
  while ((m = part.exec(s)) !== null) {
    ms += Number(m[1]) * UNIT_MS[m[2]];
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== s.length) {
    throw new SettingsError(`${name}=${text} is not a duration (e.g. 250ms, 30s, 5m, 1h30m, or seconds)`);
  }
  return ms;
}

/** Milliseconds as k6-style duration text, for summaries: "250ms", "1m30s", "1h0m2.5s". */
export function formatDuration(ms) {
  if (ms < 1000) return `${Number(ms.toFixed(3))}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Number(((ms % 60_000) / 1000).toFixed(3));
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s || !(h || m) ? `${s}s` : ''}`.replace(/^(\d+h)0m$/, '$1');
}

/**
 * Typed readers over an environment (process.env, or a plain object in
 * tests). An unset or empty variable takes the default, as in k6/lib/common.js.
 */
export function settingsFrom(env) {
  const raw = (name) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : String(v).trim();
  };

  const reader = {
    /** Whether the variable is set (non-empty). */
    has: (name) => raw(name) !== undefined,

    str(name, def) {
      return raw(name) ?? def;
    },

    /** One of a fixed set of words. */
    choice(name, def, allowed, hint = '') {
      const v = raw(name) ?? def;
      if (!allowed.includes(v)) {
        throw new SettingsError(`${name}=${v}: use ${allowed.join(', ')}${hint ? ` ${hint}` : ''}`);
      }
      return v;
    },

    /**
     * A finite number within [min, max]. `above` is an exclusive lower bound,
     * for bounds where 0 makes no sense (a rate, a latency bound).
     */
    num(name, def, { min = 0, max = Infinity, above } = {}) {
      const text = raw(name);
      if (text === undefined) return def;
      const n = Number(text);
      if (!Number.isFinite(n)) throw new SettingsError(`${name}=${text} is not a number`);
      if (above !== undefined && !(n > above)) throw new SettingsError(`${name}=${text}: must be greater than ${above}`);
      if (n < min) throw new SettingsError(`${name}=${text}: must be at least ${min}`);
      if (n > max) throw new SettingsError(`${name}=${text}: must be at most ${max}`);
      return n;
    },

    /** A whole number (a count of lines, tills, connections) of at least `min`. */
    int(name, def, { min = 1 } = {}) {
      const n = reader.num(name, def, { min });
      if (!Number.isInteger(n)) throw new SettingsError(`${name}=${raw(name)}: must be a whole number`);
      return n;
    },

    /** A duration in ms; `positive` refuses 0 (a run or a timeout of no time). */
    duration(name, def, { positive = true } = {}) {
      const text = raw(name) ?? def;
      const ms = parseDuration(text, name);
      if (positive && !(ms > 0)) throw new SettingsError(`${name}=${text}: must be longer than 0`);
      return ms;
    },

    /** A 0/1 switch (k6 scripts test `=== '1'`; anything else here is a typo). */
    flag(name, def = false) {
      const text = raw(name);
      if (text === undefined) return def;
      if (text === '1' || text === 'true') return true;
      if (text === '0' || text === 'false') return false;
      throw new SettingsError(`${name}=${text}: use 1 or 0`);
    },
  };
  return reader;
}

/**
 * SPILLWAY_URL as { origin, prefix, display }: undici's Pool wants the bare
 * origin; a path prefix (a deployment behind a proxy at /spillway) goes in
 * front of every request path.
 */
export function targetFrom(settings) {
  const text = settings.str('SPILLWAY_URL', 'http://127.0.0.1:8080');
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(`SPILLWAY_URL=${text} is not a URL (e.g. http://edge-3:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError(`SPILLWAY_URL=${text}: use an http:// or https:// URL`);
  }
  const prefix = url.pathname.replace(/\/+$/, '');
  return { origin: url.origin, prefix, display: url.origin + prefix };
}

/**
 * How many requests may be in flight before an arrival is dropped, over
 * how many keep-alive connections they go, and how long the runner warms
 * up (RUNNER_WARMUP, not timed) before the first arrival.
 *
 * MAX_INFLIGHT plays the part of k6's MAX_VUS (which is accepted as its
 * fallback, with k6's default: 4 × VUS, VUS = RATE/5 within [20, 1000], at
 * least 100), so an arrival is dropped here exactly when k6 would have run out
 * of VUs. CONNECTIONS is separate because one Node process does not need a
 * socket per outstanding request: requests beyond CONNECTIONS wait in the
 * pool's queue (that wait is part of the measured latency, as it would be for
 * any client) and still count as in flight.
 */
export function concurrencyFrom(settings, peakRate) {
  const vus = settings.int('VUS', Math.min(1000, Math.max(20, Math.ceil(peakRate / 5))));
  const maxVus = settings.int('MAX_VUS', Math.max(100, vus * 4));
  const maxInflight = settings.int('MAX_INFLIGHT', Math.max(vus, maxVus));
  // The pool opens sockets only while all open ones are busy, so this is a
  // cap, not a count. RATE/50 covers 20 ms of latency at RATE without
  // queueing in the runner; above ~128 sockets undici's per-request scan of
  // its clients costs the runner more CPU than the extra sockets give (on a
  // 2-core host, 5000/s had its best p99 around 100).
  const connections = settings.int('CONNECTIONS', Math.min(maxInflight, Math.max(16, Math.ceil(peakRate / 50)), 128));
  // See http.mjs warmUp: without it the first ~0.5 s measure the runner's JIT.
  const warmupMs = settings.duration('RUNNER_WARMUP', '1s', { positive: false });
  return { maxInflight, connections: Math.min(connections, maxInflight), warmupMs };
}
