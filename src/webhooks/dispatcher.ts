import type { Logger } from 'pino';
import { WakeSignal } from '../core/wake-signal.js';
import type { Store, WebhookAttemptRecord, WebhookWork } from '../store/store.js';
import { nextAttemptAt, shouldDisableEndpoint } from '../net/backoff.js';
import { fromEventRow } from './event-row.js';
import { LEGACY_NOTIFICATION_TYPES, type WebhookEventType } from './payload.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, guardedDispatcher, type PostOutcome } from '../net/post.js';
import type { Dispatcher } from 'undici';
import { sendWebhook } from './send.js';
import { GroupCommitter } from '../store/group-commit.js';
import type { UrlGuard } from '../net/url-guard.js';

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
  /** POSTs in flight at once to one endpoint. */
  postsPerEndpoint?: number;
  /** Rows of one endpoint claimed and not yet recorded. */
  heldPerEndpoint?: number;
  metrics?: WebhookMetrics;
  random?: () => number;
}

/** Well past the longest wait of a claimed row: see WEBHOOK_HELD_PER_ENDPOINT. */
export const DEFAULT_WEBHOOK_STALE_CLAIM_MS = 5 * 60_000;
const DEFAULT_POLL_MS = 1_000;
/**
 * POSTs in flight at once to one endpoint: enough to keep a receiver that answers at once busy
 * while the process also claims and records, and all one receiver, slow or not, can occupy. A
 * slow endpoint's posts wait for its own lane only; the others keep theirs.
 */
export const WEBHOOK_POSTS_PER_ENDPOINT = 64;
/**
 * Rows of one endpoint a process holds (claimed, not recorded yet). Many more than the posts in
 * flight, so a fast endpoint's lane is refilled by a few large claims, not one per post; few enough
 * that the last held row of a lane whose every POST suddenly takes the whole timeout
 * (768 / 64 x 15 s = 3 min) is posted before its claim goes stale (5 min) and another process
 * takes it over.
 */
export const WEBHOOK_HELD_PER_ENDPOINT = 768;
/**
 * A lane whose last POST took SLOW_POST_MS or more holds only this many rows: two rounds of posts,
 * so a slow endpoint's backlog stays in the outbox, where another process may take it.
 */
export const WEBHOOK_HELD_PER_SLOW_ENDPOINT = 2 * WEBHOOK_POSTS_PER_ENDPOINT;
const SLOW_POST_MS = 1_000;
/**
 * Rows held by the whole process (memory: each holds its event, message and recipient): 64 slow
 * endpoints (or 10 busy ones with full lanes) fill it before an endpoint's rows wait for room.
 */
export const WEBHOOK_HELD_MAX = 8_192;
/** Endpoints on one host (a shared receiver service) share its keep-alive connections: 8 lanes' worth of posts. */
const CONNECTIONS_PER_ORIGIN = 8 * WEBHOOK_POSTS_PER_ENDPOINT;
/** Rows per claim at most: one claim and its loading stay a few milliseconds. */
const CLAIM_BATCH = 512;
/** Attempt records per transaction: attempts finishing together are recorded together. */
const RECORD_BATCH = 512;
/** After a wake-up, let the events of a few commits (or records) gather so one claim takes them together. */
const CLAIM_COALESCE_MS = 10;

/** One endpoint's share of the dispatcher: its claimed rows waiting, and its posts in flight. */
interface Lane {
  waiting: WebhookWork[];
  inFlight: number;
  /** Claimed and not recorded yet (waiting, posting, or being recorded). */
  held: number;
  /** Disabled by this process: its waiting rows are given back, not posted. */
  disabled: boolean;
  /** Its last POST took SLOW_POST_MS or more: it holds fewer rows. */
  slow: boolean;
}

interface Finished {
  rec: WebhookAttemptRecord;
  w: WebhookWork;
  seconds: number;
}

/**
 * Delivers the webhook outbox: claims due rows, builds each payload from its event, message and
 * recipient, signs and POSTs it, records the attempt and the row's next state (delivered, retry
 * at the next backoff step, or given up), and disables an endpoint that has failed for too long.
 * Each endpoint is a lane with its own posts in flight and its own share of every claim, so a
 * slow or failing endpoint delays only its own events. Attempts are recorded as they finish,
 * grouped in time across endpoints. Outcomes are values; one catch turns the unexpected into a
 * failed attempt.
 */
