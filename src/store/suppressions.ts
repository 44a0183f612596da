/**
 * Suppression-list queries, written once with Kysely for both dialects. Each function takes the
 * database or a transaction, so the accept path and the delivery outcomes can use them inside
 * their own transactions.
 */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, SuppressionsTable } from './schema.js';
import type { NewMessage } from '../core/message.js';
import { newId } from '../core/ids.js';
import { insertEvents } from './webhooks.js';
import { SUPPRESSION_REASONS, clipDetail, suppressionKey, type NewSuppression, type Suppression, type SuppressionReason } from '../core/suppression.js';
import { chunks } from './rows.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Addresses per statement: well under both dialects' bound-parameter limits (6 columns a row). */
const SUPPRESSION_CHUNK = 1_000;

export type SuppressionSortField = 'address' | 'updatedAt';
export interface SuppressionQuery {
  /** Only addresses that start with this text (compared lower-cased). */
  startsWith?: string;
  /** Only addresses that contain this text (compared lower-cased). */
  contains?: string;
  sort: SuppressionSortField;
  direction: 'asc' | 'desc';
}

export const toSuppression = (r: Selectable<SuppressionsTable>): Suppression => ({
  serverId: Number(r.server_id),
  address: r.address,
  reason: r.reason as SuppressionReason,
  detail: r.detail,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

/** A LIKE pattern that matches `text` literally (with ESCAPE '\'). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The largest code point: "prefix" + this sorts after every address that starts with prefix. */
const MAX_CHAR = '\u{10FFFF}';

/**
 * Upserts entries: a new address is added, a listed one takes the new reason and detail (the
 * latest cause wins) and keeps its creation time. Duplicates within the call collapse to the last
 * one (PostgreSQL refuses to update one row twice in a statement), and rows are written in address
 * order so concurrent writers lock rows in the same order and cannot deadlock.
 */
export async function upsertSuppressions(db: Db, serverId: number, entries: readonly NewSuppression[], now: number): Promise<number> {
  const byKey = new Map<string, NewSuppression>();
  for (const e of entries) {
    if (!(SUPPRESSION_REASONS as readonly string[]).includes(e.reason)) throw new Error(`unknown suppression reason ${JSON.stringify(e.reason)}`);
    byKey.set(suppressionKey(e.address), e);
  }
  const rows = [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([address, e]) => ({
      server_id: serverId,
      address,
      reason: e.reason,
      detail: clipDetail(e.detail),
      created_at: now,
      updated_at: now,
    }));
  for (const part of chunks(rows, SUPPRESSION_CHUNK)) {
    await db
      .insertInto('suppressions')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['server_id', 'address']).doUpdateSet((eb) => ({
          reason: eb.ref('excluded.reason'),
          detail: eb.ref('excluded.detail'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  return rows.length;
}

export async function deleteSuppressions(db: Db, serverId: number, addresses: readonly string[]): Promise<number> {
  const keys = [...new Set(addresses.map(suppressionKey))];
  let removed = 0;
  for (const part of chunks(keys, SUPPRESSION_CHUNK)) {
    const res = await db.deleteFrom('suppressions').where('server_id', '=', serverId).where('address', 'in', part).executeTakeFirst();
    removed += Number(res.numDeletedRows);
  }
  return removed;
}

export async function findSuppression(db: Db, serverId: number, address: string): Promise<Suppression | undefined> {
  const row = await db
    .selectFrom('suppressions')
    .selectAll()
    .where('server_id', '=', serverId)
    .where('address', '=', suppressionKey(address))
    .executeTakeFirst();
  return row && toSuppression(row);
}

/** Which of `addresses` are suppressed on the server: lower-cased address -> reason. One query per 1,000 addresses. */
export async function suppressedAmong(db: Db, serverId: number, addresses: Iterable<string>): Promise<Map<string, SuppressionReason>> {
  const keys = [...new Set([...addresses].map(suppressionKey))];
  const found = new Map<string, SuppressionReason>();
  for (const part of chunks(keys, SUPPRESSION_CHUNK)) {
    const rows = await db.selectFrom('suppressions').select(['address', 'reason']).where('server_id', '=', serverId).where('address', 'in', part).execute();
    for (const r of rows) found.set(r.address, r.reason as SuppressionReason);
  }
  return found;
}

/** The suppressed addresses among an accept batch's recipients, per server: one query per server and 1,000 addresses. */
export async function suppressedForMessages(db: Db, messages: readonly NewMessage[]): Promise<Map<number, Map<string, SuppressionReason>>> {
  const byServer = new Map<number, string[]>();
  for (const m of messages) {
    let list = byServer.get(m.serverId);
    if (!list) byServer.set(m.serverId, (list = []));
    for (const r of m.recipients) list.push(r.address);
  }
  const out = new Map<number, Map<string, SuppressionReason>>();
  for (const [serverId, addresses] of byServer) {
    const found = await suppressedAmong(db, serverId, addresses);
    if (found.size > 0) out.set(serverId, found);
  }
  return out;
}

/**
 * Lists an accepted recipient's address on its server and records `event` for it (call inside a
 * transaction). An unsubscribe counts once per recipient: only the first sets the recipient's
 * `unsubscribed_at`; a replay (the same one-click POST sent again, the form submitted twice)
 * writes nothing and answers the address's entry as it is. The conditional UPDATE decides it in
 * the database, so two processes taking the same POST cannot both count it.
 */
export async function suppressRecipient(
  db: Db,
  input: { recipientId: string; reason: SuppressionReason; detail: string | null; event?: { type: string; data: Record<string, unknown> } | null },
  now: number,
): Promise<Suppression | undefined> {
  const r = await db.selectFrom('recipients').select(['server_id', 'message_id', 'address']).where('id', '=', input.recipientId).executeTakeFirst();
  if (!r) return undefined;
  const serverId = Number(r.server_id);
  if (input.reason === 'Unsubscribe') {
    const first = await db
      .updateTable('recipients')
      .set({ unsubscribed_at: now })
      .where('id', '=', input.recipientId)
      .where('unsubscribed_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!first) return findSuppression(db, serverId, r.address);
  }
  await upsertSuppressions(db, serverId, [{ address: r.address, reason: input.reason, detail: input.detail }], now);
  // An unsubscribe also marks the server's marketing contact of that address unsubscribed (for
  // every list of the server), in the same transaction.
  if (input.reason === 'Unsubscribe') {
    await db
      .updateTable('contacts')
      .set({ unsubscribed_at: now, updated_at: now })
      .where('server_id', '=', serverId)
      .where('email', '=', r.address.toLowerCase())
      .where('unsubscribed_at', 'is', null)
      .execute();
  }
  if (input.event) {
    await insertEvents(db, [
      {
        uid: newId(now),
        server_id: serverId,
        message_id: r.message_id,
        recipient_id: input.recipientId,
        type: input.event.type,
        occurred_at: now,
        data: JSON.stringify(input.event.data),
      },
    ]);
  }
  return findSuppression(db, serverId, r.address);
}

function filtered(db: Db, serverId: number, q: Pick<SuppressionQuery, 'startsWith' | 'contains'>) {
  let query = db.selectFrom('suppressions').where('server_id', '=', serverId);
  if (q.startsWith) {
    // A range rather than LIKE 'x%': it uses the primary key on both dialects.
    const p = suppressionKey(q.startsWith);
    query = query.where('address', '>=', p).where('address', '<', p + MAX_CHAR);
  }
  if (q.contains) {
    const pattern = `%${likeLiteral(suppressionKey(q.contains))}%`;
    query = query.where(sql<boolean>`address LIKE ${pattern} ESCAPE '\\'`);
  }
  return query;
}

const sortColumn = (s: SuppressionSortField) => (s === 'address' ? 'address' : 'updated_at') as 'address' | 'updated_at';

/** One page and the total that matches. Ties in the sort column are broken by address, so pages never overlap. */
export async function searchSuppressions(
  db: Db,
  serverId: number,
  q: SuppressionQuery & { limit: number; offset: number },
): Promise<{ rows: Suppression[]; total: number }> {
  const base = filtered(db, serverId, q);
  let page = base.selectAll().orderBy(sortColumn(q.sort), q.direction);
  if (q.sort !== 'address') page = page.orderBy('address', q.direction);
  const [rows, count] = await Promise.all([
    page.limit(q.limit).offset(q.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(toSuppression), total: Number(count.n) };
}

/**
 * Every matching entry, `batchSize` at a time, in sort order. Keyset paging (each batch starts
 * after the last row of the one before) keeps every query an index range however far in, and
 * only one batch is in memory. It is not one snapshot: an entry changed during the walk may be
 * seen at its old or new place.
 */
export async function* streamSuppressions(db: Db, serverId: number, q: SuppressionQuery, batchSize: number): AsyncGenerator<Suppression[]> {
  if (!(batchSize >= 1)) throw new Error('batchSize must be >= 1');
  const cmp = q.direction === 'asc' ? '>' : '<';
  let after: Suppression | null = null;
  for (;;) {
    let query = filtered(db, serverId, q).selectAll();
    if (q.sort === 'address') {
      if (after) query = query.where('address', cmp, after.address);
      query = query.orderBy('address', q.direction);
    } else {
      const last: Suppression | null = after;
      if (last) query = query.where((eb) => eb(eb.refTuple('updated_at', 'address'), cmp, eb.tuple(last.updatedAt, last.address)));
      query = query.orderBy('updated_at', q.direction).orderBy('address', q.direction);
    }
    const rows = (await query.limit(batchSize).execute()).map(toSuppression);
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]!;
  }
}

/**
 * Suppression lists, one per server. Addresses are stored and compared lower-cased; callers
 * validate their syntax. Writers that suppress as part of something else (a recipient's complaint
 * or bounce, an accept) use this file's functions inside their own transaction.
 */
export interface SuppressionRepository {
  /** Adds a listed address anew (reason, detail, update time); returns how many distinct addresses were written. */
  add(serverId: number, entries: readonly NewSuppression[], now: number): Promise<number>;
  /** Returns how many of the addresses were on the list (and are no longer). */
  remove(serverId: number, addresses: readonly string[]): Promise<number>;
  get(serverId: number, address: string): Promise<Suppression | undefined>;
  search(serverId: number, query: SuppressionQuery & { limit: number; offset: number }): Promise<{ rows: Suppression[]; total: number }>;
  /** Every matching entry in order, `batchSize` per batch, never the whole list in memory (CSV download). */
  stream(serverId: number, query: SuppressionQuery, batchSize: number): AsyncGenerator<Suppression[]>;
  /** Which of `addresses` are suppressed on the server (lower-cased address -> reason); batched, not one query per address. */
  listedAmong(serverId: number, addresses: Iterable<string>): Promise<Map<string, SuppressionReason>>;
  /**
   * Suppresses the address of an accepted recipient on its server because of something that
   * recipient's message caused (a complaint report, an unsubscribe, an asynchronous bounce), and
   * records `event` for that recipient in the same transaction. undefined: no such recipient.
   */
  suppressRecipient(
    input: { recipientId: string; reason: SuppressionReason; detail: string | null; event?: { type: string; data: Record<string, unknown> } | null },
    now: number,
  ): Promise<Suppression | undefined>;
}

/** The suppression lists in SQL, one implementation for both dialects (Kysely). */
export class SqlSuppressionRepository implements SuppressionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  suppressRecipient(
    input: { recipientId: string; reason: SuppressionReason; detail: string | null; event?: { type: string; data: Record<string, unknown> } | null },
    now: number,
  ): Promise<Suppression | undefined> {
    return this.db.transaction().execute((trx) => suppressRecipient(trx, input, now));
  }

  async add(serverId: number, entries: readonly NewSuppression[], now: number): Promise<number> {
    if (entries.length === 0) return 0;
    // One transaction: a list of any length is added whole or not at all.
    return this.db.transaction().execute((trx) => upsertSuppressions(trx, serverId, entries, now));
  }
  async remove(serverId: number, addresses: readonly string[]): Promise<number> {
    if (addresses.length === 0) return 0;
    return this.db.transaction().execute((trx) => deleteSuppressions(trx, serverId, addresses));
  }
  get(serverId: number, address: string): Promise<Suppression | undefined> {
    return findSuppression(this.db, serverId, address);
  }
  search(serverId: number, query: SuppressionQuery & { limit: number; offset: number }): Promise<{ rows: Suppression[]; total: number }> {
    return searchSuppressions(this.db, serverId, query);
  }
  stream(serverId: number, query: SuppressionQuery, batchSize: number): AsyncGenerator<Suppression[]> {
    return streamSuppressions(this.db, serverId, query, batchSize);
  }
  listedAmong(serverId: number, addresses: Iterable<string>): Promise<Map<string, SuppressionReason>> {
    return suppressedAmong(this.db, serverId, addresses);
  }
}
