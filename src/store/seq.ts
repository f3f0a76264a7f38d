/**
 * seq: "YYYYMMDD" of the write day followed by an 11-digit counter, 19 digits.
 *
 * Read as a number, a seq is day * 1e11 + counter, which fits a signed 64-bit
 * integer. The whole process shares one such integer in a SharedArrayBuffer,
 * and every writer thread reserves ranges from it with compare-and-swap: seqs
 * are unique across shards and threads, increase in reservation order, and
 * jump to the new day's base at midnight (UTC) without any thread resetting
 * a counter another one is using. A clock that steps back never makes seqs
 * go back: the counter only moves forward.
 */
const DAY_FACTOR = 100_000_000_000n;

export function dayBase(now = new Date()): bigint {
  const day = now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
  return BigInt(day) * DAY_FACTOR;
}

/**
 * Where a fresh process starts counting: the day's base plus a thousand per
 * millisecond since midnight (UTC). A restart later the same day therefore
 * starts above every seq the previous run can have issued, even when all of
 * them were delivered and deleted, unless that run averaged more than a
 * million messages a second.
 */
export function timeSeed(now = new Date()): bigint {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return dayBase(now) + BigInt(now.getTime() - midnight) * 1000n;
}

export function formatSeq(value: bigint): string {
  return value.toString().padStart(19, '0');
}

export function parseSeq(seq: string): bigint {
  if (!/^\d{19}$/.test(seq)) throw new Error(`"${seq}" is not a 19-digit seq`);
  return BigInt(seq);
}

export class SeqAllocator {
  private readonly cell: BigInt64Array;

  /** `shared` is a SharedArrayBuffer of at least 8 bytes, the same in every thread. */
  constructor(shared: SharedArrayBuffer) {
    this.cell = new BigInt64Array(shared, 0, 1);
  }

  static createShared(): SharedArrayBuffer {
    return new SharedArrayBuffer(8);
  }

  /** Make sure the next reserved seq is above `seq` (used at start from what is on disk). */
  advancePast(seq: bigint): void {
    for (;;) {
      const cur = Atomics.load(this.cell, 0);
      if (cur > seq) return;
      if (Atomics.compareExchange(this.cell, 0, cur, seq + 1n) === cur) return;
    }
  }

  /** Reserve `count` consecutive seqs; returns the first. */
  reserve(count: number, now = new Date()): bigint {
    const base = dayBase(now);
    const n = BigInt(count);
    for (;;) {
      const cur = Atomics.load(this.cell, 0);
      const first = cur > base ? cur : base;
      if (Atomics.compareExchange(this.cell, 0, cur, first + n) === cur) return first;
    }
  }
}
