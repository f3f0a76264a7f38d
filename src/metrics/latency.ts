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

export class Latency {
  private readonly h: Histogram;

  constructor() {
    // 1 µs .. 10 min, 3 significant digits.
    this.h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  }

  recordMs(ms: number): void {
    this.h.recordValue(Math.max(1, Math.min(600_000_000, Math.round(ms * 1000))));
  }

  /** Start a measurement; call the returned function when it ends. */
  start(): () => void {
    const t0 = process.hrtime.bigint();
    return () => this.recordMs(Number(process.hrtime.bigint() - t0) / 1e6);
  }

  snapshot(): Percentiles {
    const ms = (q: number) => this.h.getValueAtPercentile(q) / 1000;
    return {
      count: this.h.totalCount,
      p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: this.h.maxValue / 1000,
    };
  }
}

export const QUANTILES: [keyof Percentiles, string][] = [
  ['p50', '0.5'], ['p90', '0.9'], ['p99', '0.99'], ['p999', '0.999'], ['max', '1'],
];
