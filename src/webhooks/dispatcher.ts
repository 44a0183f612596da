import type { Logger } from 'pino';
import { WakeSignal } from '../core/wake-signal.js';
import type { Store, WebhookAttemptRecord, WebhookWork } from '../store/store.js';
import { nextAttemptAt, shouldDisableEndpoint } from './backoff.js';
import { fromEventRow } from './event-row.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, guardedDispatcher, type PostOutcome } from './post.js';
import type { Dispatcher } from 'undici';
import { sendWebhook } from './send.js';
import type { UrlGuard } from './url-guard.js';

export type WebhookPostOutcome = 'delivered' | 'failed' | 'gave_up';

export interface WebhookMetrics {
  webhookPost(outcome: WebhookPostOutcome, seconds: number): void;
}

export interface WebhookDispatcherDeps {
  store: Store;
  log: Logger;
  now: () => number;
  guard: UrlGuard;
  workerId: string;
  timeoutMs?: number;
  /** Waits between attempts; default backoff.ts' production schedule (about 76 h). Tests use milliseconds. */
  retrySchedule?: readonly number[];
  /** How long an endpoint may fail every attempt before it is disabled; default 72 h. */
  disableAfterMs?: number;
  /** How often an idle dispatcher looks for due rows; an event committed in this process wakes it at once. */
  pollMs?: number;
  /** A claim older than this belongs to a dead dispatcher and is taken over. */
  staleMs?: number;
  /** Worker registry: a claim of a worker not heartbeating for this long is taken over at once. Unset: only staleMs. */
  deadAfterMs?: number;
  claimBatch?: number;
  /** POSTs in flight at once. */
  concurrency?: number;
  metrics?: WebhookMetrics;
  random?: () => number;
}

/** Well past the longest batch: every POST of a batch ends within the timeout (15 s), and batches run in parallel. */
export const DEFAULT_WEBHOOK_STALE_CLAIM_MS = 5 * 60_000;
const DEFAULT_POLL_MS = 1_000;
const DEFAULT_CLAIM_BATCH = 250;
const DEFAULT_CONCURRENCY = 32;
/**
 * Claim-post-record loops run side by side, so one batch's database round trips overlap another's
 * POSTs: with a single loop the fan-out benchmark spent most of its time waiting between batches.
 * Order per recipient and endpoint still holds: a row is not claimable while an earlier one of its
 * recipient waits, whichever loop holds it.
 */
const DEFAULT_LOOPS = 4;
/** After a wake-up, let the events of a few commits gather so one claim takes them together. */
const CLAIM_COALESCE_MS = 10;

/**
 * Delivers the webhook outbox: claims due rows in batches, builds each payload from its event,
 * message and recipient, signs and POSTs it, records the attempt and the row's next state
 * (delivered, retry at the next backoff step, or given up), and disables an endpoint that has
 * failed for too long. Outcomes are values; one catch turns the unexpected into a failed attempt.
 */
export class WebhookDispatcher {
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private readonly signal = new WakeSignal();
  /** Keep-alive connections, shared by every loop (the guard's lookup still checks each new connection). */
  private readonly connections: Dispatcher;
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(private readonly d: WebhookDispatcherDeps) {
    this.timeoutMs = d.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.staleMs = d.staleMs ?? DEFAULT_WEBHOOK_STALE_CLAIM_MS;
    this.connections = guardedDispatcher(d.guard, (d.concurrency ?? DEFAULT_CONCURRENCY) * DEFAULT_LOOPS);
    if (!(this.staleMs > this.timeoutMs)) throw new Error('webhook staleMs must exceed the POST timeout, or live claims would be taken over');
  }

  start(): void {
    this.loopDone ??= Promise.all(Array.from({ length: DEFAULT_LOOPS }, () => this.loop())).then(() => undefined);
  }

  /** Events were committed: look now instead of at the next poll. */
  wake(): void {
    this.signal.wake();
  }

