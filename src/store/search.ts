import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database } from './schema.js';
import type { RecipientStatus, MessageTemplate } from '../core/message.js';
import type { StoredEvent } from './store.js';
import { toEvent, toRecipient } from './rows.js';
import type { StoredRecipient } from './store.js';
import { templateFromBody } from './message-body.js';

/**
 * Recipient search and message detail (api/v2/reports/): one row per recipient (what SocketLabs
 * calls a message), joined to its message for From and Subject. Every query is scoped to one
 * server. The indexes of migration 13 serve the time range, the address, the mailing id and the
 * customer's MessageId; docs/reporting.md shows the plans.
 */

export const RECIPIENT_SEARCH_SORTS = ['queuedTime', 'to', 'from', 'subject', 'status', 'statusDate'] as const;
export type RecipientSearchSort = (typeof RECIPIENT_SEARCH_SORTS)[number];

export interface RecipientSearchQuery {
  /** Exact address, compared case-insensitively. */
  toEmailAddress?: string;
  fromEmailAddress?: string;
  /** Substring of the subject, case-insensitive. */
  subject?: string;
  mailingId?: string;
  /** Postline's message id, or the customer's own MessageId (X-xsMessageId). */
  messageId?: string;
  recipientId?: string;
  statuses?: readonly RecipientStatus[];
  /** Queued time in [startTime, endTime). */
  startTime?: number;
  endTime?: number;
  sort: RecipientSearchSort;
  direction: 'asc' | 'desc';
}

export interface RecipientSearchRow {
  recipientId: string;
  messageId: string;
  customMessageId: string | null;
  mailingId: string | null;
  to: string;
  from: string;
  subject: string;
  status: RecipientStatus;
  queuedAt: number;
  statusAt: number;
}

type Db = Kysely<Database>;
type Dialect = 'sqlite' | 'postgres';
type Eb = ExpressionBuilder<Database & { r: Database['recipients']; m: Database['messages'] }, 'r' | 'm'>;

const SORT_COLUMNS = {
  queuedTime: 'r.created_at',
  to: 'r.address',
  from: 'm.from_address',
  subject: 'm.subject',
  status: 'r.status',
  statusDate: 'r.updated_at',
} as const;
const TEXT_SORTS = new Set<RecipientSearchSort>(['to', 'from', 'subject', 'status']);

/**
 * The sort key as SQL. Text sorts use byte order on PostgreSQL too (COLLATE "C", as SQLite
 * compares), so a page and an export list rows in the same order on both stores.
 */
function sortKey(sort: RecipientSearchSort, dialect: Dialect) {
  const col = sql.ref(SORT_COLUMNS[sort]);
  return TEXT_SORTS.has(sort) && dialect === 'postgres' ? sql`${col} COLLATE "C"` : col;
}
const idKey = (dialect: Dialect) => (dialect === 'postgres' ? sql`r.id COLLATE "C"` : sql.ref('r.id'));

/** LIKE pattern for a substring, its wildcards escaped (with ESCAPE '\'). */
const containsPattern = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Up to how many messages a subject may match in the trigram index for the search to start from
 * those messages; beyond it the matches are dense enough that reading recipients newest first
 * finds a page sooner (bench/activity-search.js measures both sides of it).
 */
export const SUBJECT_INDEX_MAX_HITS = 20_000;

/** The substring as an FTS5 phrase (its trigrams in a row: a substring match, in any case). */
const subjectPhrase = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * How a query finds its subject matches. SQLite: through the trigram index (migration 26) when
 * the substring has three characters or more (fewer make no trigram) and the index names at
 * most SUBJECT_INDEX_MAX_HITS messages; otherwise, and on PostgreSQL (whose planner chooses the
 * pg_trgm index itself), by the LIKE alone. The LIKE always stays, so the index only narrows.
 * Returns the rowids of the messages the index names, or undefined for the LIKE alone.
 */
