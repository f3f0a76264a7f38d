/**
 * Latency percentiles with hdr-histogram-js: recorded in microseconds,
 * reported in milliseconds. One histogram per measured path.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const EMPTY: Percentiles = { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };

function histogram(): Histogram {
  // 1 µs .. 10 min, 3 significant digits.
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return EMPTY;
  const ms = (q: number) => h.getValueAtPercentile(q) / 1000;
  return { count: h.totalCount, p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: h.maxValue / 1000 };
}

/**
 * Percentiles since start, and over the last whole second of the wall clock:
 * the cumulative ones hide a slowdown under hours of good history, and a
 * sampler (the bench's chart, a dashboard) needs latency over time. The
 * second is rotated lazily on record and read, so there is no timer, and any
 * number of readers see the same figures (nothing is reset on read).
 */
export class Latency {
  private readonly total = histogram();
  private readonly current = histogram();
  private readonly now: () => number;
  private currentSecond: number;
  private previous: Percentiles = EMPTY;

  /** `now` is the wall clock in ms; a test passes its own. */
  constructor(now: () => number = Date.now) {
    this.now = now;
    this.currentSecond = Math.floor(now() / 1000);
  }

  recordMs(ms: number): void {
    const us = Math.max(1, Math.min(600_000_000, Math.round(ms * 1000)));
    this.rotate();
    this.total.recordValue(us);
    this.current.recordValue(us);
  }

  /** Start a measurement; call the returned function when it ends. */
  start(): () => void {
    // performance.now() is a double with sub-µs resolution: no BigInt per request.
    const t0 = performance.now();
    return () => this.recordMs(performance.now() - t0);
  }

  /** Since start. */
  snapshot(): Percentiles {
    return percentiles(this.total);
  }

  /** Over the last whole second (count 0 when nothing was recorded in it). */
  lastSecond(): Percentiles {
    this.rotate();
    return this.previous;
  }

  private rotate(): void {
    const second = Math.floor(this.now() / 1000);
    if (second === this.currentSecond) return;
    // The second that just ended is "last" only if it immediately precedes
    // this one; after a quiet gap, the last whole second recorded nothing.
    this.previous = second === this.currentSecond + 1 ? percentiles(this.current) : EMPTY;
    this.current.reset();
    this.currentSecond = second;
  }
}

export const QUANTILES: [keyof Percentiles, string][] = [
  ['p50', '0.5'], ['p90', '0.9'], ['p99', '0.99'], ['p999', '0.999'], ['max', '1'],
];
