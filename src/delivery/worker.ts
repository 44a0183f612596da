import type { Logger } from 'pino';
import type { DeliveryOutcomeRecord, Server, Store, StoredRecipient } from '../store/store.js';
import type { MessageTemplate } from '../core/message.js';
import { domainOf } from '../core/address.js';
import { composeMessage } from '../compose/compose.js';
import type { TrackingService } from '../tracking/service.js';
import type { MxResolver } from './mx.js';
import type { SmtpPool } from './smtp-pool.js';
import { deferOrExpire, outcomeFor, undeliverable, type Classification, type Classify, type OutcomeContext } from './outcome.js';
import { WakeSignal } from '../core/wake-signal.js';
import { tracedLocalPart, type VerpKeyring } from '../core/verp.js';
import { FAILURE_TTL_MS } from '../dns/cache-policy.js';
import { CONNECT_FAILURE_TTL_MS, FailingDomains, type DomainFailure } from './failing-domains.js';
import { routeFor, type RelayRoute } from './relay-routes.js';
import { Pacer } from './rate-limiter.js';
import type { TrafficShaper } from './shaping/traffic-shaper.js';
import type { TlsPolicy } from './tls-policy.js';

export interface DeliveryMetrics {
  observe(outcome: DeliveryOutcomeRecord['status'], seconds: number): void;
}

export interface DeliveryWorkerDeps {
  store: Store;
  log: Logger;
  now: () => number;
  resolver: MxResolver;
  pool: SmtpPool;
  classify: Classify;
  /** DKIM-signs a composed message for its From domain (returns it unchanged when the domain has no key). */
  sign: (message: Buffer, fromDomain: string, serverId?: number) => Promise<Buffer>;
  workerId: string;
  hostname: string;
  bounceDomain: string;
  /** Makes the trace tag of the Return-Path and Message-ID (bounce/verp-keys.ts loads it). */
  verp: VerpKeyring;
  lifetimeMs: number;
  retrySchedule?: readonly number[];
  /**
   * Recipients held at once: claimed and not yet recorded, whether still being delivered or
   * delivered with the outcome waiting for its transaction. A slot is freed only once the outcome
   * is committed, so at a crash at most this many recipients were handed to a remote server and
   * not recorded (the duplicate bound, docs/mail-engine.md).
   */
  maxInFlight?: number;
  claimBatch?: number;
  /** How often an idle worker looks for due rows; an accept in this process wakes it at once. */
  pollMs?: number;
  /** A claim older than this is taken to belong to a dead worker and is reclaimed (the fallback rule). */
  staleMs?: number;
  /**
   * With the worker registry (src/workers/registry.ts): a claim whose worker has not
   * heartbeaten for this long, or is not registered, is taken over at once. Unset: only staleMs.
   */
  deadAfterMs?: number;
  metrics?: DeliveryMetrics;
  /** Engagement tracking (links, pixel, List-Unsubscribe) for servers that switch it on. */
  tracking?: TrackingService | null;
  /** A server's default custom bounce domain (in memory: custom-domains/cache.ts), or null for `bounceDomain`. */
  bounceDomainOf?: (serverId: number) => string | null;
  /** Relay routes (relay-routes.ts): a server's or a domain's mail through a smart host of its own. */
  relayRoutes?: readonly RelayRoute[];
  /** Provider-aware traffic shaping (shaping/): a suspended provider's recipients are deferred before anything is composed. */
  shaping?: Pick<TrafficShaper, 'holdFor'> | null;
  /** The receiving domains' TLS policies (MTA-STS, DANE) applied to their MX hosts; absent: opportunistic TLS everywhere. */
  tlsPolicy?: TlsPolicy | null;
}