async function subjectViaIndex(db: Db, dialect: Dialect, q: RecipientSearchQuery): Promise<number[] | undefined> {
  if (dialect !== 'sqlite' || q.subject === undefined || [...q.subject].length < 3) return undefined;
  const hits = await sql<{
    rowid: number;
  }>`SELECT rowid FROM message_subjects WHERE message_subjects MATCH ${subjectPhrase(q.subject)} LIMIT ${SUBJECT_INDEX_MAX_HITS + 1}`.execute(db);
  return hits.rows.length <= SUBJECT_INDEX_MAX_HITS ? hits.rows.map((r) => Number(r.rowid)) : undefined;
}

/** A query and, when its subject filter goes through the index, the rowids of the messages the index names. */
interface Planned extends RecipientSearchQuery {
  subjectRowids?: number[];
}

/**
 * The query's other conditions a message must meet, so the index's messages are narrowed before
 * their recipients are read: the sender, and the end of the range (a message is accepted no later
 * than its recipients are queued; a list send queues them after).
 */
function messageNarrowing(q: RecipientSearchQuery) {
  const parts = [];
  if (q.fromEmailAddress !== undefined) parts.push(sql` AND lower(from_address) = ${q.fromEmailAddress.toLowerCase()}`);
  if (q.endTime !== undefined) parts.push(sql` AND created_at < ${q.endTime}`);
  return sql.join(parts, sql``);
}

function filters(eb: Eb, serverId: number, q: Planned): Expression<SqlBool> {
  const and: Expression<SqlBool>[] = [eb('r.server_id', '=', serverId)];
  if (q.startTime !== undefined) and.push(eb('r.created_at', '>=', q.startTime));
  if (q.endTime !== undefined) and.push(eb('r.created_at', '<', q.endTime));
  // The same expression as the index recipients_server_address, so the index serves it.
  if (q.toEmailAddress !== undefined) and.push(sql<SqlBool>`lower(r.address) = ${q.toEmailAddress.toLowerCase()}`);
  if (q.fromEmailAddress !== undefined) and.push(sql<SqlBool>`lower(m.from_address) = ${q.fromEmailAddress.toLowerCase()}`);
  if (q.subject !== undefined) and.push(sql<SqlBool>`lower(m.subject) LIKE ${containsPattern(q.subject)} ESCAPE '\\'`);
  if (q.subjectRowids !== undefined) {
    // The few messages the index named (read once, before the query), then their recipients by recipients_message.
    and.push(
      sql<SqlBool>`r.message_id IN (SELECT id FROM messages WHERE rowid IN (SELECT value FROM json_each(${JSON.stringify(q.subjectRowids)}))
        AND server_id = ${serverId}${messageNarrowing(q)})`,
    );
  }
  if (q.mailingId !== undefined) and.push(eb('r.mailing_id', '=', q.mailingId));
  if (q.messageId !== undefined) and.push(eb.or([eb('r.message_id', '=', q.messageId), eb('r.custom_message_id', '=', q.messageId)]));
  if (q.recipientId !== undefined) and.push(eb('r.id', '=', q.recipientId));
  if (q.statuses !== undefined) and.push(eb('r.status', 'in', [...q.statuses]));
  return eb.and(and);
}

function baseQuery(db: Db, serverId: number, q: Planned) {
  return db
    .selectFrom('recipients as r')
    .innerJoin('messages as m', 'm.id', 'r.message_id')
    .where((eb) => filters(eb as unknown as Eb, serverId, q));
}

/** Whether a query filters on the message (sender, subject) and so needs the join to count. */
const needsMessages = (q: RecipientSearchQuery) => q.fromEmailAddress !== undefined || q.subject !== undefined;

/**
 * How many recipients match, counting at most `limit` of them when given. Without a filter on
 * the message the count reads recipients alone: joining a million messages only to count them
 * cost ten times the count itself.
 */
