import type { Logger } from 'pino';
import { parseEnhancedStatus } from '../../bounce/classify.js';
import type { DomainFailure } from '../failing-domains.js';
import type { Classification } from '../outcome.js';
import { backoffMs, nextLevel } from './backoff.js';
import { ProviderGate, type Suspension } from './provider-gate.js';
import { providerOf } from './provider-match.js';
import type { ProviderShaping, ShapingConfig } from './shaping-config.js';
import type { ShapingLimits } from './shaping-file.js';
import { replyLine, slowDownMatch } from './slow-down-match.js';
import { Throttle } from './throttle.js';
import type { SharedPacing } from '../shared-rate-limiter.js';
import type { ShapingView, GateStateView } from './shaping-view.js';

/**
 * Provider-aware traffic shaping (docs/mail-engine.md, Traffic shaping). Every send passes the
 * gate of its destination's provider (or, for a destination no provider claims, a gate of its
 * own with the default limits) and the gate of its recipient domain where the file gives one:
 * connections, messages per connection, per second and per hour. A reply that asks to slow
 * down suspends the provider for the sending IP with a growing backoff; its recipients are
 * deferred without a connection until the suspension ends by itself.
 */

/** Why a recipient is held back: deferred as of `since` (the release), with the shared jitter. */
export type ShapingHold = DomainFailure;

/** What /metrics shows (metrics.ts implements it). */
export interface ShapingMetrics {
  /** Suspended gates now for this provider label ("default" for unknown destinations) and sending IP. */
  shapingSuspended(provider: string, sourceIp: string, suspended: number): void;
  shapingSlowDown(provider: string): void;
}

export interface TrafficShaperDeps {
  config: ShapingConfig;
  log: Logger;
  /** The clock of suspensions and hourly windows (pacing keeps to the wall clock, as the Pacer does). */
  now: () => number;
  metrics?: ShapingMetrics;
  /** Where the operator's file is (shown in the API), null for the shipped file alone. */
  file?: string | null;
  random?: () => number;
  /**
   * Per-second pacing kept by every process of one PostgreSQL together (delivery/shared-rate-limiter.ts);
   * absent: each process paces on its own (SQLite has one process).
   */
  sharedPacing?: Pick<SharedPacing, 'take'> | null;
}

/** Gates kept at once; beyond this the oldest one with nothing to remember is forgotten (as the RateLimiter did). */
export const MAX_GATES = 100_000;
/** How often expired suspensions are released (and logged) when no send asks about them. */
const SWEEP_MS = 1_000;
const MAX_CLASSIFIED = 50_000;
/** A gate of no provider is keyed by its destination as the pool's rate limiter keys it: host:port,host:port. */
const DESTINATION_PREFIX = 'destination:';

const SLOW_DOWN_EXPLANATION = 'The receiving provider asked Postline to slow down; mail to it waits and is retried after a pause.';
const HOURLY_HOLD: Classification = {
  permanent: false,
  failureCode: 1006,
  enhancedStatus: null,
  explanation: 'Postline keeps to its hourly limit for this provider or domain; the message is retried when there is room.',
  ruleId: null,
};

/** A recipient domain with limits of its own in the file. */
class DomainGate {
  readonly throttle = new Throttle();
  constructor(
    readonly domain: string,
    public limits: Partial<ShapingLimits>,
  ) {}
}

export class TrafficShaper {
  private config: ShapingConfig;
  private readonly classified = new Map<string, ProviderShaping | null>();
  private readonly gates = new Map<string, ProviderGate>();
  private readonly domainGates = new Map<string, DomainGate>();
  private readonly suspended = new Set<ProviderGate>();
  private readonly suspendedCounts = new Map<string, number>();
  private readonly listeners: ((gateKey: string) => void)[] = [];
  private readonly random: () => number;
  private sweepTimer: NodeJS.Timeout | null = null;
  private loadedAt: number;
  private reloadError: { at: number; message: string } | null = null;

