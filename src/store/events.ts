/**
 * The event log: every recipient's Queued, Delivered, Failed and tracking events, written with their webhook outbox rows.
 */
import { newId } from '../core/ids.js';
import { INSERT_CHUNK_ROWS, toEvent } from './rows.js';
import type { Database } from './schema.js';
import type { NewEvent, StoredEvent } from './store.js';
import { insertEvents } from './webhooks.js';
import type { Kysely } from 'kysely';

/** The event log. */
export interface EventRepository {
  /** Writes events in one transaction; returns their uids (stable event ids), in order. */
  append(events: readonly NewEvent[]): Promise<string[]>;
  list(filter: { messageId?: string; afterId?: number; limit?: number }): Promise<StoredEvent[]>;
}

/** The event log for both dialects. */
export class SqlEventRepository implements EventRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async append(events: readonly NewEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = events.map((e) => ({
      uid: newId(e.occurredAt),
      server_id: e.serverId,
      message_id: e.messageId,
      recipient_id: e.recipientId,
      type: e.type,
      occurred_at: e.occurredAt,
      data: e.data === null ? null : JSON.stringify(e.data),
    }));
    await this.db.transaction().execute((trx) => insertEvents(trx, rows, INSERT_CHUNK_ROWS));
    return rows.map((r) => r.uid);
  }

  async list(filter: { messageId?: string; afterId?: number; limit?: number }): Promise<StoredEvent[]> {
    let q = this.db
      .selectFrom('events')
      .selectAll()
      .orderBy('id')
      .limit(filter.limit ?? 1000);
    if (filter.messageId !== undefined) q = q.where('message_id', '=', filter.messageId);
    if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
    return (await q.execute()).map(toEvent);
  }
}