/** Longer than the longest SMTP transaction we allow (10 min for the end of DATA, RFC 5321) plus margin. */
export const DEFAULT_STALE_CLAIM_MS = 15 * 60_000;
/** How long a woken worker lets accepts accumulate before claiming them. */
const CLAIM_COALESCE_MS = 10;
/** Outcomes per transaction; a full batch is written at once. */
const OUTCOME_FLUSH_ITEMS = 200;
/** How long an outcome may wait for others to share its transaction: short, since an unrecorded delivery can be repeated after a crash. */
const OUTCOME_FLUSH_MS = 20;
/** After a failed outcome transaction, the wait before the next try (the claims stay ours meanwhile). */
const OUTCOME_RETRY_MS = 1_000;
const TEMPLATE_CACHE_ENTRIES = 2_000;
const SERVER_CACHE_MS = 5_000;
/**
 * Recipients of failing domains deferred per second at most, per process. Deferring one costs
 * several times what accepting it in a bulk request did (its claim, its row update, its Deferred
 * event, outbox row and counters), so unpaced, mail to failing domains would take the event loop
 * and SQLite's writer from the API; at 3,000/s bulk injection still fell below 20,000 recipients/s
 * (bench/dns-failure.js). The rest wait in the queue (or in memory, claims renewed): a million are
 * deferred in under 17 minutes, and each is retried on its schedule anyway.
 */
export const FAILING_DOMAIN_DEFERRALS_PER_SEC = 1_000;
/** The deferral of a recipient whose domain DNS could not resolve (a resolver failure, not an answer). */
const DNS_FAILURE: Classification = {
  permanent: false,
  failureCode: 4999,
  enhancedStatus: null,
  explanation: 'The recipient domain could not be looked up in DNS.',
  ruleId: null,
};
/** The deferral of a recipient whose domain's TLS policy (MTA-STS, DANE) leaves no MX host to use. */
const TLS_POLICY_UNMET: Classification = {
  permanent: false,
  failureCode: 4999,
  enhancedStatus: null,
  explanation: "The recipient domain's TLS policy allows none of its mail servers now; the message waits rather than going unprotected.",
  ruleId: null,
};

/**
 * The Return-Path that lets an asynchronous bounce be traced to its recipient, with the tag that
 * proves we wrote it (core/verp.ts): b+<recipient id>-<tag>@<bounce domain>.
 */
export function returnPathFor(recipientId: string, tag: string, bounceDomain: string): string {
  return `b+${tracedLocalPart(recipientId, tag)}@${bounceDomain}`;
}

/**
 * Claims due recipients in batches and delivers each through an ordered pipeline:
 * load context -> sandbox? -> resolve destination -> compose -> sign -> send -> record outcome.
 * Outcomes are values; the one catch turns anything unexpected into a deferral.
 */
export class DeliveryWorker {
  private stopping = false;
  /** Deliveries running (claimed, outcome not yet known). */
  private inFlight = 0;
  /**
   * Recipients claimed and not yet recorded: their claims are renewed while we hold them, and
   * they are what counts against maxInFlight (an outcome waiting for its transaction still holds
   * its slot, so delivered-but-unrecorded work is bounded).
   */
  private readonly held = new Set<string>();
  private renewTimer: NodeJS.Timeout | null = null;
  private loopDone: Promise<void> | null = null;
  private readonly signal = new WakeSignal();
  private slotWaiters: (() => void)[] = [];
  private pending: DeliveryOutcomeRecord[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly templates = new Map<string, Promise<MessageTemplate | undefined>>();
  private readonly servers = new Map<number, { until: number; server: Promise<Server | undefined> }>();
  private readonly maxInFlight: number;
  private readonly claimBatch: number;
  /** Domains that just failed as a whole: their recipients are deferred together, without a lookup. */
  private readonly failing = new FailingDomains();
  /** Paces those deferrals, in wall-clock time (FAILING_DOMAIN_DEFERRALS_PER_SEC). */
  private readonly failingPace = new Pacer(FAILING_DOMAIN_DEFERRALS_PER_SEC);

  constructor(private readonly d: DeliveryWorkerDeps) {
    this.maxInFlight = d.maxInFlight ?? 500;
    this.claimBatch = d.claimBatch ?? 200;
    if (!(this.maxInFlight >= 1) || !(this.claimBatch >= 1)) throw new Error('delivery limits must be >= 1');
  }

  start(): void {
    this.loopDone ??= this.loop();
    // Claims go stale after staleMs; a live worker renews what it holds well before that, so a
    // long in-memory backlog (a slow destination, a loaded machine) is never taken for a dead
    // worker's and delivered twice.
    const staleMs = this.d.staleMs ?? DEFAULT_STALE_CLAIM_MS;
    this.renewTimer ??= setInterval(() => void this.renew(), Math.max(200, Math.floor(staleMs / 3)));
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.d.store.queue.renew(this.d.workerId, [...this.held], this.d.now());
    } catch (err) {
      this.d.log.error({ err, event: 'delivery.renew_failed', count: this.held.size }, 'renewing claims failed');
    }
  }

