/**
 * The control panel's audit log (migration 25): what people did — sign-ins, user changes and every
 * state-changing request made with a session — one row each, per account, read newest first.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface NewAuditEntry {
  accountId: number;
  userId: number | null;
  at: number;
  /** e.g. `session.signed_in`, `request`, `user.created`. */
  action: string;
  /** What it acted on: `POST /api/v2/servers`, `user:12`. */
  target: string | null;
  /** Stored as JSON text. */
  detail: Record<string, unknown> | null;
  ip: string | null;
}

export interface AuditFilter {
  action?: string;
  userId?: number;
}

export interface AuditEntry extends NewAuditEntry {
  id: number;
  /** The user's email now (null when the row names no user, or the user is gone). */
  email: string | null;
}

export interface AuditRepository {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** An account's entries newest first (only those of one action and/or one user, when given), and how many there are. */
  list(accountId: number, page: { limit: number; offset: number }, filter?: AuditFilter): Promise<{ rows: AuditEntry[]; total: number }>;
}

/** The audit log for both dialects. */
export class SqlAuditRepository implements AuditRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async append(e: NewAuditEntry): Promise<AuditEntry> {
    const row = await this.db
      .insertInto('audit_log')
      .values({
        account_id: e.accountId,
        user_id: e.userId,
        at: e.at,
        action: e.action,
        target: e.target,
        detail: e.detail === null ? null : JSON.stringify(e.detail),
        ip: e.ip,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const email = e.userId === null ? null : ((await this.db.selectFrom('users').select('email').where('id', '=', e.userId).executeTakeFirst())?.email ?? null);
    return { ...e, id: Number(row.id), email };
  }

  async list(accountId: number, page: { limit: number; offset: number }, filter: AuditFilter = {}): Promise<{ rows: AuditEntry[]; total: number }> {
    let rowsQuery = this.db
      .selectFrom('audit_log as a')
      .leftJoin('users as u', 'u.id', 'a.user_id')
      .select(['a.id', 'a.account_id', 'a.user_id', 'a.at', 'a.action', 'a.target', 'a.detail', 'a.ip', 'u.email'])
      .where('a.account_id', '=', accountId);
    let totalQuery = this.db
      .selectFrom('audit_log as a')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('a.account_id', '=', accountId);
    if (filter.action !== undefined) {
      rowsQuery = rowsQuery.where('a.action', '=', filter.action);
      totalQuery = totalQuery.where('a.action', '=', filter.action);
    }
    if (filter.userId !== undefined) {
      rowsQuery = rowsQuery.where('a.user_id', '=', filter.userId);
      totalQuery = totalQuery.where('a.user_id', '=', filter.userId);
    }
    const rows = await rowsQuery.orderBy('a.id', 'desc').limit(page.limit).offset(page.offset).execute();
    const total = await totalQuery.executeTakeFirstOrThrow();
    return {
      rows: rows.map((r) => ({
        id: Number(r.id),
        accountId: Number(r.account_id),
        userId: r.user_id === null ? null : Number(r.user_id),
        at: Number(r.at),
        action: r.action,
        target: r.target,
        detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
        ip: r.ip,
        email: r.email ?? null,
      })),
      total: Number(total.n),
    };
  }
}
