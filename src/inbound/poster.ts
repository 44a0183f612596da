/**
 * Posts stored inbound messages to their routes' endpoints (run by the `webhooks` role, beside the
 * webhook dispatcher): claims due posts, builds each SocketLabs Inbound Parse body with the parser,
 * signs it (Standard Webhooks) and POSTs it through the guarded dispatcher; 2xx is delivered,
 * anything else is retried on the webhook backoff schedule and then given up. Every attempt is
 * recorded. What is in flight is bounded by count and by bytes: messages may be 50 MB.
 */
import type { Logger } from 'pino';
import { WakeSignal } from '../core/wake-signal.js';
import type { Dispatcher } from 'undici';
import type { InboundAttemptRecord, InboundWork } from '../store/inbound.js';
import type { Store } from '../store/store.js';
import { nextAttemptAt } from '../net/backoff.js';
import { activeSigningSecrets } from '../webhooks/endpoint.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, guardedDispatcher, postWebhook, type PostOutcome } from '../net/post.js';
import { signAsync } from '../net/standard-signature.js';
import type { UrlGuard } from '../net/url-guard.js';
import type { InboundParser } from './parse/index.js';
import { ByteBudget } from './byte-budget.js';
import { GroupCommitter } from '../store/group-commit.js';

export type InboundPostOutcome = 'delivered' | 'failed' | 'gave_up';

export interface InboundPosterMetrics {
  inboundPost(outcome: InboundPostOutcome, seconds: number): void;
}

export interface InboundPosterDeps {
  store: Store;
  log: Logger;
  now: () => number;
  guard: UrlGuard;
  parser: InboundParser;
  workerId: string;
  timeoutMs?: number;
  /** Waits between attempts; default the webhook schedule (backoff.ts, about 76 h). Tests use milliseconds. */
  retrySchedule?: readonly number[];
  pollMs?: number;
  /** A claim older than this belongs to a dead poster and is taken over. */
  staleMs?: number;
  /** Worker registry: a claim of a worker not heartbeating for this long is taken over at once. Unset: only staleMs. */
  deadAfterMs?: number;
  /** Posts in flight at once (each holds its message's bytes and its JSON body). */
  concurrency?: number;
  /** Posts in flight at once to one route. */
  postsPerRoute?: number;
  /** Message bytes in flight at once; one message larger than this still goes, alone. */
  maxBytesInFlight?: number;
  metrics?: InboundPosterMetrics;
  random?: () => number;
}

const DEFAULT_POLL_MS = 1_000;
/** Far past the longest attempt (the POST timeout, plus parsing a 50 MB message). */
export const DEFAULT_INBOUND_STALE_CLAIM_MS = 10 * 60_000;
const DEFAULT_CONCURRENCY = 32;
/**
 * Posts in flight at once to one route's endpoint: a slow or hanging receiver holds these, and
 * the other routes keep the rest of the poster's slots (it takes four such routes to fill them).
 */
export const INBOUND_POSTS_PER_ROUTE = 8;
/**
 * A 50 MB message becomes about 67 MB of base64 inside the JSON, plus the parsed parts: 256 MB of
 * raw messages in flight keeps the worst case near a gigabyte while letting small ones stream.
 */
export const DEFAULT_INBOUND_BYTES_IN_FLIGHT = 256 * 1024 * 1024;
/** After a wake-up, let a few commits gather so one claim takes them together. */
const CLAIM_COALESCE_MS = 5;
/** Claim again once this share of the slots is free: one claim per post would be a transaction per post. */
const CLAIM_WHEN_FREE = 0.25;
/** How often, and from what age, chunks of never-committed inbound messages are swept. */
const ORPHAN_SWEEP_EVERY_MS = 3_600_000;
const ORPHAN_BODY_AGE_MS = 3_600_000;

export class InboundPoster {
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private readonly signal = new WakeSignal();
  private readonly connections: Dispatcher;
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private readonly concurrency: number;
  private readonly postsPerRoute: number;
  /** Posts claimed and not yet recorded, per route: a claim gives each route only its room. */
  private readonly heldByRoute = new Map<number, number>();
  private wokenWhileBusy = false;
  private readonly budget: ByteBudget;
  /** Attempts finishing together are recorded in one transaction. */
  private readonly recorder: GroupCommitter<InboundAttemptRecord, undefined>;

