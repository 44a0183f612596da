/**
 * The control panel's people and their sessions (migration 25): users of an account, with a role
 * and a password hash, and the sessions their browsers hold. A session row is keyed by the SHA-256
 * of its cookie token, so the table signs no one in. Written once with Kysely for both dialects.
 */
import type { Kysely, Selectable } from 'kysely';
import type { UserRole, UserStatus } from '../core/users.js';
import type { Database, SessionsTable, UsersTable } from './schema.js';

export interface UserRecord {
  id: number;
  accountId: number;
  /** Lower-cased. */
  email: string;
  role: UserRole;
  status: UserStatus;
  /** scrypt$N$r$p$salt$hash (accept/passwords.ts). */
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
  lastSignInAt: number | null;
}

export interface NewUser {
  accountId: number;
  email: string;
  role: UserRole;
  passwordHash: string;
}

/** What an update may change; a password or a status change ends the user's sessions in the same transaction. */
export interface UserPatch {
  role?: UserRole;
  status?: UserStatus;
  passwordHash?: string;
}

export interface SessionRecord {
  /** SHA-256 hex of the cookie token. */
  id: string;
  userId: number;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute expiry; the idle expiry is last_seen_at plus the configured idle time. */
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

export interface UsersRepository {
  /** A new user; `duplicate` when the email is taken (by any account), and nothing is written. */
  create(input: NewUser, now: number): Promise<UserRecord | { duplicate: true }>;
  get(id: number): Promise<UserRecord | undefined>;
  /** By email, lower-cased here. */
  findByEmail(email: string): Promise<UserRecord | undefined>;
  /** An account's users in creation order; null: every account's. */
  list(accountId: number | null): Promise<UserRecord[]>;
  /** How many users exist (the start-up hint when there are none). */
  count(): Promise<number>;
  /**
   * Changes a user of the account (undefined: no such user in that account, nothing written). A
   * new password or status ends every session of the user in the same transaction. With
   * `keepAnActiveAdmin`, a change that would leave the account with no active admin throws
   * LastActiveAdminError and writes nothing (the API's rule; the operator's CLI may still do it).
   */
  update(accountId: number, id: number, patch: UserPatch, now: number, opts?: { keepAnActiveAdmin?: boolean }): Promise<UserRecord | undefined>;
  recordSignIn(userId: number, now: number): Promise<void>;

  createSession(session: SessionRecord): Promise<void>;
  /** The session, its user and whether the user's account is active, expired or not (the caller decides). */
  findSession(id: string): Promise<{ session: SessionRecord; user: UserRecord; accountActive: boolean } | undefined>;
  /** Whether the account exists and is active (a disabled account's people cannot sign in). */
  accountActive(accountId: number): Promise<boolean>;
  touchSession(id: string, lastSeenAt: number): Promise<void>;
  /** true when a row was deleted. */
  deleteSession(id: string): Promise<boolean>;
  /** Deletes sessions past their absolute expiry or idle since before `idleBefore`; returns how many. */
  deleteExpiredSessions(now: number, idleBefore: number): Promise<number>;
  /** A user's live session count (tests, the CLI). */
  countSessions(userId: number): Promise<number>;
}

export const toUser = (r: Selectable<UsersTable>): UserRecord => ({
  id: Number(r.id),
  accountId: Number(r.account_id),
  email: r.email,
  role: r.role as UserRole,
  status: r.status as UserStatus,
  passwordHash: r.password_hash,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  lastSignInAt: r.last_sign_in_at === null ? null : Number(r.last_sign_in_at),
});

const toSession = (r: Selectable<SessionsTable>): SessionRecord => ({
  id: r.id,
  userId: Number(r.user_id),
  csrfToken: r.csrf_token,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
  ip: r.ip,
  userAgent: r.user_agent,
});

/** A unique-constraint violation on either dialect. */
const isUniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e.message ?? '');
};

