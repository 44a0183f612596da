import type { BackoffHistory } from './backoff.js';
import type { ShapingLimits } from './shaping-file.js';
import { Throttle } from './throttle.js';

/** A (provider, sending IP) that asked to slow down, and until when nothing goes to it. */
export interface Suspension {
  sourceIp: string;
  since: number;
  until: number;
  /** The reply that asked, as one line. */
  reply: string;
  patternId: string;
  level: number;
  /** Shared by the recipients it holds back, so they are deferred alike (one retry time, one statement). */
  jitter: number;
}

export interface SlowDownSeen {
  at: number;
  sourceIp: string;
  reply: string;
  patternId: string;
}

/**
 * The traffic state of one provider, or of one destination no provider claims (which the default
 * block limits on its own, as POSTLINE_PER_DESTINATION_* did). Suspensions and their history are
 * per sending IP: a provider judges each IP on its own.
 */
export class ProviderGate {
  readonly throttle = new Throttle();
  readonly suspensions = new Map<string, Suspension>();
  readonly history = new Map<string, BackoffHistory>();
  /** Until then perSecond is scaled down (after a release, or a `slow` reply). */
  recoveringUntil = 0;
  slowDowns = 0;
  lastSlowDown: SlowDownSeen | null = null;
  /** The local address of the last connection to it (a greeting refusal has none of its own). */
  lastIp: string | null = null;
  /** The jitter of the recipients held for its hourly limit: one retry time for those held together. */
  holdJitter = 0;

  constructor(
    /** `provider:<name>` or `destination:<host:port,...>`: the pool keeps connections per gate by it. */
    readonly key: string,
    /** The provider's name; null for a destination of no known provider. */
    readonly provider: string | null,
    /** What people read: the provider's name, or the destination's first MX host. */
    readonly name: string,
    public limits: ShapingLimits,
  ) {}

  /** The metrics label: the provider, or "default" for every unknown destination (their number is unbounded). */
  get label(): string {
    return this.provider ?? 'default';
  }

  /** The rate in force at `now`: perSecond, scaled down while recovering. */
  perSecondAt(now: number, recoveryFactor: number): number | null {
    const rate = this.limits.perSecond;
    if (rate === null) return null;
    return now < this.recoveringUntil ? rate * recoveryFactor : rate;
  }

  /** A current suspension (of any IP: Postline does not pick its source address, so before a connection exists any IP may be the one). */
  current(now: number): Suspension | null {
    for (const s of this.suspensions.values()) if (s.until > now) return s;
    return null;
  }

  /** Nothing under way, nothing suspended, nothing learnt: can be forgotten when there are too many. */
  get forgettable(): boolean {
    return this.throttle.idle && this.suspensions.size === 0 && this.history.size === 0 && this.slowDowns === 0;
  }
}