  /** Stops claiming and waits for the batch in flight (each POST ends within the timeout) to be recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopDone;
    await this.connections.destroy().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const pollMs = this.d.pollMs ?? DEFAULT_POLL_MS;
    while (!this.stopping) {
      let work: WebhookWork[] = [];
      try {
        const now = this.d.now();
        work = await this.d.store.claimWebhookDeliveries(this.d.workerId, this.d.claimBatch ?? DEFAULT_CLAIM_BATCH, now, now - this.staleMs,
          this.d.deadAfterMs === undefined ? undefined : now - this.d.deadAfterMs);
        if (work.length > 0) await this.runBatch(work);
      } catch (err) {
        // Claims not recorded are taken over by time; nothing is lost.
        this.d.log.error({ err, event: 'webhook.dispatch_failed' }, 'webhook dispatch failed; retrying at the next poll');
        work = [];
      }
      // A full claim may leave more due rows, and a delivered row may unblock the next event of
      // its message: look again at once. Otherwise sleep until the poll or a wake-up.
      if (work.length > 0) continue;
      const woken = await this.signal.sleep(pollMs);
      if (woken && !this.stopping) await new Promise((r) => setTimeout(r, CLAIM_COALESCE_MS));
    }
  }

  private async runBatch(work: WebhookWork[]): Promise<void> {
    const records: { rec: WebhookAttemptRecord; w: WebhookWork; seconds: number }[] = [];
    let next = 0;
    const lane = async () => {
      while (next < work.length) {
        const w = work[next++]!;
        const started = Date.now();
        const rec = await this.attempt(w).catch((err: unknown) => {
          this.d.log.error({ err, event: 'webhook.unexpected', deliveryId: w.deliveryId }, 'webhook attempt failed unexpectedly');
          return this.failure(w, { ok: false, durationMs: Date.now() - started, error: `internal error: ${(err as Error).message}` }, false);
        });
        records.push({ rec, w, seconds: (Date.now() - started) / 1000 });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.d.concurrency ?? DEFAULT_CONCURRENCY, work.length) }, lane));
    const now = this.d.now();
    // Endpoints to disable are disabled BEFORE the attempts are recorded: a recorded failure is
    // due again after its backoff, and with several loops another one could claim the retry in
    // between. The streak start comes from the endpoint as claimed (or now, when a success
    // earlier in this batch ended the previous streak).
    const streaks = new Map<number, { w: WebhookWork; rec: WebhookAttemptRecord; sawOk: boolean }>();
    for (const { rec, w } of records) {
      if (!rec.ok && !rec.posted) continue; // a payload we could not build says nothing about the receiver
      const s = streaks.get(rec.endpointId);
      streaks.set(rec.endpointId, { w, rec, sawOk: (s?.sawOk ?? false) || rec.ok });
    }
    for (const { w, rec, sawOk } of streaks.values()) {
      if (rec.ok) continue;
      const failingSince = sawOk ? now : w.endpoint.failingSince ?? now;
      const status = rec.httpStatus ?? undefined;
      if (!shouldDisableEndpoint({ failingSince, now, status, disableAfterMs: this.d.disableAfterMs })) continue;
      await this.disable(w, status === 410
        ? `the endpoint answered 410 Gone at ${new Date(now).toISOString()}`
        : `every attempt has failed since ${new Date(failingSince).toISOString()}; last error: ${rec.error ?? 'unknown'}`);
    }
    await this.d.store.recordWebhookAttempts(this.d.workerId, records.map((r) => r.rec), now);
    for (const { rec, seconds } of records) this.d.metrics?.webhookPost(rec.next.status, seconds);
  }

  private async disable(w: WebhookWork, reason: string): Promise<void> {
    const current = await this.d.store.getWebhookEndpoint(w.endpoint.serverId, w.endpoint.id);
    if (!current?.enabled) return;
    await this.d.store.updateWebhookEndpoint(w.endpoint.serverId, w.endpoint.id, { enabled: false, disabledReason: reason }, this.d.now());
    this.d.log.warn({ event: 'webhook.endpoint_disabled', endpointId: w.endpoint.id, serverId: w.endpoint.serverId, url: w.endpoint.url, reason },
      `webhook endpoint disabled: ${reason}`);
  }

  /** One outbox row: build the payload, POST it, decide the row's next state. */
  private async attempt(w: WebhookWork): Promise<WebhookAttemptRecord> {
    if (!w.message || !w.recipient) {
      return this.unsendable(w, `event ${w.event.uid}: its message or recipient is missing`);
    }
    const mapped = fromEventRow({ event: w.event, message: w.message, recipient: w.recipient });
    if (!mapped.ok) return this.unsendable(w, mapped.error);
    const outcome = await sendWebhook(mapped.event, w.endpoint, { guard: this.d.guard, timeoutMs: this.timeoutMs, now: this.d.now(), dispatcher: this.connections });
    if (outcome.ok) {
      return {
        deliveryId: w.deliveryId, endpointId: w.endpoint.id, ok: true, posted: true, httpStatus: outcome.status ?? null,
        durationMs: outcome.durationMs, error: null, responseSnippet: outcome.responseSnippet ?? null,
        next: { status: 'delivered', attempts: w.attempts + 1, nextAttemptAt: this.d.now() },
      };
    }
    return this.failure(w, outcome, true);
  }

  /** A row whose payload cannot be built will never succeed: give it up at once, and say why. */
  private unsendable(w: WebhookWork, error: string): WebhookAttemptRecord {
    this.d.log.error({ event: 'webhook.bad_event', deliveryId: w.deliveryId, eventUid: w.event.uid, error }, 'webhook event cannot be sent');
    return {
      deliveryId: w.deliveryId, endpointId: w.endpoint.id, ok: false, posted: false, httpStatus: null, durationMs: 0, error, responseSnippet: null,
      next: { status: 'gave_up', attempts: w.attempts + 1, nextAttemptAt: this.d.now() },
    };
  }

  private failure(w: WebhookWork, outcome: PostOutcome, posted: boolean): WebhookAttemptRecord {
    const attempts = w.attempts + 1;
    const now = this.d.now();
    const at = nextAttemptAt(attempts, now, this.d.random, this.d.retrySchedule);
    if (at === null) {
      this.d.log.warn({ event: 'webhook.gave_up', deliveryId: w.deliveryId, endpointId: w.endpoint.id, eventUid: w.event.uid, attempts, error: outcome.error },
        'webhook event given up after its last attempt');
    }
    return {
      deliveryId: w.deliveryId, endpointId: w.endpoint.id, ok: false, posted, httpStatus: outcome.status ?? null, durationMs: outcome.durationMs,
      error: outcome.error ?? 'failed', responseSnippet: outcome.responseSnippet ?? null,
      next: at === null ? { status: 'gave_up', attempts, nextAttemptAt: now } : { status: 'failed', attempts, nextAttemptAt: at },
    };
  }
}
