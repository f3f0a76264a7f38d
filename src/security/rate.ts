/**
 * Per-key token buckets: --rate-limit requests a second, --rate-burst at
 * once. A key is a token's id (or a client address when there are no
 * tokens), never a token. Full, idle buckets are forgotten once a minute, so
 * the map holds only keys that sent something lately.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { level: number; at: number }>();
  private readonly burst: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly rate: number, burst: number) {
    this.burst = burst > 0 ? burst : Math.max(1, rate);
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** 0 when the request may go; otherwise whole seconds until it could. */
  take(key: string, now = Date.now()): number {
    let b = this.buckets.get(key);
    if (!b) {
      b = { level: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.level = Math.min(this.burst, b.level + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    }
    if (b.level >= 1) {
      b.level -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.level) / this.rate));
  }

  private sweep(now = Date.now()): void {
    for (const [k, b] of this.buckets) {
      if (b.level + ((now - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(k);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
