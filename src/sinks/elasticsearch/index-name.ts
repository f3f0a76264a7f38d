/**
 * Index patterns in Beats' notation, "rtbeat-%{+yyyy.MM.dd}": the date
 * tokens are resolved from the message's time in UTC (not the clock), so a
 * retried message always goes to the same index.
 */
const TOKEN = /%\{\+([^}]+)\}/g;

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
    const utc = time.endsWith('Z') ? time : new Date(time).toISOString();
    const hour = utc.slice(0, 13);
    let name = this.cache.get(hour);
    if (name === undefined) {
      name = this.pattern.replace(TOKEN, (_, fmt: string) =>
        fmt
          .replace(/yyyy/g, hour.slice(0, 4))
          .replace(/MM/g, hour.slice(5, 7))
          .replace(/dd/g, hour.slice(8, 10))
          .replace(/HH/g, hour.slice(11, 13)),
      );
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(hour, name);
    }
    return name;
  }
}
