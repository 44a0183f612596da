/** Destinations whose pacing state is kept; the oldest is forgotten beyond this (it then starts with a fresh burst). */
const MAX_KEYS = 100_000;

type Sleep = (ms: number) => Promise<void>;
const timerSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spaces callers `1000 / perSecond` ms apart, in arrival order, with bursts of up to one second's
 * worth: each caller is given the next free slot and sleeps once until it. A token bucket that
 * every waiter polled woke all of them at each token: with hundreds of recipients queued for one
 * busy MX, hundreds of timers per token, burning the event loop for nothing.
 */
export class Pacer {
  private nextSlot = -Infinity;
  private readonly gapMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = timerSleep,
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error('Pacer needs a positive, finite rate');
    this.gapMs = 1000 / perSecond;
  }

  /** Takes the next slot: 0 when it is free now, else the milliseconds until it. */
  reserve(): number {
    const now = this.now();
    // Idle time earns at most one second's worth of slots: perSecond of them up to `now`.
    const slot = Math.max(this.nextSlot, now - 1000 + this.gapMs);
    this.nextSlot = slot + this.gapMs;
    return Math.max(0, Math.ceil(slot - now));
  }

  /** Resolves at the caller's slot. */
  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.sleep(wait);
  }
}

/**
 * Per-destination pacing: at most `perSecond` messages per second to one destination, with bursts
 * of up to one second's worth (a Pacer per destination). Receivers throttle (421/451) senders that
 * arrive faster than their reputation allows; pacing ourselves avoids the deferral storm.
 */
export class RateLimiter {
  private readonly pacers = new Map<string, Pacer>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = timerSleep,
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error('RateLimiter needs a positive, finite rate');
  }

  /** Resolves when one message may go to `key`. */
  take(key: string): Promise<void> {
    return this.pacerFor(key).take();
  }

  /** Takes the next slot of `key`: 0 when it is free now, else the milliseconds until it. */
  reserve(key: string): number {
    return this.pacerFor(key).reserve();
  }

  private pacerFor(key: string): Pacer {
    let p = this.pacers.get(key);
    if (!p) {
      if (this.pacers.size >= MAX_KEYS) this.pacers.delete(this.pacers.keys().next().value!);
      p = new Pacer(this.perSecond, this.now, this.sleep);
      this.pacers.set(key, p);
    }
    return p;
  }
}