  /** Recipients claimed and not yet recorded (at most maxInFlight). */
  get inFlightCount(): number {
    return this.held.size;
  }

  /**
   * A message this process just committed: its template is kept so delivery need not read it
   * back (a read and a JSON parse per relayed message). Only a shortcut; a miss reads the store.
   */
  prime(messageId: string, template: MessageTemplate): void {
    if (this.templates.has(messageId)) return;
    this.templates.set(messageId, Promise.resolve(template));
    if (this.templates.size > TEMPLATE_CACHE_ENTRIES) this.templates.delete(this.templates.keys().next().value!);
  }

  /** A server's settings changed in this process (e.g. its tracking origin): read them again for its next recipient. */
  forgetServer(serverId: number): void {
    this.servers.delete(serverId);
  }

  /** New work was committed: look now instead of at the next poll. */
  wake(): void {
    this.signal.wake();
  }

  /** Stops claiming, lets deliveries in flight finish (up to drainMs), records their outcomes. */
  async stop(drainMs = 30_000): Promise<void> {
    this.stopping = true;
    this.wake();
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    for (const w of this.slotWaiters.splice(0)) w();
    await this.loopDone;
    const deadline = Date.now() + drainMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.flush();
    this.d.pool.close();
    if (this.inFlight > 0) {
      this.d.log.warn(
        { event: 'delivery.stop_timeout', inFlight: this.inFlight },
        'stopped with deliveries in flight; their claims are taken over once this worker is deregistered',
      );
    }
  }

  private async loop(): Promise<void> {
    const pollMs = this.d.pollMs ?? 250;
    const staleMs = this.d.staleMs ?? DEFAULT_STALE_CLAIM_MS;
    while (!this.stopping) {
      const room = this.maxInFlight - this.held.size;
      if (room < Math.min(this.claimBatch, this.maxInFlight) / 2) {
        await new Promise<void>((r) => this.slotWaiters.push(r));
        continue;
      }
      let rows: StoredRecipient[] = [];
      try {
        const now = this.d.now();
        const deadBefore = this.d.deadAfterMs === undefined ? undefined : now - this.d.deadAfterMs;
        rows = await this.d.store.queue.claim(this.d.workerId, Math.min(room, this.claimBatch), now, now - staleMs, deadBefore);
      } catch (err) {
        this.d.log.error({ err, event: 'delivery.claim_failed' }, 'claiming recipients failed');
      }
      for (const r of rows) this.dispatch(r);
      if (rows.length < Math.min(room, this.claimBatch)) {
        // The queue is drained: sleep until the next poll or an accept wakes us. After a wake-up,
        // wait a moment so the claim takes what several accepts committed in one transaction
        // (each claim is a disk flush; one per accepted message halved relay throughput).
        const woken = await this.signal.sleep(pollMs);
        if (woken && !this.stopping) await new Promise((r) => setTimeout(r, CLAIM_COALESCE_MS));
      }
    }
  }