async function countMatches(db: Db, serverId: number, q: Planned, limit: number | undefined): Promise<number> {
  const matching = needsMessages(q) ? baseQuery(db, serverId, q) : db.selectFrom('recipients as r').where((eb) => filters(eb as unknown as Eb, serverId, q));
  if (limit === undefined) {
    const row = await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
  const row = await db
    .selectFrom(matching.select(sql<number>`1`.as('one')).limit(limit).as('capped'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function selectRows(db: Db, dialect: Dialect, serverId: number, q: Planned) {
  const dir = q.direction === 'asc' ? sql`ASC` : sql`DESC`;
  return (
    baseQuery(db, serverId, q)
      .select([
        'r.id',
        'r.message_id',
        'r.custom_message_id',
        'r.mailing_id',
        'r.address',
        'm.from_address',
        'm.subject',
        'r.status',
        'r.created_at',
        'r.updated_at',
      ])
      // Ties in the sort field are ordered by recipient id, so pages never overlap and the keyset export is exact.
      .orderBy(sql`${sortKey(q.sort, dialect)} ${dir}`)
      .orderBy(sql`${idKey(dialect)} ${dir}`)
  );
}

type Row = {
  id: string;
  message_id: string;
  custom_message_id: string | null;
  mailing_id: string | null;
  address: string;
  from_address: string;
  subject: string;
  status: string;
  created_at: number;
  updated_at: number;
};
const toRow = (r: Row): RecipientSearchRow => ({
  recipientId: r.id,
  messageId: r.message_id,
  customMessageId: r.custom_message_id,
  mailingId: r.mailing_id,
  to: r.address,
  from: r.from_address,
  subject: r.subject,
  status: r.status as RecipientStatus,
  queuedAt: Number(r.created_at),
  statusAt: Number(r.updated_at),
});

/** One page (OFFSET paging, as the API's pageNumber asks) and the total over all pages. */
export interface RecipientSearchPage {
  limit: number;
  offset: number;
  /** Count at most this many matches (the total is then a lower bound when reached); no cap when absent. */
  countLimit?: number;
}

export interface RecipientSearchResult {
  rows: RecipientSearchRow[];
  /** Matches over all pages: exact, or `countLimit` when the count stopped there. */
  total: number;
  /** False when the count stopped at `countLimit`: there are at least `total` matches. */
  totalExact: boolean;
}

export async function searchRecipients(
  db: Db,
  dialect: Dialect,
  serverId: number,
  query: RecipientSearchQuery,
  page: RecipientSearchPage,
): Promise<RecipientSearchResult> {
  const q: Planned = { ...query, subjectRowids: await subjectViaIndex(db, dialect, query) };
  if (q.subjectRowids !== undefined) {
    // The index names few messages, and the page query reads every match to sort them anyway:
    // it counts them in the same pass instead of joining them all again.
    const counted = (await selectRows(db, dialect, serverId, q)
      .select(sql<number>`count(*) OVER ()`.as('matches'))
      .limit(page.limit)
      .offset(page.offset)
      .execute()) as (Row & { matches: number })[];
    // Capped as a count would be, so that every path answers a countLimit alike.
    if (counted.length > 0) return withTotal(counted.map(toRow), Number(counted[0]!.matches), countCap(page, counted.length));
  }
  const rows = ((await selectRows(db, dialect, serverId, q).limit(page.limit).offset(page.offset).execute()) as Row[]).map(toRow);
  // A page that is not full is the last one: the total is known without counting again (a
  // selective filter that had to scan the table for its page would otherwise scan it twice).
  if (rows.length < page.limit && (rows.length > 0 || page.offset === 0)) return { rows, total: page.offset + rows.length, totalExact: true };
  const cap = countCap(page, rows.length);
  return withTotal(rows, await countMatches(db, serverId, q, cap === undefined ? undefined : cap + 1), cap);
}

/** How far a count goes: countLimit, but never short of the page asked for; undefined for an exact count. */
const countCap = (page: RecipientSearchPage, rowsOnPage: number): number | undefined =>
  page.countLimit === undefined ? undefined : Math.max(page.countLimit, page.offset + rowsOnPage);

/** The page with its total: `matches`, or the cap (a lower bound) when there are more. */
const withTotal = (rows: RecipientSearchRow[], matches: number, cap: number | undefined): RecipientSearchResult =>
  cap !== undefined && matches > cap ? { rows, total: cap, totalExact: false } : { rows, total: matches, totalExact: true };

function sortValueOf(r: Row, sort: RecipientSearchSort): string | number {
  switch (sort) {
    case 'queuedTime':
      return Number(r.created_at);
    case 'statusDate':
      return Number(r.updated_at);
    case 'to':
      return r.address;
    case 'from':
      return r.from_address;
    case 'subject':
      return r.subject;
    case 'status':
      return r.status;
  }
}

/**
 * Every matching row in order, `batchSize` per query: keyset pagination on (sort field, id), so
 * each batch is an index range read from where the last one ended — no OFFSET that rescans what
 * was already sent, and never the whole result in memory (the CSV export).
 */
export async function* streamRecipientSearch(
  db: Db,
  dialect: Dialect,
  serverId: number,
  query: RecipientSearchQuery,
  batchSize: number,
): AsyncGenerator<RecipientSearchRow[]> {
  const q: Planned = { ...query, subjectRowids: await subjectViaIndex(db, dialect, query) };
  let after: { value: string | number; id: string } | null = null;
  const cmp = q.direction === 'asc' ? sql`>` : sql`<`;
  const cmpEq = q.direction === 'asc' ? sql`>=` : sql`<=`;
  for (;;) {
    let query = selectRows(db, dialect, serverId, q).limit(batchSize);
    if (after) {
      const a = after;
      const key = sortKey(q.sort, dialect);
      // The first term alone is a range the index can seek to; the OR then settles ties. Without it
      // SQLite read every row before the position again, each batch (quadratic over an export).
      query = query
        .where(sql<SqlBool>`${key} ${cmpEq} ${a.value}`)
        .where(sql<SqlBool>`(${key} ${cmp} ${a.value} OR (${key} = ${a.value} AND ${idKey(dialect)} ${cmp} ${a.id}))`);
    }
    const rows = (await query.execute()) as Row[];
    if (rows.length === 0) return;
    yield rows.map(toRow);
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1]!;
    after = { value: sortValueOf(last, q.sort), id: last.id };
  }
}

/** What message detail shows of a page of recipients: their full rows, their events in order, their messages' templates. */
export interface RecipientDetailData {
  recipients: Map<string, StoredRecipient>;
  /** By recipient id: the recipient's own events and its message's message-level ones, in the order they happened. */
  events: Map<string, StoredEvent[]>;
  /** By message id; absent when retention removed the body. */
  templates: Map<string, MessageTemplate>;
}

export async function loadRecipientDetail(db: Db, serverId: number, recipientIds: readonly string[]): Promise<RecipientDetailData> {
  const out: RecipientDetailData = { recipients: new Map(), events: new Map(), templates: new Map() };
  if (recipientIds.length === 0) return out;
  const rows = await db
    .selectFrom('recipients')
    .selectAll()
    .where('server_id', '=', serverId)
    .where('id', 'in', [...recipientIds])
    .execute();
  for (const r of rows) out.recipients.set(r.id, toRecipient(r));
  const messageIds = [...new Set(rows.map((r) => r.message_id))];
  if (messageIds.length === 0) return out;
  const [events, bodies] = await Promise.all([
    db
      .selectFrom('events')
      .selectAll()
      .where('server_id', '=', serverId)
      .where((eb) =>
        eb.or([eb('recipient_id', 'in', [...out.recipients.keys()]), eb.and([eb('message_id', 'in', messageIds), eb('recipient_id', 'is', null)])]),
      )
      // Time, then the outbox id: events written in one transaction keep their order.
      .orderBy('occurred_at')
      .orderBy('id')
      .execute(),
    db.selectFrom('message_bodies').select(['message_id', 'content', 'raw_mime']).where('message_id', 'in', messageIds).execute(),
  ]);
  for (const b of bodies) out.templates.set(b.message_id, templateFromBody(b.content, b.raw_mime));
  const byMessage = new Map<string, string[]>();
  for (const r of out.recipients.values()) {
    out.events.set(r.id, []);
    byMessage.set(r.messageId, [...(byMessage.get(r.messageId) ?? []), r.id]);
  }
  for (const e of events.map(toEvent)) {
    if (e.recipientId !== null) out.events.get(e.recipientId)?.push(e);
    else for (const id of byMessage.get(e.messageId) ?? []) out.events.get(id)!.push(e);
  }
  return out;
}
