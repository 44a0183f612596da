/**
 * Signing people in to the control panel and recognising their sessions (docs/panel-auth.md).
 * A session is a random 32-byte cookie token; the store keeps only its SHA-256. It ends when idle
 * longer than the idle time, at its absolute expiry, when the user is disabled or gets a new
 * password, and at sign-out (the row is deleted). Failed sign-ins are throttled per client address
 * and per email.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthThrottle } from './auth-throttle.js';
import { decoyHash, verifyPassword } from './passwords.js';
import { normalizeEmail } from '../core/users.js';
import type { SessionRecord, Store, UserRecord } from '../store/store.js';

/** The session cookie's name (the API contract with the web app). */
export const SESSION_COOKIE = 'postline_session';
/** last_seen_at is written at most this often per session: one write a minute, not one per request. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;
/** Failed sign-ins from one client address within SIGN_IN_FAILURE_WINDOW_MS before it is answered 429 without checking. */
export const SIGN_IN_FAILURES_PER_IP = 20;
/** Failed sign-ins for one email within the window: guessing one person's password stays slow from many addresses. */
export const SIGN_IN_FAILURES_PER_EMAIL = 10;
export const SIGN_IN_FAILURE_WINDOW_MS = 15 * 60_000;

export const sessionIdOf = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface SessionSettings {
  /** A session unused this long ends (POSTLINE_SESSION_IDLE_MINUTES). */
  idleMs: number;
  /** A session ends this long after sign-in, however busy (POSTLINE_SESSION_MAX_HOURS). */
  absoluteMs: number;
}

export type SignInResult =
  | { ok: true; token: string; session: SessionRecord; user: UserRecord }
  /** `user`: the known user a wrong password was given for (audited); never told to the client. */
  | { ok: false; reason: 'invalid'; user: UserRecord | null }
  | { ok: false; reason: 'throttled' };

export interface LiveSession {
  session: SessionRecord;
  user: UserRecord;
}

export class Sessions {
  private readonly byIp = new AuthThrottle(SIGN_IN_FAILURES_PER_IP, SIGN_IN_FAILURE_WINDOW_MS);
  private readonly byEmail = new AuthThrottle(SIGN_IN_FAILURES_PER_EMAIL, SIGN_IN_FAILURE_WINDOW_MS);

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    readonly settings: SessionSettings,
  ) {
    if (!(settings.idleMs >= 1) || !(settings.absoluteMs >= 1)) throw new Error('Sessions needs idleMs >= 1 and absoluteMs >= 1');
  }

  /**
   * Checks the email and password; on success stores a new session and returns its token. An
   * unknown email, a wrong password and a disabled user answer alike (and take about as long).
   */
  async signIn(emailRaw: string, password: string, client: { ip: string; userAgent: string | null }): Promise<SignInResult> {
    const now = this.now();
    const email = normalizeEmail(emailRaw);
    if (this.byIp.isBlocked(client.ip, now) || this.byEmail.isBlocked(email, now)) return { ok: false, reason: 'throttled' };
    const user = await this.store.users.findByEmail(email);
    const matches = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !matches || user.status !== 'active' || !(await this.store.users.accountActive(user.accountId))) {
      this.byIp.recordFailure(client.ip, now);
      this.byEmail.recordFailure(email, now);
      return { ok: false, reason: 'invalid', user: user ?? null };
    }
    // Old rows of anyone go as people sign in: the table holds live sessions and a little more.
    await this.store.users.deleteExpiredSessions(now, now - this.settings.idleMs);
    const token = randomBytes(32).toString('base64url');
    const session: SessionRecord = {
      id: sessionIdOf(token),
      userId: user.id,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.settings.absoluteMs,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    };
    await this.store.users.createSession(session);
    await this.store.users.recordSignIn(user.id, now);
    return { ok: true, token, session, user: { ...user, lastSignInAt: now } };
  }

  /** The live session a cookie token names, renewing its last use (at most once a minute); null for anything else. */
  async resolve(token: string | null): Promise<LiveSession | null> {
    if (!token || token.length > 128) return null;
    const found = await this.store.users.findSession(sessionIdOf(token));
    if (!found) return null;
    const now = this.now();
    const { session, user } = found;
    if (now >= session.expiresAt || now - session.lastSeenAt >= this.settings.idleMs) {
      await this.store.users.deleteSession(session.id);
      return null;
    }
    if (user.status !== 'active' || !found.accountActive) return null;
    if (now - session.lastSeenAt >= SESSION_TOUCH_INTERVAL_MS) {
      await this.store.users.touchSession(session.id, now);
      session.lastSeenAt = now;
    }
    return { session, user };
  }

  async signOut(session: SessionRecord): Promise<void> {
    await this.store.users.deleteSession(session.id);
  }
}

/** The CSRF header's value matches the session's token (constant time). */
export function csrfMatches(session: SessionRecord, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || header.length === 0) return false;
  const a = Buffer.from(header);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie in a Cookie header; null when absent. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v === '' ? null : v;
  }
  return null;
}
