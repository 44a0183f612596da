/**
 * Token buckets keyed by destination: at most `perSecond` messages per second to one destination,
 * with bursts of up to one second's worth. Receivers throttle (421/451) senders that arrive faster
 * than their reputation allows; pacing ourselves avoids the deferral storm.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number, private readonly now: () => number = Date.now) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error('RateLimiter needs a positive, finite rate');
  }

  /** Resolves when one message may go to `key`. */
  async take(key: string): Promise<void> {
    for (;;) {
      const wait = this.tryTake(key);
      if (wait === 0) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** 0 when a token was taken, else the milliseconds until the next one. */
  tryTake(key: string): number {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.perSecond, at: now };
      this.buckets.set(key, b);
      if (this.buckets.size > 100_000) this.buckets.delete(this.buckets.keys().next().value!);
    }
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) / this.perSecond) * 1000));
  }
}
