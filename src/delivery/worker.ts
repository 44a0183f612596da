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
import { FAILURE_TTL_MS } from '../dns/cache-policy.js';
import { CONNECT_FAILURE_TTL_MS, FailingDomains, Pacer, type DomainFailure } from './failing-domains.js';

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
  lifetimeMs: number;
  retrySchedule?: readonly number[];
  /** Recipients held in memory at once (claimed and not yet recorded). */
  maxInFlight?: number;
  claimBatch?: number;
  /** How often an idle worker looks for due rows; an accept in this process wakes it at once. */
  pollMs?: number;
  /** A claim older than this is taken to belong to a dead worker and is reclaimed. */
  staleMs?: number;
  metrics?: DeliveryMetrics;
  /** Engagement tracking (links, pixel, List-Unsubscribe) for servers that switch it on. */
  tracking?: TrackingService | null;
  /** A server's default custom bounce domain (in memory: custom-domains/cache.ts), or null for `bounceDomain`. */
  bounceDomainOf?: (serverId: number) => string | null;
}

/** Longer than the longest SMTP transaction we allow (10 min for the end of DATA, RFC 5321) plus margin. */
export const DEFAULT_STALE_CLAIM_MS = 15 * 60_000;
/** How long a woken worker lets accepts accumulate before claiming them. */
const CLAIM_COALESCE_MS = 10;
const OUTCOME_FLUSH_ITEMS = 200;
const OUTCOME_FLUSH_MS = 20;
const TEMPLATE_CACHE_ENTRIES = 2_000;
const SERVER_CACHE_MS = 5_000;
/**
 * Recipients of failing domains deferred per second at most, per process. Deferring one costs the
 * store about twice what accepting it did (its claim, its row update, its Deferred event and
 * counters), so unpaced, mail to failing domains would take the event loop and SQLite's writer
 * from the API. At this rate deferrals use under a fifth of what bulk injection alone can; the
 * rest wait in the queue (or in memory, claims renewed): a million are deferred in six minutes.
 */
export const FAILING_DOMAIN_DEFERRALS_PER_SEC = 3_000;
/** The deferral of a recipient whose domain DNS could not resolve (a resolver failure, not an answer). */
const DNS_FAILURE: Classification = { permanent: false, failureCode: 4999, enhancedStatus: null, explanation: 'The recipient domain could not be looked up in DNS.', ruleId: null };

/** The Return-Path that lets an asynchronous bounce be traced to its recipient: b+<recipient id>@<bounce domain>. */
export function returnPathFor(recipientId: string, bounceDomain: string): string {
  return `b+${recipientId.toLowerCase()}@${bounceDomain}`;
}

/**
 * Claims due recipients in batches and delivers each through an ordered pipeline:
 * load context -> sandbox? -> resolve destination -> compose -> sign -> send -> record outcome.
 * Outcomes are values; the one catch turns anything unexpected into a deferral.
 */
