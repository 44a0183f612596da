import type { Store } from '../store/store.js';
import type { Logger } from '../core/log.js';
import { IDEMPOTENCY_TTL_MS } from '../core/limits.js';
import type { RetentionQueries } from '../store/retention.js';

/**
 * One retention pass: deletes what is older than the configured ages, in small batches (one
 * short transaction each, the event loop yielded between them) so accepts and deliveries never
 * wait long behind it; then hands freed space back (SQLite's incremental vacuum).
 */

/** Rows one batch deletes at most: one short transaction, a few milliseconds of SQLite's single writer. */
export const RETENTION_BATCH_ROWS = 5_000;
/** Inbound messages per batch: their bytes (up to 50 MB each) are freed in the same transaction. */
export const RETENTION_INBOUND_BATCH = 200;
/**
 * The statistics rollups (another feature's table): rows whose hour started before the event age
 * go with the events they count. Named here so this works before that table exists (then nothing).
 */
export const STATS_ROLLUP_TABLE = 'stats_hourly';
export const STATS_ROLLUP_TIME_COLUMN = 'hour_start';

/**
 * Chains of batches (a kind, or one server's events, recipients and messages) run this many at a
 * time: on a busy server every statement waits its turn at the store's connection (SQLite has
 * one), and a few waiting together cost one wait instead of one each. Few, so a pass never queues
 * more than a few short statements ahead of accepts and deliveries.
 */
export const RETENTION_CHAINS_AT_ONCE = 4;

const DAY_MS = 86_400_000;

/** Runs `tasks`, at most `n` at once, until all are done (the first failure is thrown at the end). */
async function runAtMost(n: number, tasks: readonly (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(n, tasks.length) }, lane));
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface RetentionAges {
  /** Message bodies (templates) of outbound messages. */
  bodyDays: number;
  /** Received inbound messages, their bytes and posts. */
  inboundDays: number;
  /** Events, and the messages, recipients, webhook outbox rows and statistics rollups of that age. */
  eventDays: number;
}

export const RETENTION_KINDS = [
  'message_bodies',
  'inbound_messages',
  'events',
  'recipients',
  'messages',
  'webhook_deliveries',
  'stats_rollups',
  'idempotency_keys',
] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

export interface RetentionMetrics {
  retentionRemoved(kind: RetentionKind, rows: number): void;
  retentionPass(seconds: number, pagesFreed: number): void;
}

export interface RetentionResult {
  removed: Record<RetentionKind, number>;
  pagesFreed: number;
  durationMs: number;
}

export interface RetentionDeps {
  store: Store;
  log: Logger;
  now: () => number;
  metrics?: RetentionMetrics | null;
  /** Asked between batches: a stopping process ends the pass early (the next pass carries on). */
  stopping?: () => boolean;
}

const yieldToOthers = () => new Promise<void>((r) => setImmediate(r));

/** Validates ages: 0 or NaN would delete everything, so they are refused, never taken as "off". */
export function checkAges(ages: RetentionAges): void {
  for (const [k, v] of Object.entries(ages)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`retention ${k} must be a whole number of days >= 1, got ${v}`);
  }
}

export async function runRetentionPass(deps: RetentionDeps, ages: RetentionAges): Promise<RetentionResult> {
  checkAges(ages);
  const started = Date.now();
  const now = deps.now();
  const q: RetentionQueries = deps.store.retention.queries();
  const removed = Object.fromEntries(RETENTION_KINDS.map((k) => [k, 0])) as Record<RetentionKind, number>;
  const stopping = deps.stopping ?? (() => false);
  /** Repeats one batch statement until a batch comes back short. */
  const drain = async (kind: RetentionKind, batch: number, step: () => Promise<number>) => {
    for (;;) {
      if (stopping()) return;
      const n = await step();
      removed[kind] += n;
      if (n > 0) deps.metrics?.retentionRemoved(kind, n);
      await yieldToOthers();
      if (n < batch) return;
    }
  };
  const bodyCutoff = now - ages.bodyDays * DAY_MS;
  const inboundCutoff = now - ages.inboundDays * DAY_MS;
  const eventCutoff = now - ages.eventDays * DAY_MS;
  const B = RETENTION_BATCH_ROWS;

  const [serverIds, endpointIds] = await Promise.all([q.serverIds(), q.endpointIds()]);
  // Independent chains of batches; within a server's chain recipients go before their messages.
  const chains: (() => Promise<void>)[] = [
    () => drain('message_bodies', B, () => q.deleteMessageBodies(bodyCutoff, B)),
    () => drain('inbound_messages', RETENTION_INBOUND_BATCH, () => q.deleteInboundMessages(inboundCutoff, RETENTION_INBOUND_BATCH)),
    ...serverIds.map((serverId) => async () => {
      await drain('events', B, () => q.deleteEvents(serverId, eventCutoff, B));
      await drain('recipients', B, () => q.deleteRecipients(serverId, eventCutoff, B));
      await drain('messages', B, () => q.deleteMessages(serverId, eventCutoff, B));
    }),
    ...endpointIds.map((endpointId) => () => drain('webhook_deliveries', B, () => q.deleteWebhookDeliveries(endpointId, eventCutoff, B))),
    () => drain('stats_rollups', B, () => q.deleteOldRowsIfTableExists(STATS_ROLLUP_TABLE, STATS_ROLLUP_TIME_COLUMN, eventCutoff, B)),
    () => drain('idempotency_keys', B, () => q.deleteIdempotencyKeys(now - IDEMPOTENCY_TTL_MS, B)),
  ];
  await runAtMost(RETENTION_CHAINS_AT_ONCE, chains);

  const pagesFreed = stopping() ? 0 : await deps.store.retention.reclaimSpace();
  const durationMs = Date.now() - started;
  deps.metrics?.retentionPass(durationMs / 1000, pagesFreed);
  deps.log.info({ event: 'retention.pass', removed, pagesFreed, durationMs, ages }, 'retention pass finished');
  return { removed, pagesFreed, durationMs };
}