/** Thrown by update with `keepAnActiveAdmin` when the change would leave the account with no active admin; nothing was written. */
export class LastActiveAdminError extends Error {
  constructor(readonly email: string) {
    super(`${email} is the account's last active admin`);
  }
}

/** Users and sessions for both dialects. */
export class SqlUsersRepository implements UsersRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async create(input: NewUser, now: number): Promise<UserRecord | { duplicate: true }> {
    try {
      const row = await this.db
        .insertInto('users')
        .values({
          account_id: input.accountId,
          email: input.email.trim().toLowerCase(),
          role: input.role,
          password_hash: input.passwordHash,
          status: 'active',
          created_at: now,
          updated_at: now,
          last_sign_in_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) return { duplicate: true };
      throw err;
    }
  }

  async get(id: number): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUser(r);
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
    return r && toUser(r);
  }

  async list(accountId: number | null): Promise<UserRecord[]> {
    let q = this.db.selectFrom('users').selectAll().orderBy('id');
    if (accountId !== null) q = q.where('account_id', '=', accountId);
    return (await q.execute()).map(toUser);
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async update(accountId: number, id: number, patch: UserPatch, now: number, opts: { keepAnActiveAdmin?: boolean } = {}): Promise<UserRecord | undefined> {
    const demotes = (patch.role !== undefined && patch.role !== 'admin') || patch.status === 'disabled';
    const guard = opts.keepAnActiveAdmin === true && demotes;
    return this.db.transaction().execute(async (tx) => {
      // Two admins demoting each other at once must not both pass the count below: the account's
      // row is locked first (a no-op update), so guarded changes to one account's people take turns.
      if (guard)
        await tx
          .updateTable('accounts')
          .set((eb) => ({ status: eb.ref('status') }))
          .where('id', '=', accountId)
          .execute();
      const was = guard
        ? await tx.selectFrom('users').select(['role', 'status']).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst()
        : undefined;
      const row = await tx
        .updateTable('users')
        .set({
          updated_at: now,
          ...(patch.role === undefined ? {} : { role: patch.role }),
          ...(patch.status === undefined ? {} : { status: patch.status }),
          ...(patch.passwordHash === undefined ? {} : { password_hash: patch.passwordHash }),
        })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      // Only taking away the last active admin is refused: an account that had none may stay so.
      if (was?.role === 'admin' && was.status === 'active') {
        const left = await tx
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', accountId)
          .where('role', '=', 'admin')
          .where('status', '=', 'active')
          .executeTakeFirstOrThrow();
        if (Number(left.n) === 0) throw new LastActiveAdminError(row.email);
      }
      // A new password or a disabled user: every browser signed in as them is signed out now.
      if (patch.passwordHash !== undefined || patch.status === 'disabled') await tx.deleteFrom('sessions').where('user_id', '=', id).execute();
      return toUser(row);
    });
  }

  async recordSignIn(userId: number, now: number): Promise<void> {
    await this.db.updateTable('users').set({ last_sign_in_at: now }).where('id', '=', userId).execute();
  }

  async createSession(s: SessionRecord): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id: s.id,
        user_id: s.userId,
        csrf_token: s.csrfToken,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        expires_at: s.expiresAt,
        ip: s.ip,
        user_agent: s.userAgent,
      })
      .execute();
  }

  async findSession(id: string): Promise<{ session: SessionRecord; user: UserRecord; accountActive: boolean } | undefined> {
    const s = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!s) return undefined;
    const u = await this.db.selectFrom('users').selectAll().where('id', '=', s.user_id).executeTakeFirst();
    if (!u) return undefined;
    return { session: toSession(s), user: toUser(u), accountActive: await this.accountActive(Number(u.account_id)) };
  }

  async accountActive(accountId: number): Promise<boolean> {
    const a = await this.db.selectFrom('accounts').select('status').where('id', '=', accountId).executeTakeFirst();
    return a?.status === 'active';
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', id).execute();
  }

  async deleteSession(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    const r = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', idleBefore)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async countSessions(userId: number): Promise<number> {
    const r = await this.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