export class WebhookDispatcher {
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private readonly signal = new WakeSignal();
  /** Keep-alive connections, shared by every lane (the guard's lookup still checks each new connection). */
  private readonly connections: Dispatcher;
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private readonly postsPerEndpoint: number;
  private readonly heldPerEndpoint: number;
  private readonly lanes = new Map<number, Lane>();
  private held = 0;
  private wokenWhileBusy = false;
  private readonly posting = new Set<Promise<void>>();
  /** Attempts finishing together are recorded in one transaction, one transaction at a time. */
  private readonly recorder: GroupCommitter<Finished, undefined>;

  constructor(private readonly d: WebhookDispatcherDeps) {
    this.timeoutMs = d.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.staleMs = d.staleMs ?? DEFAULT_WEBHOOK_STALE_CLAIM_MS;
    this.postsPerEndpoint = d.postsPerEndpoint ?? WEBHOOK_POSTS_PER_ENDPOINT;
    this.heldPerEndpoint = d.heldPerEndpoint ?? WEBHOOK_HELD_PER_ENDPOINT;
    if (!(this.postsPerEndpoint >= 1) || !(this.heldPerEndpoint >= this.postsPerEndpoint)) {
      throw new Error('webhook postsPerEndpoint must be at least 1 and heldPerEndpoint at least postsPerEndpoint');
    }
    // Every lane's posts together: different endpoints on one host must not queue behind each other's connections.
    this.connections = guardedDispatcher(d.guard, Math.max(CONNECTIONS_PER_ORIGIN, this.postsPerEndpoint));
    // The last held row of a lane whose every POST times out waits this long for its turn.
    const longestWait = Math.ceil(this.heldPerEndpoint / this.postsPerEndpoint) * this.timeoutMs;
    if (!(this.staleMs > longestWait))
      throw new Error(`webhook staleMs must exceed ${longestWait} ms (every held row posted within the timeout), or live claims would be taken over`);
    this.recorder = new GroupCommitter(
      async (items) => {
        await this.record(items);
        return items.map(() => undefined);
      },
      { maxBatchItems: RECORD_BATCH, maxInFlight: 1 },
    );
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Events were committed: look now instead of at the next poll. */
  wake(): void {
    this.wokenWhileBusy = true;
    this.signal.wake();
  }

  /**
   * Stops claiming, gives back the rows not posted yet, and waits for the posts in flight (each
   * ends within the timeout) to be recorded.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopDone;
    await this.giveBack([...this.lanes.values()].flatMap((lane) => lane.waiting.splice(0)));
    await Promise.allSettled([...this.posting]);
    await this.recorder.close();
    await this.connections.destroy().catch(() => undefined);
  }

  /** Claims whenever lanes have room, and hands each claimed row to its endpoint's lane. */
  private async loop(): Promise<void> {
    const pollMs = this.d.pollMs ?? DEFAULT_POLL_MS;
    while (!this.stopping) {
      this.wokenWhileBusy = false;
      let claimed = 0;
      const limit = Math.min(CLAIM_BATCH, WEBHOOK_HELD_MAX - this.held);
      if (limit > 0) {
        try {
          const now = this.d.now();
          // A slow lane's smaller share is told to the claim as rows it already holds.
          const held = new Map([...this.lanes].map(([id, lane]) => [id, lane.held + this.heldPerEndpoint - this.shareOf(lane)]));
          const work = await this.d.store.webhooks.claimDeliveries(
            this.d.workerId,
            limit,
            now,
            now - this.staleMs,
            { perLane: this.heldPerEndpoint, held },
            this.d.deadAfterMs === undefined ? undefined : now - this.d.deadAfterMs,
          );
          claimed = work.length;
          for (const w of work) this.enqueue(w);
        } catch (err) {
          // Claims not recorded are taken over by time; nothing is lost.
          this.d.log.error({ err, event: 'webhook.dispatch_failed' }, 'webhook dispatch failed; retrying at the next poll');
        }
      }
      // A full claim may leave more due rows: look again at once. Otherwise sleep until the poll or
      // a wake-up (an event committed, or a lane half free again).
      if (claimed > 0 && claimed === limit) continue;
      // A wake-up during the claim would otherwise be lost until the poll.
      const woken = this.wokenWhileBusy || (await this.signal.sleep(pollMs));
      if (woken && !this.stopping) await new Promise((r) => setTimeout(r, CLAIM_COALESCE_MS));
    }
  }

  private enqueue(w: WebhookWork): void {
    let lane = this.lanes.get(w.endpoint.id);
    if (!lane) {
      lane = { waiting: [], inFlight: 0, held: 0, disabled: false, slow: false };
      this.lanes.set(w.endpoint.id, lane);
    }
    // A claim takes rows of enabled endpoints only: enabled again since this process disabled it.
    if (w.endpoint.enabled) lane.disabled = false;
    lane.waiting.push(w);
    lane.held++;
    this.held++;
    this.pump(w.endpoint.id, lane);
  }

  /** Starts the lane's waiting rows while it has posts to spare; a disabled lane's rows go back. */
  private pump(endpointId: number, lane: Lane): void {
    if (this.stopping) return;
    if (lane.disabled) {
      this.track(this.giveBack(lane.waiting.splice(0)));
      return;
    }
    while (lane.inFlight < this.postsPerEndpoint && lane.waiting.length > 0) {
      const w = lane.waiting.shift()!;
      lane.inFlight++;
      this.track(
        this.attemptOne(w).then((done) => {
          // The lane's next post starts while this one is being recorded.
          lane.inFlight--;
          lane.slow = done.seconds * 1000 >= SLOW_POST_MS;
          this.pump(endpointId, lane);
          return this.recordOne(done);
        }),
      );
    }
  }

  private track(task: Promise<void>): void {
    this.posting.add(task);
    void task.finally(() => this.posting.delete(task));
  }

  private async attemptOne(w: WebhookWork): Promise<Finished> {
    const started = Date.now();
    const rec = await this.attempt(w).catch((err: unknown) => {
      this.d.log.error({ err, event: 'webhook.unexpected', deliveryId: w.deliveryId }, 'webhook attempt failed unexpectedly');
      return this.failure(w, { ok: false, durationMs: Date.now() - started, error: `internal error: ${(err as Error).message}` }, false);
    });
    return { rec, w, seconds: (Date.now() - started) / 1000 };
  }

  /** Hands the outcome to the recorder; the lane's room comes back once it is recorded. */
  private async recordOne(done: Finished): Promise<void> {
    try {
      await this.recorder.submit(done);
      this.d.metrics?.webhookPost(done.rec.next.status, done.seconds);
    } catch (err) {
      // The claim goes stale and is taken over: at least once, never lost.
      this.d.log.error({ err, event: 'webhook.record_failed', deliveryId: done.w.deliveryId }, 'webhook attempt could not be recorded');
    }
    this.release(done.w.endpoint.id, 1);
    // Claim again once the lane has half its share free (or emptied): a claim per recorded row
    // would be a transaction per post. A recorded row may also have unblocked the next event of its recipient.
    const lane = this.lanes.get(done.w.endpoint.id);
    if (!lane || lane.held <= this.shareOf(lane) / 2) this.wake();
  }

  /** How many rows the lane may hold. */
  private shareOf(lane: Lane): number {
    return lane.slow ? Math.min(this.heldPerEndpoint, WEBHOOK_HELD_PER_SLOW_ENDPOINT) : this.heldPerEndpoint;
  }

  private release(endpointId: number, n: number): void {
    const lane = this.lanes.get(endpointId);
    if (!lane) return;
    lane.held -= n;
    this.held -= n;
    if (lane.held === 0 && lane.waiting.length === 0 && lane.inFlight === 0) this.lanes.delete(endpointId);
  }

  /** Rows claimed but not posted go back to the outbox at once instead of waiting to go stale. */
  private async giveBack(work: readonly WebhookWork[]): Promise<void> {
    if (work.length === 0) return;
    try {
      await this.d.store.webhooks.releaseDeliveries(
        this.d.workerId,
        work.map((w) => w.deliveryId),
      );
    } catch (err) {
      this.d.log.error(
        { err, event: 'webhook.release_failed' },
        'claimed webhook rows could not be given back; they are taken over when their claim goes stale',
      );
    }
    for (const w of work) this.release(w.endpoint.id, 1);
  }

  /**
   * Records attempts that finished together, whatever their endpoints. Endpoints to disable are
   * disabled BEFORE the attempts are recorded: a recorded failure is due again after its backoff,
   * and the next claim could take the retry in between. The streak start comes from the endpoint
   * as claimed (or now, when a success earlier in this group ended the previous streak).
   */
  private async record(items: readonly Finished[]): Promise<void> {
    const now = this.d.now();
    const streaks = new Map<number, { w: WebhookWork; rec: WebhookAttemptRecord; sawOk: boolean }>();
    for (const { rec, w } of items) {
      if (!rec.ok && !rec.posted) continue; // a payload we could not build says nothing about the receiver
      const s = streaks.get(rec.endpointId);
      streaks.set(rec.endpointId, { w, rec, sawOk: (s?.sawOk ?? false) || rec.ok });
    }
    for (const { w, rec, sawOk } of streaks.values()) {
      if (rec.ok) continue;
      const failingSince = sawOk ? now : (w.endpoint.failingSince ?? now);
      const status = rec.httpStatus ?? undefined;
      if (!shouldDisableEndpoint({ failingSince, now, status, disableAfterMs: this.d.disableAfterMs })) continue;
      await this.disable(
        w,
        status === 410
          ? `the endpoint answered 410 Gone at ${new Date(now).toISOString()}`
          : `every attempt has failed since ${new Date(failingSince).toISOString()}; last error: ${rec.error ?? 'unknown'}`,
      );
    }
    await this.d.store.webhooks.recordAttempts(
      this.d.workerId,
      items.map((r) => r.rec),
      now,
    );
  }

  /** Disables the endpoint and gives back its rows this process has not posted: they wait until it is enabled again. */
  private async disable(w: WebhookWork, reason: string): Promise<void> {
    const lane = this.lanes.get(w.endpoint.id);
    if (lane) {
      lane.disabled = true;
      this.track(this.giveBack(lane.waiting.splice(0)));
    }
    const current = await this.d.store.webhooks.getEndpoint(w.endpoint.serverId, w.endpoint.id);
    if (!current?.enabled) return;
    await this.d.store.webhooks.updateEndpoint(w.endpoint.serverId, w.endpoint.id, { enabled: false, disabledReason: reason }, this.d.now());
    this.d.log.warn(
      { event: 'webhook.endpoint_disabled', endpointId: w.endpoint.id, serverId: w.endpoint.serverId, url: w.endpoint.url, reason },
      `webhook endpoint disabled: ${reason}`,
    );
  }

  /** One outbox row: build the payload, POST it, decide the row's next state. */
  private async attempt(w: WebhookWork): Promise<WebhookAttemptRecord> {
    if (!w.message || !w.recipient) {
      return this.unsendable(w, `event ${w.event.uid}: its message or recipient is missing`);
    }
    // Queued while the endpoint took JSON, then switched to the legacy form format, which has no such type.
    if (w.endpoint.format === 'form' && !LEGACY_NOTIFICATION_TYPES.includes(w.event.type as WebhookEventType)) {
      return this.unsendable(w, `event ${w.event.uid}: a legacy (form) endpoint does not receive ${w.event.type} events`);
    }
    const mapped = fromEventRow({ event: w.event, message: w.message, recipient: w.recipient });
    if (!mapped.ok) return this.unsendable(w, mapped.error);
    const outcome = await sendWebhook(mapped.event, w.endpoint, {
      guard: this.d.guard,
      timeoutMs: this.timeoutMs,
      now: this.d.now(),
      dispatcher: this.connections,
    });
    if (outcome.ok) {
      return {
        deliveryId: w.deliveryId,
        endpointId: w.endpoint.id,
        ok: true,
        posted: true,
        httpStatus: outcome.status ?? null,
        durationMs: outcome.durationMs,
        error: null,
        responseSnippet: outcome.responseSnippet ?? null,
        next: { status: 'delivered', attempts: w.attempts + 1, nextAttemptAt: this.d.now() },
      };
    }
    return this.failure(w, outcome, true);
  }

  /** A row whose payload cannot be built will never succeed: give it up at once, and say why. */
  private unsendable(w: WebhookWork, error: string): WebhookAttemptRecord {
    this.d.log.error({ event: 'webhook.bad_event', deliveryId: w.deliveryId, eventUid: w.event.uid, error }, 'webhook event cannot be sent');
    return {
      deliveryId: w.deliveryId,
      endpointId: w.endpoint.id,
      ok: false,
      posted: false,
      httpStatus: null,
      durationMs: 0,
      error,
      responseSnippet: null,
      next: { status: 'gave_up', attempts: w.attempts + 1, nextAttemptAt: this.d.now() },
    };
  }

  private failure(w: WebhookWork, outcome: PostOutcome, posted: boolean): WebhookAttemptRecord {
    const attempts = w.attempts + 1;
    const now = this.d.now();
    const at = nextAttemptAt(attempts, now, this.d.random, this.d.retrySchedule);
    if (at === null) {
      this.d.log.warn(
        { event: 'webhook.gave_up', deliveryId: w.deliveryId, endpointId: w.endpoint.id, eventUid: w.event.uid, attempts, error: outcome.error },
        'webhook event given up after its last attempt',
      );
    }
    return {
      deliveryId: w.deliveryId,
      endpointId: w.endpoint.id,
      ok: false,
      posted,
      httpStatus: outcome.status ?? null,
      durationMs: outcome.durationMs,
      error: outcome.error ?? 'failed',
      responseSnippet: outcome.responseSnippet ?? null,
      next: at === null ? { status: 'gave_up', attempts, nextAttemptAt: now } : { status: 'failed', attempts, nextAttemptAt: at },
    };
  }
}