  private dispatch(r: StoredRecipient): void {
    this.inFlight++;
    this.held.add(r.id);
    const started = Date.now();
    void this.deliver(r)
      .catch((err: unknown): DeliveryOutcomeRecord => {
        this.d.log.error({ err, event: 'delivery.unexpected', recipientId: r.id }, 'delivery failed unexpectedly; deferring');
        return deferOrExpire(
          r,
          r.attempts + 1,
          `internal error: ${(err as Error).message}`,
          null,
          { permanent: false, failureCode: 9999, enhancedStatus: null, explanation: 'Postline could not process the message; it will retry.', ruleId: null },
          { now: this.d.now(), lifetimeMs: this.d.lifetimeMs, retrySchedule: this.d.retrySchedule },
        );
      })
      .then((outcome) => {
        if (outcome) {
          this.d.metrics?.observe(outcome.status, (Date.now() - started) / 1000);
          this.record(outcome);
        } else {
          this.release([r.id]); // given back untouched
        }
      })
      .finally(() => {
        this.inFlight--;
      });
  }

  /** The pipeline for one recipient. null: released untouched (shutting down before sending). */
  private async deliver(r: StoredRecipient): Promise<DeliveryOutcomeRecord | null> {
    const now = this.d.now();
    const ctx = { now, lifetimeMs: this.d.lifetimeMs, retrySchedule: this.d.retrySchedule };
    const [template, server] = await Promise.all([this.template(r.messageId), this.server(r.serverId)]);
    if (!template) return undeliverable(r, 'message content is missing', 9999, 'The stored message could not be found.');
    if (server?.sandbox) {
      return {
        recipientId: r.id,
        status: 'sandboxed',
        attempts: r.attempts,
        nextAttemptAt: null,
        reply: null,
        mx: null,
        failureCode: null,
        event: { type: 'Delivered', data: { Response: '250 Sandbox mode: processed and kept, not sent', RemoteMta: null, Sandbox: true } },
      };
    }
    // A routed recipient's fate is its smart host's: that host fails as a whole, not the domain (for every server).
    const routed = this.d.relayRoutes && this.d.relayRoutes.length > 0 ? routeFor(this.d.relayRoutes, r.serverId, r.domain) : null;
    const failKey = routed ? `relay ${routed.host}:${routed.port}` : r.domain;
    const failing = this.failing.check(failKey, now);
    if (failing) return this.deferWithDomain(r, failing, ctx);
    const dest = routed ? { kind: 'hosts' as const, hosts: [routed] } : await this.d.resolver.resolve(r.domain);
    if (dest.kind === 'undeliverable') return undeliverable(r, dest.reason, dest.failureCode, 'The recipient domain accepts no mail.', dest.definitive);
    if (dest.kind === 'dns_error') {
      const at = this.d.now();
      return this.deferWithDomain(r, this.failing.fail(failKey, at, at + FAILURE_TTL_MS, dest.reason, DNS_FAILURE), ctx);
    }
    // Its provider asked to slow down (or an hourly limit is used up): deferred like a failing domain, without a connection.
    const held = this.d.shaping?.holdFor(dest.hosts, r.domain, this.d.now());
    if (held) return this.deferWithDomain(r, held, ctx);
    // A smart host's TLS is its own (relay settings); the receiving domain's policy governs its MX hosts.
    let hosts = dest.hosts;
    if (this.d.tlsPolicy && !routed && !hosts.some((h) => h.relay)) {
      const applied = await this.d.tlsPolicy.apply(r.domain, hosts, dest.dnssec === true);
      if (applied.kind === 'defer') return deferOrExpire(r, r.attempts + 1, applied.reason, null, TLS_POLICY_UNMET, { ...ctx, now: this.d.now() });
      hosts = applied.hosts;
    }
    const tracking = server && this.d.tracking && !template.rawMime ? this.d.tracking.forRecipient(server, r.messageId, template, r.id) : null;
    const traceTag = this.d.verp.tag(r.id);
    const composed = await composeMessage({
      template,
      merge: r.merge,
      deliveryAddress: r.address,
      recipientId: r.id,
      traceTag,
      hostname: this.d.hostname,
      date: new Date(now),
      tracking,
    });
    const signed = await this.d.sign(composed, domainOf(template.from.email), r.serverId);
    if (this.stopping) {
      await this.d.store.queue.release(this.d.workerId, [r.id], this.d.now());
      return null;
    }
    const bounceDomain = this.d.bounceDomainOf?.(r.serverId) ?? this.d.bounceDomain;
    const result = await this.d.pool.send(hosts, { from: returnPathFor(r.id, traceTag, bounceDomain), to: r.address }, signed);
    const at = this.d.now();
    if (result.kind === 'unreachable' && result.connect) {
      // No MX host took a connection: the domain's other recipients wait with this one instead of each trying.
      this.failing.fail(failKey, at, at + CONNECT_FAILURE_TTL_MS, result.error, this.d.classify({ code: null, text: result.error }));
    }
    return outcomeFor(r, result, this.d.classify, { ...ctx, now: at });
  }

