/** Destinations whose pacing state is kept; the oldest is forgotten beyond this (it then starts with a fresh burst). */
const MAX_KEYS = 100_000;

/**
 * Per-destination pacing: at most `perSecond` messages per second to one destination, with bursts
 * of up to one second's worth. Receivers throttle (421/451) senders that arrive faster than their
 * reputation allows; pacing ourselves avoids the deferral storm.
 *
 * Each caller reserves the next free slot of its destination and sleeps once until it. A token
 * bucket polled by every waiter woke all of them at each token: with hundreds of recipients queued
 * for one busy MX, that was hundreds of timers per token, burning the event loop for nothing.
 */
export class RateLimiter {
  /** Per destination: the time of the next free slot. */
  private readonly nextSlot = new Map<string, number>();
  private readonly gapMs: number;

  constructor(private readonly perSecond: number, private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error('RateLimiter needs a positive, finite rate');
    this.gapMs = 1000 / perSecond;
  }

  /** Resolves when one message may go to `key`. */
  async take(key: string): Promise<void> {
    const wait = this.reserve(key);
    if (wait > 0) await this.sleep(wait);
  }

  /** Takes the next slot of `key`: 0 when it is free now, else the milliseconds until it. */
  reserve(key: string): number {
    const now = this.now();
    const next = this.nextSlot.get(key);
    // Idle time earns at most one second's worth of slots: perSecond of them before `now` is due.
    const slot = Math.max(next ?? -Infinity, now - 1000 + this.gapMs);
    if (next === undefined && this.nextSlot.size >= MAX_KEYS) this.nextSlot.delete(this.nextSlot.keys().next().value!);
    this.nextSlot.set(key, slot + this.gapMs);
    return Math.max(0, Math.ceil(slot - now));
  }
}
