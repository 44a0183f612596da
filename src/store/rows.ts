/** Rows as the Store's areas read them, and the chunking their multi-row statements share. */
import type { Selectable } from 'kysely';
import type { EventsTable, MessagesTable, RecipientsTable } from './schema.js';
import type { StoredEvent, StoredMessage, StoredRecipient } from './store.js';
import type { RecipientKind, RecipientStatus } from '../core/message.js';

/** Rows per multi-row INSERT: stays under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
export const INSERT_CHUNK_ROWS = 1_000;

export const toMessage = (r: Selectable<MessagesTable>): StoredMessage => ({
  id: r.id,
  serverId: Number(r.server_id),
  createdAt: Number(r.created_at),
  source: r.source as 'api' | 'smtp',
  isMerge: r.is_merge === 1,
  fromAddress: r.from_address,
  subject: r.subject,
  sizeBytes: Number(r.size_bytes),
  recipientCount: Number(r.recipient_count),
  metadata: JSON.parse(r.metadata),
  tags: JSON.parse(r.tags),
});

export const toRecipient = (r: Selectable<RecipientsTable>): StoredRecipient => ({
  id: r.id,
  messageId: r.message_id,
  serverId: Number(r.server_id),
  address: r.address,
  domain: r.domain,
  kind: r.kind as RecipientKind,
  merge: r.merge === null ? null : JSON.parse(r.merge),
  mailingId: r.mailing_id,
  messageId_: r.custom_message_id,
  status: r.status as RecipientStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  lockedBy: r.locked_by,
  lockedAt: r.locked_at === null ? null : Number(r.locked_at),
  lastReply: r.last_reply,
  lastMx: r.last_mx ?? null,
  failureCode: r.failure_code === null || r.failure_code === undefined ? null : Number(r.failure_code),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export const toEvent = (r: Selectable<EventsTable>): StoredEvent => ({
  id: Number(r.id),
  uid: r.uid,
  serverId: Number(r.server_id),
  messageId: r.message_id,
  recipientId: r.recipient_id,
  type: r.type,
  occurredAt: Number(r.occurred_at),
  data: r.data === null ? null : JSON.parse(r.data),
});

export function chunks<T>(rows: readonly T[], size = INSERT_CHUNK_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