  constructor(private readonly d: TrafficShaperDeps) {
    this.config = d.config;
    this.random = d.random ?? Math.random;
    this.loadedAt = d.now();
  }

  /** Releases expired suspensions every second, so the release is logged and seen in /metrics on time. */
  start(): void {
    this.sweepTimer ??= setInterval(() => this.sweep(this.d.now()), SWEEP_MS);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** A new configuration (the operator's file changed): limits apply to the next send; suspensions stay. */
  apply(config: ShapingConfig): void {
    this.config = config;
    this.classified.clear();
    this.loadedAt = this.d.now();
    this.reloadError = null;
    for (const g of this.gates.values()) {
      g.limits = (g.provider === null ? null : config.providers.find((p) => p.name === g.provider)?.limits) ?? config.default;
      g.throttle.sending.wakeAll();
    }
    for (const [domain, g] of this.domainGates) {
      const limits = config.domains.get(domain);
      if (limits) g.limits = limits;
      else this.domainGates.delete(domain);
      g.throttle.sending.wakeAll();
    }
  }

  /** The operator's file changed into something unusable: shown by the API until a good version loads. */
  reloadFailed(message: string): void {
    this.reloadError = { at: this.d.now(), message };
  }

  /** Called with the gate's key when it is suspended (the pool closes its idle connections). */
  onSuspend(listener: (gateKey: string) => void): void {
    this.listeners.push(listener);
  }

  /** The gate of a destination: its provider's, else one of its own. */
  gateFor(hosts: readonly { host: string; port: number; relay?: unknown }[]): ProviderGate {
    const destKey = hosts.map((h) => `${h.host}:${h.port}`).join(',');
    let provider = this.classified.get(destKey);
    if (provider === undefined) {
      provider = providerOf(hosts, this.config.providers);
      if (this.classified.size >= MAX_CLASSIFIED) this.classified.clear();
      this.classified.set(destKey, provider);
    }
    const key = provider ? `provider:${provider.name}` : `${DESTINATION_PREFIX}${destKey}`;
    let gate = this.gates.get(key);
    if (!gate) {
      gate = new ProviderGate(key, provider?.name ?? null, provider?.name ?? hosts[0]?.host ?? destKey, provider?.limits ?? this.config.default);
      gate.holdJitter = this.random();
      this.gates.set(key, gate);
      if (this.gates.size > MAX_GATES) this.forgetOne();
    }
    return gate;
  }

  /**
   * Whether a recipient must wait without a connection: its provider is suspended (for any
   * sending IP), or its provider's or domain's hourly limit is used up. The worker asks before
   * composing; the pool asks again after a send waited (ShapingTicket.ready).
   */
  holdFor(hosts: readonly { host: string; port: number; relay?: unknown }[], recipientDomain: string, now: number): ShapingHold | null {
    return this.holdOf(this.gateFor(hosts), this.domainGateFor(recipientDomain), now);
  }

  /**
   * Waits for the send's turn: pacing (the provider's and the domain's), then a sending slot of
   * the domain and of the provider. Returns the ticket the pool holds while it sends, or the hold
   * when the recipient must wait instead.
   *
   * `destinationPacer` is the pool's per-destination limiter (POSTLINE_PER_DESTINATION_RATE, kept
   * by all the processes of one PostgreSQL together): it paces a destination of no known
   * provider, as it did before there was shaping, so that rate keeps meaning what it meant. The
   * shaper's own pacer is added only while such a destination recovers from a slow-down.
   */
  async admit(
    hosts: readonly { host: string; port: number; relay?: unknown }[],
    to: string,
    destinationPacer?: { take(key: string): Promise<void> } | null,
  ): Promise<ShapingTicket | ShapingHold> {
    const now = this.d.now();
    const gate = this.gateFor(hosts);
    const domain = this.domainGateFor(to.slice(to.lastIndexOf('@') + 1));
    const hold = this.holdOf(gate, domain, now);
    if (hold) return hold;
    const external = gate.provider === null && destinationPacer ? destinationPacer : null;
    const own = external && !(now < gate.recoveringUntil) ? null : gate.perSecondAt(now, this.config.slowDown.recoveryFactor);
    const shared = this.d.sharedPacing;
    if (shared) {
      if (own !== null) await shared.take(gate.key, own);
      if (domain?.limits.perSecond) await shared.take(`domain:${domain.domain}`, domain.limits.perSecond);
    } else {
      const wait = Math.max(gate.throttle.reserve(own), domain ? domain.throttle.reserve(domain.limits.perSecond ?? null) : 0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (external) await external.take(gate.key.slice(DESTINATION_PREFIX.length));
    if (domain) await domain.throttle.sending.take(() => domain.limits.connections ?? Number.POSITIVE_INFINITY);
    await gate.throttle.sending.take(() => gate.limits.connections);
    return new ShapingTicket(this, gate, domain);
  }

  /** @internal (ShapingTicket) */
  holdOf(gate: ProviderGate, domain: DomainGate | null, now: number): ShapingHold | null {
    if (gate.suspensions.size > 0) {
      this.releaseExpired(gate, now);
      const s = gate.current(now);
      if (s) return this.suspensionHold(gate, s);
    }
    if (gate.limits.perHour !== null && gate.throttle.sentLastHour(now) >= gate.limits.perHour) {
      return this.hourlyHold(gate.name, gate.limits.perHour, gate.throttle.roomAt(now, gate.limits.perHour), gate);
    }
    const domainHour = domain?.limits.perHour;
    if (domain && domainHour !== undefined && domainHour !== null && domain.throttle.sentLastHour(now) >= domainHour) {
      return this.hourlyHold(domain.domain, domainHour, domain.throttle.roomAt(now, domainHour), gate);
    }
    return null;
  }

  /**
   * What a send came to: a reply (or the error of a session that broke off with one) that matches
   * a slow-down pattern suspends or slows the gate for `localIp`.
   */
  observe(gate: ProviderGate, text: string | null, localIp: string | null, now: number): void {
    if (localIp) gate.lastIp = localIp;
    if (text === null) return;
    const pattern = slowDownMatch(text, this.config.patterns);
    if (!pattern) return;
    const sourceIp = localIp ?? gate.lastIp ?? 'unknown';
    const reply = replyLine(text);
    gate.slowDowns++;
    gate.lastSlowDown = { at: now, sourceIp, reply, patternId: pattern.id };
    this.d.metrics?.shapingSlowDown(gate.label);
    const s = this.config.slowDown;
    if (pattern.action === 'slow') {
      const until = now + s.recoveryMs;
      if (gate.recoveringUntil <= now)
        this.d.log.warn(
          {
            event: 'shaping.slowed',
            provider: gate.name,
            sourceIp,
            reply,
            pattern: pattern.id,
            until: new Date(until).toISOString(),
            factor: s.recoveryFactor,
          },
          'a provider asked to slow down: its rate is reduced for a while',
        );
      gate.recoveringUntil = Math.max(gate.recoveringUntil, until);
      return;
    }
    this.releaseExpired(gate, now);
    // Replies of sends that were already under way when the suspension began say nothing new.
    if (gate.suspensions.has(sourceIp)) return;
    const level = nextLevel(gate.history.get(sourceIp) ?? null, now, s);
    const suspension: Suspension = { sourceIp, since: now, until: now + backoffMs(level, s), reply, patternId: pattern.id, level, jitter: this.random() };
    gate.suspensions.set(sourceIp, suspension);
    this.suspended.add(gate);
    this.countSuspended(gate.label, sourceIp, +1);
    this.d.log.warn(
      {
        event: 'shaping.suspended',
        provider: gate.name,
        sourceIp,
        reply,
        pattern: pattern.id,
        until: new Date(suspension.until).toISOString(),
        backoffMs: suspension.until - now,
      },
      'a provider asked to slow down: nothing is sent to it from this IP until the suspension ends',
    );
    for (const l of this.listeners) l(gate.key);
  }

  /** Releases every suspension that has run out (the timer calls it; any send's check does too). */
  sweep(now: number): void {
    for (const g of this.suspended) this.releaseExpired(g, now);
  }

  /** The providers, their limits and their state now (GET /api/v2/delivery/shaping). */
  view(connectionsOf?: (gateKey: string) => number): ShapingView {
    const now = this.d.now();
    this.sweep(now);
    const c = this.config;
    const stateOf = (g: ProviderGate | undefined): GateStateView => this.stateOf(g, now, connectionsOf);
    return {
      file: this.d.file ?? null,
      loadedAt: this.loadedAt,
      reloadError: this.reloadError,
      default: c.default,
      providers: c.providers.map((p) => ({ name: p.name, mx: p.mx, limits: p.limits, state: stateOf(this.gates.get(`provider:${p.name}`)) })),
      destinations: [...this.gates.values()]
        .filter((g) => g.provider === null && (g.slowDowns > 0 || g.suspensions.size > 0))
        .map((g) => ({ hosts: g.key.slice(DESTINATION_PREFIX.length), limits: g.limits, state: stateOf(g) })),
      domains: [...c.domains].map(([domain, limits]) => {
        const g = this.domainGates.get(domain);
        return { domain, limits, sending: g?.throttle.sending.active ?? 0, sentLastHour: g?.throttle.sentLastHour(now) ?? 0 };
      }),
      slowDown: c.slowDown,
      patterns: c.patterns.map((p) => ({ id: p.id, match: p.source, action: p.action })),
    };
  }

  /** @internal (ShapingTicket) */
  get now(): number {
    return this.d.now();
  }

  private stateOf(g: ProviderGate | undefined, now: number, connectionsOf?: (gateKey: string) => number): GateStateView {
    return {
      sending: g?.throttle.sending.active ?? 0,
      waiting: g?.throttle.sending.waiting ?? 0,
      connectionsOpen: g && connectionsOf ? connectionsOf(g.key) : 0,
      perSecondNow: g ? g.perSecondAt(now, this.config.slowDown.recoveryFactor) : null,
      slowedUntil: g && g.recoveringUntil > now ? g.recoveringUntil : null,
      sentLastHour: g?.throttle.sentLastHour(now) ?? 0,
      slowDowns: g?.slowDowns ?? 0,
      lastSlowDown: g?.lastSlowDown ?? null,
      suspensions: g
        ? [...g.suspensions.values()].map((s) => ({ sourceIp: s.sourceIp, since: s.since, until: s.until, reply: s.reply, pattern: s.patternId }))
        : [],
    };
  }

  private domainGateFor(domain: string): DomainGate | null {
    if (this.config.domains.size === 0) return null;
    const d = domain.toLowerCase();
    const limits = this.config.domains.get(d);
    if (!limits) return null;
    let g = this.domainGates.get(d);
    if (!g) this.domainGates.set(d, (g = new DomainGate(d, limits)));
    return g;
  }

  private releaseExpired(gate: ProviderGate, now: number): void {
    for (const [ip, s] of gate.suspensions) {
      if (s.until > now) continue;
      gate.suspensions.delete(ip);
      gate.history.set(ip, { level: s.level, releasedAt: s.until });
      const r = this.config.slowDown;
      if (r.recoveryFactor < 1 && r.recoveryMs > 0) gate.recoveringUntil = Math.max(gate.recoveringUntil, s.until + r.recoveryMs);
      this.countSuspended(gate.label, ip, -1);
      this.d.log.info(
        {
          event: 'shaping.released',
          provider: gate.name,
          sourceIp: ip,
          suspendedMs: s.until - s.since,
          slowedUntil: gate.recoveringUntil > now ? new Date(gate.recoveringUntil).toISOString() : null,
        },
        'a suspended provider is sent to again',
      );
    }
    if (gate.suspensions.size === 0) this.suspended.delete(gate);
  }

  private countSuspended(label: string, ip: string, delta: number): void {
    const key = `${label}\u0000${ip}`;
    const n = Math.max(0, (this.suspendedCounts.get(key) ?? 0) + delta);
    this.suspendedCounts.set(key, n);
    this.d.metrics?.shapingSuspended(label, ip, n);
  }

  private suspensionHold(gate: ProviderGate, s: Suspension): ShapingHold {
    return {
      // Deferred as of the release: the retry schedule's wait starts when sending may start again.
      since: s.until,
      until: s.until,
      reason: `held by traffic shaping: ${gate.name} asked ${s.sourceIp} to slow down (${s.reply}); nothing is sent to it until ${new Date(s.until).toISOString()}`,
      classification: { permanent: false, failureCode: 1006, enhancedStatus: parseEnhancedStatus(s.reply), explanation: SLOW_DOWN_EXPLANATION, ruleId: null },
      jitter: s.jitter,
    };
  }

  private hourlyHold(what: string, perHour: number, roomAt: number, gate: ProviderGate): ShapingHold {
    return {
      since: roomAt,
      until: roomAt,
      reason: `held by traffic shaping: the hourly limit of ${perHour} messages to ${what} is reached; there is room again at ${new Date(roomAt).toISOString()}`,
      classification: HOURLY_HOLD,
      // Per gate, so the recipients held at one time share their retry time.
      jitter: gate.holdJitter,
    };
  }

  /** Forgets the oldest gate that holds nothing worth keeping (looking at the oldest few only). */
  private forgetOne(): void {
    let looked = 0;
    for (const [key, g] of this.gates) {
      if (g.forgettable) {
        this.gates.delete(key);
        return;
      }
      if (++looked >= 100) return;
    }
  }
}

/**
 * One send's passage through its gates, from admission to the end of its transaction. The pool
 * holds it: it says how many connections the gate may have open and how many messages a
 * connection may carry, tells the shaper what the server answered, and gives the slots back.
 */
export class ShapingTicket {
  private finished = false;

  constructor(
    private readonly shaper: TrafficShaper,
    readonly gate: ProviderGate,
    private readonly domain: DomainGate | null,
  ) {}

  /** The key the pool files this gate's connections under. */
  get gateKey(): string {
    return this.gate.key;
  }

  /** Connections the gate may have open at once, across all its destinations. */
  get connections(): number {
    return this.gate.limits.connections;
  }

  get messagesPerConnection(): number {
    const own = this.domain?.limits.messagesPerConnection;
    return own === undefined ? this.gate.limits.messagesPerConnection : Math.min(own, this.gate.limits.messagesPerConnection);
  }

  /**
   * Last check before the connection is used: the gate may have been suspended, or the hour
   * filled, while this send waited. null: go, and the message is counted in the hour.
   */
  ready(): ShapingHold | null {
    const now = this.shaper.now;
    const hold = this.shaper.holdOf(this.gate, this.domain, now);
    if (hold) return hold;
    // Counted for a provider (shown by the API) or where an hourly limit needs it; not for each of
    // thousands of unknown destinations without one.
    if (this.gate.provider !== null || this.gate.limits.perHour !== null) this.gate.throttle.count(now);
    this.domain?.throttle.count(now);
    return null;
  }

  /** The server's reply or the session's error (null when it took the message), and the connection's local address. */
  observe(text: string | null, localIp: string | null): void {
    this.shaper.observe(this.gate, text, localIp, this.shaper.now);
  }

  /** Suspended now: a connection to it is closed rather than kept idle. */
  get suspended(): boolean {
    return this.gate.current(this.shaper.now) !== null;
  }

  done(): void {
    if (this.finished) return;
    this.finished = true;
    this.gate.throttle.sending.give();
    this.domain?.throttle.sending.give();
  }
}