export class DeliveryWorker {
  private stopping = false;
  private inFlight = 0;
  /** Recipients claimed and not yet recorded: their claims are renewed while we hold them. */
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
      await this.d.store.renewClaims(this.d.workerId, [...this.held], this.d.now());
    } catch (err) {
      this.d.log.error({ err, event: 'delivery.renew_failed', count: this.held.size }, 'renewing claims failed');
    }
  }

  /** Deliveries claimed and not yet finished. */
  get inFlightCount(): number {
    return this.inFlight;
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
    this.slotWaiters.splice(0).forEach((w) => w());
    await this.loopDone;
    const deadline = Date.now() + drainMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.flush();
    this.d.pool.close();
    if (this.inFlight > 0) {
      this.d.log.warn({ event: 'delivery.stop_timeout', inFlight: this.inFlight }, 'stopped with deliveries in flight; their claims are reclaimed by time');
    }
  }

  private async loop(): Promise<void> {
    const pollMs = this.d.pollMs ?? 250;
    const staleMs = this.d.staleMs ?? DEFAULT_STALE_CLAIM_MS;
    while (!this.stopping) {
      const room = this.maxInFlight - this.inFlight;
      if (room < Math.min(this.claimBatch, this.maxInFlight) / 2) {
        await new Promise<void>((r) => this.slotWaiters.push(r));
        continue;
      }
      let rows: StoredRecipient[] = [];
      try {
        const now = this.d.now();
        rows = await this.d.store.claimRecipients(this.d.workerId, Math.min(room, this.claimBatch), now, now - staleMs);
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
        return deferOrExpire(r, r.attempts + 1, `internal error: ${(err as Error).message}`, null,
          { permanent: false, failureCode: 9999, enhancedStatus: null, explanation: 'Postline could not process the message; it will retry.', ruleId: null },
          { now: this.d.now(), lifetimeMs: this.d.lifetimeMs, retrySchedule: this.d.retrySchedule });
      })
      .then((outcome) => {
        if (outcome) {
          this.d.metrics?.observe(outcome.status, (Date.now() - started) / 1000);
          this.record(outcome);
        } else {
          this.held.delete(r.id); // released
        }
      })
      .finally(() => {
        this.inFlight--;
        this.slotWaiters.shift()?.();
      });
  }

  /** The pipeline for one recipient. null: released untouched (shutting down before sending). */
  private async deliver(r: StoredRecipient): Promise<DeliveryOutcomeRecord | null> {
    const now = this.d.now();
    const ctx = { now, lifetimeMs: this.d.lifetimeMs, retrySchedule: this.d.retrySchedule };
    const [template, server] = await Promise.all([this.template(r.messageId), this.server(r.serverId)]);
    if (!template) return undeliverable(r, 'message content is missing', 9999, 'The stored message could not be found.');
    if (server?.sandbox) {
      return { recipientId: r.id, status: 'sandboxed', attempts: r.attempts, nextAttemptAt: null, reply: null, mx: null, failureCode: null,
        event: { type: 'Delivered', data: { Response: '250 Sandbox mode: processed and kept, not sent', RemoteMta: null, Sandbox: true } } };
    }
    const failing = this.failing.check(r.domain, now);
    if (failing) return this.deferWithDomain(r, failing, ctx);
    const dest = await this.d.resolver.resolve(r.domain);
    if (dest.kind === 'undeliverable') return undeliverable(r, dest.reason, dest.failureCode, 'The recipient domain accepts no mail.', dest.definitive);
    if (dest.kind === 'dns_error') {
      const at = this.d.now();
      return this.deferWithDomain(r, this.failing.fail(r.domain, at, at + FAILURE_TTL_MS, dest.reason, DNS_FAILURE), ctx);
    }
    const tracking = server && this.d.tracking && !template.rawMime ? this.d.tracking.forRecipient(server, r.messageId, template, r.id) : null;
    const composed = await composeMessage({ template, merge: r.merge, deliveryAddress: r.address, recipientId: r.id, hostname: this.d.hostname, date: new Date(now), tracking });
    const signed = await this.d.sign(composed, domainOf(template.from.email), r.serverId);
    if (this.stopping) {
      await this.d.store.releaseRecipients(this.d.workerId, [r.id], this.d.now());
      return null;
    }
    const bounceDomain = this.d.bounceDomainOf?.(r.serverId) ?? this.d.bounceDomain;
    const result = await this.d.pool.send(dest.hosts, { from: returnPathFor(r.id, bounceDomain), to: r.address }, signed);
    const at = this.d.now();
    if (result.kind === 'unreachable' && result.connect) {
      // No MX host took a connection: the domain's other recipients wait with this one instead of each trying.
      this.failing.fail(r.domain, at, at + CONNECT_FAILURE_TTL_MS, result.error, this.d.classify({ code: null, text: result.error }));
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
      t = this.d.store.getMessageTemplate(messageId);
      this.templates.set(messageId, t);
      t.catch(() => this.templates.delete(messageId));
      if (this.templates.size > TEMPLATE_CACHE_ENTRIES) this.templates.delete(this.templates.keys().next().value!);
    }
    return t;
  }

  private server(id: number): Promise<Server | undefined> {
    const hit = this.servers.get(id);
    if (hit && hit.until > Date.now()) return hit.server;
    const server = this.d.store.getServer(id);
    this.servers.set(id, { until: Date.now() + SERVER_CACHE_MS, server });
    return server;
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
        await this.d.store.recordOutcomes(this.d.workerId, batch, this.d.now());
        for (const o of batch) this.held.delete(o.recipientId);
      } catch (err) {
        // Keep them: the claims are still ours, and a later flush (or stale reclaim) settles them.
        this.d.log.error({ err, event: 'delivery.record_failed', count: batch.length }, 'recording outcomes failed; retrying');
        this.pending.unshift(...batch);
        this.flushTimer ??= setTimeout(() => void this.flush(), 1_000);
      }
    });
    return this.flushing;
  }
}
