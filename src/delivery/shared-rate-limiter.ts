import type { Logger } from '../core/log.js';
import type { RateSlotRepository } from '../store/rate-slots.js';

type Sleep = (ms: number) => Promise<void>;
const timerSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Keys whose reserved slots are kept; the oldest is forgotten beyond this. */
const MAX_KEYS = 100_000;
/** After a failed reservation (the database away), wait this long before the next try. */
const RETRY_MS = 1_000;

interface KeyState {
  /** Slot times reserved and not yet used, ascending. */
  slots: number[];
  refill: Promise<void> | null;
}

/**
 * A per-key rate limit kept by every process of one database together (store/rate-slots.ts),
 * what RateLimiter (rate-limiter.ts) is for one process: at most `perSecond` per key, in bursts of
 * up to one second's worth, whether one process sends or ten.
 *
 * Slots are reserved a tenth of a second's worth at a time, so a busy key costs the database
 * about ten statements a second per process, not one per message. A reserved slot that is not
 * used within a second of its time is dropped: the rate is then under-used, never exceeded.
 */
export class SharedRateLimiter {
  private readonly keys = new Map<string, KeyState>();
  private readonly gapMs: number;
  private readonly chunk: number;
  private warned = false;

  constructor(
    private readonly slots: RateSlotRepository,
    perSecond: number,
    private readonly opts: { now?: () => number; sleep?: Sleep; log?: Logger } = {},
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error('SharedRateLimiter needs a positive, finite rate');
    // Whole milliseconds, as the store keeps them (a fractional gap rounds up: never faster).
    this.gapMs = Math.ceil(1000 / perSecond);
    this.chunk = Math.max(1, Math.min(100, Math.round(perSecond / 10)));
  }

  /** Resolves when one message may go to `key`. */
  async take(key: string): Promise<void> {
    const now = this.opts.now ?? Date.now;
    const k = this.state(key);
    for (;;) {
      while (k.slots.length > 0 && k.slots[0]! < now() - 1000) k.slots.shift();
      const slot = k.slots.shift();
      if (slot !== undefined) {
        const wait = slot - now();
        if (wait > 0) await (this.opts.sleep ?? timerSleep)(wait);
        return;
      }
      k.refill ??= this.refill(key, k).finally(() => {
        k.refill = null;
      });
      await k.refill;
    }
  }

  private async refill(key: string, k: KeyState): Promise<void> {
    try {
      const first = await this.slots.reserve(key, this.chunk, this.gapMs, (this.opts.now ?? Date.now)());
      for (let i = 0; i < this.chunk; i++) k.slots.push(first + i * this.gapMs);
      this.warned = false;
    } catch (err) {
      if (!this.warned) this.opts.log?.warn({ err, event: 'delivery.rate_slots_failed', key }, 'reserving shared rate slots failed; retrying');
      this.warned = true;
      await (this.opts.sleep ?? timerSleep)(RETRY_MS);
    }
  }

  private state(key: string): KeyState {
    let k = this.keys.get(key);
    if (!k) {
      if (this.keys.size >= MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
      k = { slots: [], refill: null };
      this.keys.set(key, k);
    }
    return k;
  }
}

/**
 * Shared pacing at a rate chosen per call (a provider's perSecond, halved while it recovers from a
 * slow-down): one SharedRateLimiter per distinct rate, all reserving from the same store.
 */
export class SharedPacing {
  private readonly byRate = new Map<number, SharedRateLimiter>();

  constructor(
    private readonly slots: RateSlotRepository,
    private readonly log?: Logger,
  ) {}

  take(key: string, perSecond: number): Promise<void> {
    let l = this.byRate.get(perSecond);
    if (!l) this.byRate.set(perSecond, (l = new SharedRateLimiter(this.slots, perSecond, { log: this.log })));
    return l.take(key);
  }
}