  constructor(private readonly d: InboundPosterDeps) {
    this.timeoutMs = d.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.staleMs = d.staleMs ?? DEFAULT_INBOUND_STALE_CLAIM_MS;
    this.concurrency = d.concurrency ?? DEFAULT_CONCURRENCY;
    this.postsPerRoute = Math.min(d.postsPerRoute ?? INBOUND_POSTS_PER_ROUTE, this.concurrency);
    if (!(this.postsPerRoute >= 1)) throw new Error('inbound postsPerRoute must be at least 1');
    this.budget = new ByteBudget(d.maxBytesInFlight ?? DEFAULT_INBOUND_BYTES_IN_FLIGHT);
    this.connections = guardedDispatcher(d.guard, this.concurrency);
    this.recorder = new GroupCommitter(
      async (records) => {
        await d.store.inbound.recordAttempts(d.workerId, records, d.now());
        return records.map(() => undefined);
      },
      { maxBatchItems: 256, maxInFlight: 1 },
    );
    if (!(this.staleMs > this.timeoutMs)) throw new Error('inbound staleMs must exceed the POST timeout, or live claims would be taken over');
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** A message was stored: look now instead of at the next poll. */
  wake(): void {
    this.wokenWhileBusy = true;
    this.signal.wake();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopDone;
    await this.recorder.close();
    await this.connections.destroy().catch(() => undefined);
  }

  /**
   * One loop claims; every claimed post runs as its own task, at most `concurrency` at once,
   * at most `postsPerRoute` of one route, within the byte budget, and records its own attempt.
   * The loop claims again as soon as slots are free, giving each route only its own room, so a
   * slow receiver holds its route's slots, not a batch and not the others' slots.
   */
  private async loop(): Promise<void> {
    const pollMs = this.d.pollMs ?? DEFAULT_POLL_MS;
    const running = new Set<Promise<void>>();
    let sweptAt = -Infinity;
    while (!this.stopping) {
      if (this.d.now() - sweptAt >= ORPHAN_SWEEP_EVERY_MS) {
        sweptAt = this.d.now();
        await this.sweepOrphans();
      }
      this.wokenWhileBusy = false;
      let claimed: InboundWork[] = [];
      const free = this.concurrency - running.size;
      if (running.size === 0 || free >= Math.max(1, Math.floor(this.concurrency * CLAIM_WHEN_FREE))) {
        try {
          const now = this.d.now();
          claimed = await this.d.store.inbound.claimPosts(
            this.d.workerId,
            free,
            now,
            now - this.staleMs,
            { perLane: this.postsPerRoute, held: new Map(this.heldByRoute) },
            this.d.deadAfterMs === undefined ? undefined : now - this.d.deadAfterMs,
          );
        } catch (err) {
          this.d.log.error({ err, event: 'inbound.claim_failed' }, 'inbound posts could not be claimed; retrying at the next poll');
        }
        for (const w of claimed) {
          this.heldByRoute.set(w.route.id, (this.heldByRoute.get(w.route.id) ?? 0) + 1);
          const task = this.run(w).finally(() => {
            running.delete(task);
            const held = (this.heldByRoute.get(w.route.id) ?? 1) - 1;
            if (held > 0) this.heldByRoute.set(w.route.id, held);
            else this.heldByRoute.delete(w.route.id);
            this.wake();
          });
          running.add(task);
        }
      }
      if (claimed.length > 0 && claimed.length === free) continue; // a full claim may leave more due posts
      // A wake-up during the claim (a post finished, a message stored) would otherwise wait for the poll.
      const woken = this.wokenWhileBusy || (await this.signal.sleep(pollMs));
      if (woken && !this.stopping && running.size === 0) await new Promise((r) => setTimeout(r, CLAIM_COALESCE_MS));
    }
    await Promise.allSettled([...running]);
  }

  private async run(w: InboundWork): Promise<void> {
    const started = Date.now();
    const release = await this.budget.acquire(w.message.sizeBytes);
    let rec: InboundAttemptRecord;
    try {
      rec = await this.attempt(w);
    } catch (err) {
      this.d.log.error({ err, event: 'inbound.unexpected', postId: w.postId }, 'inbound post failed unexpectedly');
      rec = this.failure(w, { ok: false, durationMs: Date.now() - started, error: `internal error: ${(err as Error).message}` });
    } finally {
      release();
    }
    try {
      await this.recorder.submit(rec);
      this.d.metrics?.inboundPost(rec.next.status, (Date.now() - started) / 1000);
    } catch (err) {
      // The claim goes stale and the post is taken over: at least once, never lost.
      this.d.log.error({ err, event: 'inbound.record_failed', postId: w.postId }, 'inbound attempt could not be recorded');
    }
  }

  /**
   * Chunks of large messages whose accept failed or was cut off (a killed process) belong to no
   * message; once older than any accept in progress could be, they are deleted.
   */
  private async sweepOrphans(): Promise<void> {
    try {
      const n = await this.d.store.inbound.sweepOrphanBodies(this.d.now() - ORPHAN_BODY_AGE_MS);
      if (n > 0) this.d.log.info({ event: 'inbound.orphans_swept', chunks: n }, 'chunks of inbound messages never committed were deleted');
    } catch (err) {
      this.d.log.error({ err, event: 'inbound.sweep_failed' }, 'orphaned inbound chunks could not be swept; trying again later');
    }
  }

  /** One post: load the bytes, build the body, sign, POST, decide the post's next state. */
  private async attempt(w: InboundWork): Promise<InboundAttemptRecord> {
    const raw = await this.d.store.inbound.messageRaw(w.message.id);
    if (!raw) return this.failure(w, { ok: false, durationMs: 0, error: `message ${w.message.id} has no stored body` });
    let body: Buffer;
    try {
      body = await this.d.parser.build(raw, {
        serverId: w.route.serverId,
        secretKey: w.route.secretKey,
        mailFrom: w.message.mailFrom,
        rcptTo: w.message.rcptTo,
        remoteIp: w.message.remoteIp,
        heloName: w.message.helo,
        receivedAt: w.message.receivedAt,
      });
    } catch (err) {
      return this.failure(w, { ok: false, durationMs: 0, error: `the message could not be parsed: ${(err as Error).message}` });
    }
    const now = this.d.now();
    // The same id on every attempt of this post, so receivers can deduplicate.
    const headers = await signAsync(`${w.message.id}-${w.postId}`, Math.floor(now / 1000), body, activeSigningSecrets(w.route, now));
    const outcome = await postWebhook(w.route.url, {
      body,
      contentType: 'application/json',
      headers,
      timeoutMs: this.timeoutMs,
      guard: this.d.guard,
      dispatcher: this.connections,
    });
    if (!outcome.ok) return this.failure(w, outcome);
    return {
      postId: w.postId,
      routeId: w.route.id,
      ok: true,
      httpStatus: outcome.status ?? null,
      durationMs: outcome.durationMs,
      error: null,
      responseSnippet: outcome.responseSnippet ?? null,
      next: { status: 'delivered', attempts: w.attempts + 1, nextAttemptAt: this.d.now() },
    };
  }

  private failure(w: InboundWork, outcome: PostOutcome): InboundAttemptRecord {
    const attempts = w.attempts + 1;
    const now = this.d.now();
    const at = nextAttemptAt(attempts, now, this.d.random, this.d.retrySchedule);
    if (at === null) {
      this.d.log.warn(
        { event: 'inbound.gave_up', postId: w.postId, routeId: w.route.id, attempts, error: outcome.error },
        'inbound message given up after its last attempt',
      );
    }
    return {
      postId: w.postId,
      routeId: w.route.id,
      ok: false,
      httpStatus: outcome.status ?? null,
      durationMs: outcome.durationMs,
      error: outcome.error ?? 'failed',
      responseSnippet: outcome.responseSnippet ?? null,
      next: at === null ? { status: 'gave_up', attempts, nextAttemptAt: now } : { status: 'failed', attempts, nextAttemptAt: at },
    };
  }
}