  /**
   * A recipient of a domain that failed as a whole, deferred as of the failure with the domain's
   * jitter: the domain's recipients get one retry time, so the flush writes them with one statement.
   */
  private async deferWithDomain(r: StoredRecipient, f: DomainFailure, ctx: OutcomeContext): Promise<DeliveryOutcomeRecord> {
    await this.failingPace.take();
    return deferOrExpire(r, r.attempts + 1, f.reason, null, f.classification, { ...ctx, now: f.since, random: () => f.jitter });
  }

  private template(messageId: string): Promise<MessageTemplate | undefined> {
    let t = this.templates.get(messageId);
    if (!t) {
      t = this.d.store.queue.getMessageTemplate(messageId);
      this.templates.set(messageId, t);
      t.catch(() => this.templates.delete(messageId));
      if (this.templates.size > TEMPLATE_CACHE_ENTRIES) this.templates.delete(this.templates.keys().next().value!);
    }
    return t;
  }

  private server(id: number): Promise<Server | undefined> {
    const hit = this.servers.get(id);
    if (hit && hit.until > Date.now()) return hit.server;
    const server = this.d.store.tenancy.getServer(id);
    this.servers.set(id, { until: Date.now() + SERVER_CACHE_MS, server });
    return server;
  }

  /** Frees the slots of recipients no longer held (recorded or given back) and wakes the loop. */
  private release(ids: readonly string[]): void {
    for (const id of ids) this.held.delete(id);
    for (let i = 0; i < ids.length && this.slotWaiters.length > 0; i++) this.slotWaiters.shift()!();
  }

  /** Outcomes are written in batches: one transaction (one flush) for many deliveries. */
  private record(o: DeliveryOutcomeRecord): void {
    this.pending.push(o);
    if (this.pending.length >= OUTCOME_FLUSH_ITEMS) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), OUTCOME_FLUSH_MS);
  }

  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending.splice(0);
      if (batch.length === 0) return;
      try {
        await this.d.store.queue.recordOutcomes(this.d.workerId, batch, this.d.now());
        this.release(batch.map((o) => o.recipientId));
      } catch (err) {
        // Keep them, slots included: the claims are still ours, and a later flush (or a takeover
        // after we die) settles them. Meanwhile the loop claims nothing new beyond maxInFlight.
        this.d.log.error({ err, event: 'delivery.record_failed', count: batch.length }, 'recording outcomes failed; retrying');
        this.pending.unshift(...batch);
        this.flushTimer ??= setTimeout(() => void this.flush(), OUTCOME_RETRY_MS);
      }
    });
    return this.flushing;
  }
}
