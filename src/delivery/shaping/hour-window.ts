const MINUTE_MS = 60_000;
const BUCKETS = 60;

/**
 * Messages sent in the last hour, as a sliding window of sixty one-minute buckets: a message may go
 * while the current minute and the 59 before it hold fewer than the limit.
 *
 * Why sliding and not a fixed clock hour: a fixed window lets the whole limit through at 10:59 and
 * again at 11:00, twice the limit within a minute, which is the burst an hourly limit is there to
 * prevent. Why one-minute buckets and not a timestamp per message: the limit can be large
 * (hundreds of thousands) and there is a window per provider and per unknown destination that
 * has one; 60 counters are 480 bytes with their minutes, whatever the limit. The price is resolution: in a span of
 * exactly 60 minutes that starts mid-bucket, at most the sends of that one oldest minute can come
 * on top of the limit (perSecond pacing bounds what a minute can hold).
 */
export class HourWindow {
  private readonly counts = new Uint32Array(BUCKETS);
  /** The minute (epoch minutes: 29 million now, an Int32 lasts until the year 6053) each bucket holds; an older minute counts as empty. */
  private readonly minutes = new Int32Array(BUCKETS).fill(-1);

  /** Messages in the last hour as of `now`. */
  count(now: number): number {
    const m = Math.floor(now / MINUTE_MS);
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.minutes[i]! > m - BUCKETS && this.minutes[i]! <= m) n += this.counts[i]!;
    return n;
  }

  add(now: number, n = 1): void {
    const m = Math.floor(now / MINUTE_MS);
    const i = m % BUCKETS;
    if (this.minutes[i] !== m) {
      this.minutes[i] = m;
      this.counts[i] = 0;
    }
    this.counts[i] = this.counts[i]! + n;
  }

  /** When the window next holds fewer than `limit` (`now` if it does already). */
  roomAt(now: number, limit: number): number {
    const m = Math.floor(now / MINUTE_MS);
    let excess = this.count(now) - limit + 1;
    if (excess <= 0) return now;
    // The oldest minutes leave the window first: minute k leaves at the start of minute k + 60.
    for (let k = m - BUCKETS + 1; k <= m; k++) {
      const i = ((k % BUCKETS) + BUCKETS) % BUCKETS;
      if (this.minutes[i] === k) excess -= this.counts[i]!;
      if (excess <= 0) return (k + BUCKETS) * MINUTE_MS;
    }
    return (m + BUCKETS) * MINUTE_MS;
  }
}
