import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { StoredEvent, StoredMessage, StoredRecipient } from './store.js';
import { toEvent, toMessage, toRecipient } from './rows.js';

/**
 * Event lists of one server (the legacy v1 Reporting API, api/compat/socketlabs-v1/): the events of
 * some types in a time range, oldest first, paged, each with its message and recipient, which is
 * what the webhook payload mapping (webhooks/event-row.ts) turns into SocketLabs' fields. The range
 * reads the index events_server_time (server_id, occurred_at).
 */

export interface EventReportQuery {
  types: readonly string[];
  /** occurred_at in [startTime, endTime). */
  startTime?: number;
  endTime?: number;
  /** The recipient's MailingId. */
  mailingId?: string;
  /** Postline's message id or the customer's own MessageId. */
  messageId?: string;
}

/** One event with what its payload needs; only events about a recipient are listed. */
export interface EventReportRow {
  event: StoredEvent;
  message: StoredMessage;
  recipient: StoredRecipient;
}

type Db = Kysely<Database>;

function matching(db: Db, serverId: number, q: EventReportQuery) {
  let query = db
    .selectFrom('events as e')
    .innerJoin('recipients as r', 'r.id', 'e.recipient_id')
    .where('e.server_id', '=', serverId)
    .where('e.type', 'in', [...q.types]);
  if (q.startTime !== undefined) query = query.where('e.occurred_at', '>=', q.startTime);
  if (q.endTime !== undefined) query = query.where('e.occurred_at', '<', q.endTime);
  if (q.mailingId !== undefined) query = query.where('r.mailing_id', '=', q.mailingId);
  if (q.messageId !== undefined) {
    const id = q.messageId;
    query = query.where((eb) => eb.or([eb('e.message_id', '=', id), eb('r.custom_message_id', '=', id)]));
  }
  return query;
}

/** One page (OFFSET paging, as the API's index asks) and the total over all pages. */
export async function searchEvents(
  db: Db,
  serverId: number,
  q: EventReportQuery,
  page: { limit: number; offset: number },
): Promise<{ rows: EventReportRow[]; total: number }> {
  if (q.types.length === 0) return { rows: [], total: 0 };
  const [events, count] = await Promise.all([
    page.limit === 0
      ? Promise.resolve([])
      : matching(db, serverId, q)
          .selectAll('e')
          // Time, then the outbox id: events written in one transaction keep their order, and pages never overlap.
          .orderBy('e.occurred_at')
          .orderBy('e.id')
          .limit(page.limit)
          .offset(page.offset)
          .execute(),
    matching(db, serverId, q).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  const total = Number(count.n);
  if (events.length === 0) return { rows: [], total };
  const messageIds = [...new Set(events.map((e) => e.message_id))];
  const recipientIds = [...new Set(events.map((e) => e.recipient_id!))];
  const [messages, recipients] = await Promise.all([
    db.selectFrom('messages').selectAll().where('id', 'in', messageIds).execute(),
    db.selectFrom('recipients').selectAll().where('id', 'in', recipientIds).execute(),
  ]);
  const msg = new Map(messages.map((r) => [r.id, toMessage(r)]));
  const rcpt = new Map(recipients.map((r) => [r.id, toRecipient(r)]));
  const rows: EventReportRow[] = [];
  for (const e of events) {
    const message = msg.get(e.message_id);
    const recipient = rcpt.get(e.recipient_id!);
    if (message && recipient) rows.push({ event: toEvent(e), message, recipient });
  }
  return { rows, total };
}
