/**
 * Sends to a contact list (marketing/list-send.ts), written once with Kysely for both dialects.
 * Accepting writes the message (template, no recipients yet) and the list_sends row in one
 * transaction; expanding turns one batch of the list's members into merge recipients per
 * transaction, the keyset cursor (last_contact_id) moving in that same transaction.
 */
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Database, EventsTable, ListSendsTable, RecipientsTable } from './schema.js';
import type { NewMessage } from '../core/message.js';
import { domainOf } from '../core/address.js';
import { newId } from '../core/ids.js';
import { FAILURE_CODE_SUPPRESSED, suppressedFailure } from '../core/suppression.js';
import { buildMergeLookup, compileTemplate, renderHeader } from '../merge/template.js';
import { contactMergeRow, type ListMember } from '../merge/contact-row.js';
import { suppressedAmong } from './suppressions.js';
import { messageBodyRow } from './message-body.js';
import { insertEvents } from './webhooks.js';
import { chunks } from './rows.js';

type Db = Kysely<Database> | Transaction<Database>;

export type ListSendState = 'expanding' | 'done';

export interface ListSend {
  id: number;
  serverId: number;
  listId: number;
  messageId: string;
  state: ListSendState;
  acceptedAt: number;
  contactsSeen: number;
  queued: number;
  skippedUnsubscribed: number;
  skippedSuppressed: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** A send after one expanded batch, with how many recipients that batch committed (queued and suppressed). */
export interface ExpandedBatch extends ListSend {
  batchRecipients: number;
}

/** Rows per multi-row INSERT: far below both dialects' bound-parameter limits (17 columns a row). */
const INSERT_CHUNK = 500;

const toListSend = (r: Selectable<ListSendsTable>): ListSend => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  listId: Number(r.list_id),
  messageId: r.message_id,
  state: r.state as ListSendState,
  acceptedAt: Number(r.accepted_at),
  contactsSeen: Number(r.contacts_seen),
  queued: Number(r.queued),
  skippedUnsubscribed: Number(r.skipped_unsubscribed),
  skippedSuppressed: Number(r.skipped_suppressed),
  updatedAt: Number(r.updated_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

/**
 * Accepts a send of `message` (no recipients) to the list, in one transaction: 'no-list' when the
 * server has no such list, 'empty' when no subscribed contact is on it; nothing is written then.
 */
export async function acceptListSend(db: Kysely<Database>, serverId: number, listId: number, m: NewMessage): Promise<ListSend | 'no-list' | 'empty'> {
  return db.transaction().execute(async (trx): Promise<ListSend | 'no-list' | 'empty'> => {
    const list = await trx.selectFrom('contact_lists').select('id').where('server_id', '=', serverId).where('id', '=', listId).executeTakeFirst();
    if (!list) return 'no-list';
    const someone = await trx
      .selectFrom('contact_list_members as lm')
      .innerJoin('contacts as c', 'c.id', 'lm.contact_id')
      .select('c.id')
      .where('lm.list_id', '=', listId)
      .where('c.unsubscribed_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    if (!someone) return 'empty';
    await trx
      .insertInto('messages')
      .values({
        id: m.id,
        server_id: serverId,
        created_at: m.createdAt,
        source: m.source,
        is_merge: 1,
        from_address: m.template.from.email,
        subject: m.template.subject,
        size_bytes: m.sizeBytes,
        recipient_count: 0,
        metadata: JSON.stringify(m.metadata),
        tags: JSON.stringify(m.tags),
      })
      .execute();
    await trx.insertInto('message_bodies').values(messageBodyRow(m.id, m.template)).execute();
    const row = await trx
      .insertInto('list_sends')
      .values({
        server_id: serverId,
        list_id: listId,
        message_id: m.id,
        state: 'expanding',
        accepted_at: m.createdAt,
        last_contact_id: 0,
        contacts_seen: 0,
        queued: 0,
        skipped_unsubscribed: 0,
        skipped_suppressed: 0,
        updated_at: m.createdAt,
        finished_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toListSend(row);
  });
}

export async function getListSend(db: Db, serverId: number, listId: number, sendId: number): Promise<ListSend | undefined> {
  const row = await db
    .selectFrom('list_sends')
    .selectAll()
    .where('server_id', '=', serverId)
    .where('list_id', '=', listId)
    .where('id', '=', sendId)
    .executeTakeFirst();
  return row && toListSend(row);
}

/** Sends still being expanded, oldest first. */
export async function expandingListSends(db: Db, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('list_sends').select('id').where('state', '=', 'expanding').orderBy('id').limit(limit).execute();
  return rows.map((r) => Number(r.id));
}

/** The next `limit` members after the cursor (added by acceptedAt), with their custom field values. */
async function membersAfter(trx: Transaction<Database>, s: Selectable<ListSendsTable>, limit: number): Promise<ListMember[]> {
  const rows = await trx
    .selectFrom('contact_list_members as lm')
    .innerJoin('contacts as c', 'c.id', 'lm.contact_id')
    .select(['c.id', 'c.email', 'c.first_name', 'c.last_name', 'c.unsubscribed_at'])
    .where('lm.list_id', '=', s.list_id)
    .where('c.server_id', '=', s.server_id)
    .where('lm.contact_id', '>', s.last_contact_id)
    .where('lm.added_at', '<=', s.accepted_at)
    .orderBy('lm.contact_id')
    .limit(limit)
    .execute();
  if (rows.length === 0) return [];
  const values = await trx
    .selectFrom('contact_field_values as v')
    .innerJoin('custom_fields as f', 'f.id', 'v.field_id')
    .select(['v.contact_id', 'f.name', 'v.value'])
    .where(
      'v.contact_id',
      'in',
      rows.map((r) => Number(r.id)),
    )
    .execute();
  const fields = new Map<number, Map<string, string>>();
  for (const v of values) {
    const id = Number(v.contact_id);
    let f = fields.get(id);
    if (!f) fields.set(id, (f = new Map()));
    f.set(v.name, v.value);
  }
  return rows.map((r) => ({
    contactId: Number(r.id),
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    unsubscribed: r.unsubscribed_at !== null,
    fields: fields.get(Number(r.id)) ?? new Map(),
  }));
}

/**
 * Expands the next batch of the send into merge recipients, in one transaction: each subscribed
 * member becomes a recipient of the send's message with its merge row and a Queued event, or,
 * when its address is on the server's suppression list, a `suppressed` recipient with a Failed
 * event, exactly as the Injection API's accept path treats a suppressed address; an unsubscribed
 * member becomes nothing. The cursor and counters move in the same transaction, guarded by the
 * cursor read at its start, so two expanders (or a crash and a restart) never expand a contact
 * twice. Undefined when the send is finished or another expander moved it first.
 */
export async function expandListSend(db: Kysely<Database>, sendId: number, batchSize: number, now: number): Promise<ExpandedBatch | undefined> {
  if (!(batchSize >= 1)) throw new Error('batchSize must be >= 1');
  return db.transaction().execute(async (trx) => {
    const s = await trx.selectFrom('list_sends').selectAll().where('id', '=', sendId).executeTakeFirst();
    if (s?.state !== 'expanding') return undefined;
    // Takes the row (PostgreSQL: a row lock until commit): a second expander reading the same
    // cursor finds it moved and stops here, having written nothing.
    const mine = await trx
      .updateTable('list_sends')
      .set({ updated_at: now })
      .where('id', '=', sendId)
      .where('state', '=', 'expanding')
      .where('last_contact_id', '=', s.last_contact_id)
      .executeTakeFirst();
    if (Number(mine.numUpdatedRows) === 0) return undefined;
    const members = await membersAfter(trx, s, batchSize);
    const body = await trx.selectFrom('message_bodies').select('content').where('message_id', '=', s.message_id).executeTakeFirstOrThrow();
    const template = JSON.parse(body.content) as { mailingId: string | null; messageId: string | null; globalMerge: { field: string; value: string }[] };
    const fieldNames = (await trx.selectFrom('custom_fields').select('name').where('server_id', '=', s.server_id).orderBy('id').execute()).map((f) => f.name);
    const subscribed = members.filter((m) => !m.unsubscribed);
    const suppressed = await suppressedAmong(
      trx,
      Number(s.server_id),
      subscribed.map((m) => m.email),
    );
    const mailingId = template.mailingId === null ? null : compileTemplate(template.mailingId);
    const messageId = template.messageId === null ? null : compileTemplate(template.messageId);
    const rcpts: Insertable<RecipientsTable>[] = [];
    const events: Insertable<EventsTable>[] = [];
    let queued = 0;
    for (const m of subscribed) {
      const merge = contactMergeRow(m, fieldNames);
      const lookup = buildMergeLookup(merge, template.globalMerge);
      const reason = suppressed.get(m.email);
      const failure = reason === undefined ? null : suppressedFailure(m.email, reason);
      if (!failure) queued += 1;
      const id = newId(now);
      rcpts.push({
        id,
        message_id: s.message_id,
        server_id: s.server_id,
        address: m.email,
        domain: domainOf(m.email),
        kind: 'merge',
        merge: JSON.stringify(merge),
        mailing_id: mailingId && renderHeader(mailingId, lookup),
        custom_message_id: messageId && renderHeader(messageId, lookup),
        status: failure ? 'suppressed' : 'queued',
        attempts: 0,
        next_attempt_at: now,
        locked_by: null,
        locked_at: null,
        last_reply: failure?.reply ?? null,
        created_at: now,
        updated_at: now,
        failure_code: failure ? FAILURE_CODE_SUPPRESSED : null,
      });
      events.push({
        uid: newId(now),
        server_id: s.server_id,
        message_id: s.message_id,
        recipient_id: id,
        type: failure ? 'Failed' : 'Queued',
        occurred_at: now,
        data: failure ? JSON.stringify(failure.data) : null,
      });
    }
    for (const part of chunks(rcpts, INSERT_CHUNK)) await trx.insertInto('recipients').values(part).execute();
    await insertEvents(trx, events);
    if (rcpts.length > 0) {
      await trx
        .updateTable('messages')
        .set((eb) => ({ recipient_count: eb('recipient_count', '+', rcpts.length) }))
        .where('id', '=', s.message_id)
        .execute();
    }
    const finished = members.length < batchSize;
    const row = await trx
      .updateTable('list_sends')
      .set((eb) => ({
        last_contact_id: members.length > 0 ? members[members.length - 1]!.contactId : s.last_contact_id,
        contacts_seen: eb('contacts_seen', '+', members.length),
        queued: eb('queued', '+', queued),
        skipped_unsubscribed: eb('skipped_unsubscribed', '+', members.length - subscribed.length),
        skipped_suppressed: eb('skipped_suppressed', '+', subscribed.length - queued),
        state: finished ? 'done' : 'expanding',
        finished_at: finished ? now : null,
        updated_at: now,
      }))
      .where('id', '=', sendId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ...toListSend(row), batchRecipients: rcpts.length };
  });
}

/** Sends to a contact list: accepted at once, expanded into recipients in batches. */
export interface ListSendRepository {
  /**
   * A send to a list (store/list-sends.ts): the message (no recipients yet) and the job row
   * in one transaction; 'no-list' (not this server's) or 'empty' (no subscribed contact) write nothing.
   */
  accept(serverId: number, listId: number, message: NewMessage): Promise<ListSend | 'no-list' | 'empty'>;
  get(serverId: number, listId: number, sendId: number): Promise<ListSend | undefined>;
  /** Ids of the sends still being expanded, oldest first. */
  expanding(limit: number): Promise<number[]>;
  /** One batch of the send into merge recipients (and their events) in one transaction; undefined: nothing was left or another expander took it. */
  expand(sendId: number, batchSize: number, now: number): Promise<ExpandedBatch | undefined>;
}

/** List sends for both dialects. */
export class SqlListSendRepository implements ListSendRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  accept(serverId: number, listId: number, message: NewMessage): Promise<ListSend | 'no-list' | 'empty'> {
    return acceptListSend(this.db, serverId, listId, message);
  }

  get(serverId: number, listId: number, sendId: number): Promise<ListSend | undefined> {
    return getListSend(this.db, serverId, listId, sendId);
  }

  expanding(limit: number): Promise<number[]> {
    return expandingListSends(this.db, limit);
  }

  expand(sendId: number, batchSize: number, now: number): Promise<ExpandedBatch | undefined> {
    return expandListSend(this.db, sendId, batchSize, now);
  }
}
