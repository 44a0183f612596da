/**
 * Inbound reports (asynchronous bounces, delay notices, complaints) recorded against the
 * recipient they trace to, written once with Kysely for both dialects. Kept apart from the
 * delivery path's recordOutcomes: a report arrives at any time after delivery, from anyone, and
 * is checked against the recipient's current state rather than a worker's claim.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { InboundReportRecord, InboundReportResult } from './store.js';
import { newId } from '../core/ids.js';
import { insertEvents } from './webhooks.js';
import { upsertSuppressions } from './suppressions.js';

/** Statuses of recipients that were never handed to a remote server. */
const NEVER_SENT = new Set(['suppressed', 'sandboxed']);

/** Call inside a transaction. */
export async function recordInboundReport(trx: Transaction<Database>, input: InboundReportRecord, now: number): Promise<InboundReportResult> {
  // A no-op UPDATE rather than a SELECT: it locks the row on PostgreSQL (SQLite has one writer),
  // so two copies of one report arriving together are decided one after the other.
  const r = await trx
    .updateTable('recipients')
    .set({ updated_at: sql<number>`updated_at` })
    .where('id', '=', input.recipientId)
    .returning(['server_id', 'message_id', 'address', 'status', 'attempts'])
    .executeTakeFirst();
  if (!r) return { kind: 'unknown-recipient' };
  if (NEVER_SENT.has(r.status) || Number(r.attempts) === 0) return { kind: 'not-sent' };
  const serverId = Number(r.server_id);
  const type = input.event.type;

  if (type === 'Failed' || type === 'Deferred') {
    if (r.status === 'failed') return { kind: 'already-failed' };
  } else {
    const seen = await trx.selectFrom('events').select('id').where('recipient_id', '=', input.recipientId).where('type', '=', type).limit(1).executeTakeFirst();
    if (seen) return { kind: 'duplicate' };
  }

  if (type === 'Failed' && input.failure) {
    // Final: a claim a worker may hold (a retry in flight) is dropped with it; that worker's
    // outcome then changes nothing (recordOutcomes only updates rows still 'delivering').
    await trx
      .updateTable('recipients')
      .set({
        status: 'failed',
        failure_code: input.failure.failureCode,
        last_reply: input.failure.reply,
        locked_by: null,
        locked_at: null,
        updated_at: now,
      })
      .where('id', '=', input.recipientId)
      .execute();
  }
  // Through insertEvents, so the event's webhook outbox rows are written in this transaction too.
  await insertEvents(trx, [
    {
      uid: newId(now),
      server_id: serverId,
      message_id: r.message_id,
      recipient_id: input.recipientId,
      type,
      occurred_at: now,
      data: JSON.stringify(input.event.data),
    },
  ]);
  if (input.suppress) {
    await upsertSuppressions(trx, serverId, [{ address: r.address, reason: input.suppress.reason, detail: input.suppress.detail }], now);
  }
  return { kind: 'recorded', serverId, messageId: r.message_id };
}
