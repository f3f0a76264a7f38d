/**
 * Main-thread view of the store: how many messages are held (exact: counted
 * from disk at start, then kept up to date from writer and forwarder reports
 * of keys actually written and deleted), bytes of pages used and the oldest message per shard (sampled).
 * It decides when the store is full.
 */
import { decodeRecord } from './message.js';
import { entryCount, usedBytes, type Shard } from './shards.js';

export interface ShardView {
  shard: number;
  messages: number;
  bytes: number;
  oldestSeq?: string;
  oldestTime?: string;
}

export class StoreState {
  readonly held: number[];
  private usedBytesTotal = 0;
  private views: ShardView[] = [];

  constructor(private readonly dbs: readonly Shard[], private readonly maxq: number, private readonly maxBytes: number) {
    this.held = dbs.map((db) => entryCount(db));
    this.sample();
  }

  get total(): number {
    let n = 0;
    for (const h of this.held) n += h;
    return n;
  }

  /**
   * `n` messages of `bytes` record bytes committed to `shard`. The bytes are
   * added to the sampled size until the next sample replaces it, so
   * --max-bytes refuses within a commit of its limit, not a second of writes
   * later (about 32 bytes of key and node header per record on a page;
   * deletes are not subtracted, since freed pages are reused, not returned).
   */
  written(shard: number, n: number, bytes = 0): void {
    this.held[shard]! += n;
    this.usedBytesTotal += bytes + n * 32;
  }

  /**
   * No clamp at zero: a forwarder can report a delete before the main thread
   * has the writer's report of that commit, and the two must cancel exactly.
   */
  removed(shard: number, n: number): void {
    this.held[shard]! -= n;
  }

  /** Why new messages are refused now, or undefined when there is room. */
  fullReason(pending = 0): string | undefined {
    if (this.total + pending >= this.maxq) {
      return `store full: ${this.total + pending} messages held or being written (--maxq ${this.maxq})`;
    }
    if (this.maxBytes > 0 && this.usedBytesTotal >= this.maxBytes) {
      return `store full: ${this.usedBytesTotal} bytes used (--max-bytes ${this.maxBytes})`;
    }
    return undefined;
  }

  /** Re-read the sizes and oldest messages from LMDB (cheap: metadata and one key per shard). */
  sample(): ShardView[] {
    let total = 0;
    this.views = this.dbs.map((db, shard) => {
      const bytes = usedBytes(db);
      total += bytes;
      const view: ShardView = { shard, messages: this.held[shard]!, bytes };
      for (const { key, value } of db.getRange({ limit: 1 })) {
        view.oldestSeq = key;
        view.oldestTime = decodeRecord(key, value).time;
      }
      return view;
    });
    this.usedBytesTotal = total;
    return this.views;
  }

  get bytes(): number {
    return this.usedBytesTotal;
  }

  /** Age in seconds of the oldest held message (0 when empty), from the last sample. */
  oldestAgeSeconds(now = Date.now()): number {
    let oldest = Infinity;
    for (const v of this.views) if (v.oldestTime) oldest = Math.min(oldest, Date.parse(v.oldestTime));
    return oldest === Infinity ? 0 : Math.max(0, (now - oldest) / 1000);
  }

  get shards(): readonly ShardView[] {
    return this.views;
  }
}
