/**
 * Index patterns in Beats' notation, "rtbeat-%{+yyyy.MM.dd}": the date
 * tokens are resolved from the message's time in UTC (not the clock), so a
 * retried message always goes to the same index. The tokens themselves are
 * resolved by ../pattern.ts (shared with the Kafka topic pattern).
 */
import { DATE_TOKEN as TOKEN, resolveDateTokens, utcTime } from '../pattern.js';

export class IndexPattern {
  private readonly cache = new Map<string, string>();
  readonly wildcard: string;

  constructor(readonly pattern: string) {
    this.wildcard = pattern.replace(TOKEN, '*');
    if (/[A-Z\\/?"<>| ,#]/.test(this.wildcard.replace(/\*/g, ''))) {
      throw new Error(`index pattern "${pattern}" has characters Elasticsearch refuses in index names`);
    }
  }

  /** `time` is RFC 3339; anything but a UTC "Z" time is normalised first. */
  resolve(time: string): string {
    const hour = utcTime(time).slice(0, 13);
    let name = this.cache.get(hour);
    if (name === undefined) {
      name = resolveDateTokens(this.pattern, hour);
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(hour, name);
    }
    return name;
  }
}
