import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { SessionRecord, Store } from '../../src/store/store.js';

/** The control panel's people and sessions in the store (the users area), the same assertions on SQLite and PostgreSQL. */
describe(`users and sessions in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let accountId: number;
  let otherAccountId: number;
  const now = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    accountId = (await store.tenancy.createAccount('People', now)).id;
    otherAccountId = (await store.tenancy.createAccount('Others', now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  const session = (id: string, userId: number, at = now): SessionRecord => ({
    id,
    userId,
    csrfToken: `csrf-${id}`,
    createdAt: at,
    lastSeenAt: at,
    expiresAt: at + 7 * 86_400_000,
    ip: '192.0.2.1',
    userAgent: 'test',
  });

  it('creates a user with the email lower-cased, reads it back by id and by email in any case', async () => {
    const u = await store.users.create({ accountId, email: ' Ann@Example.COM ', role: 'admin', passwordHash: 'scrypt$h' }, now);
    expect(u).toEqual({
      id: (u as { id: number }).id,
      accountId,
      email: 'ann@example.com',
      role: 'admin',
      status: 'active',
      passwordHash: 'scrypt$h',
      createdAt: now,
      updatedAt: now,
      lastSignInAt: null,
    });
    if ('duplicate' in u) throw new Error('unexpected');
    expect(await store.users.get(u.id)).toEqual(u);
    expect(await store.users.findByEmail('ANN@example.com')).toEqual(u);
    expect(await store.users.findByEmail('nobody@example.com')).toBeUndefined();
    expect(await store.users.get(987_654)).toBeUndefined();
  });

  it('refuses an email taken in any account, in any case, and writes nothing', async () => {
    const before = await store.users.count();
    expect(await store.users.create({ accountId: otherAccountId, email: 'ANN@example.com', role: 'viewer', passwordHash: 'x' }, now)).toEqual({
      duplicate: true,
    });
    expect(await store.users.count()).toBe(before);
  });

  it("lists an account's users in creation order, or everyone's", async () => {
    const b = await store.users.create({ accountId, email: 'bob@example.com', role: 'viewer', passwordHash: 'x' }, now + 1);
    const c = await store.users.create({ accountId: otherAccountId, email: 'cy@example.com', role: 'member', passwordHash: 'x' }, now + 2);
    if ('duplicate' in b || 'duplicate' in c) throw new Error('unexpected');
    expect((await store.users.list(accountId)).map((u) => u.email)).toEqual(['ann@example.com', 'bob@example.com']);
    expect((await store.users.list(otherAccountId)).map((u) => u.email)).toEqual(['cy@example.com']);
    expect((await store.users.list(null)).map((u) => u.email)).toEqual(['ann@example.com', 'bob@example.com', 'cy@example.com']);
    expect(await store.users.count()).toBe(3);
  });

  it('updates only a user of the given account; a role change keeps sessions, a new password or disabling ends them', async () => {
    const bob = (await store.users.findByEmail('bob@example.com'))!;
    await store.users.createSession(session('s-bob-1', bob.id));
    await store.users.createSession(session('s-bob-2', bob.id));
    expect(await store.users.update(otherAccountId, bob.id, { role: 'admin' }, now + 5)).toBeUndefined();
    expect((await store.users.get(bob.id))!.role).toBe('viewer');
    const promoted = await store.users.update(accountId, bob.id, { role: 'member' }, now + 6);
    expect(promoted).toMatchObject({ role: 'member', updatedAt: now + 6, status: 'active' });
    expect(await store.users.countSessions(bob.id)).toBe(2);
    await store.users.update(accountId, bob.id, { passwordHash: 'scrypt$new' }, now + 7);
    expect((await store.users.get(bob.id))!.passwordHash).toBe('scrypt$new');
    expect(await store.users.countSessions(bob.id)).toBe(0);
    await store.users.createSession(session('s-bob-3', bob.id));
    expect(await store.users.update(accountId, bob.id, { status: 'disabled' }, now + 8)).toMatchObject({ status: 'disabled' });
    expect(await store.users.countSessions(bob.id)).toBe(0);
    expect(await store.users.update(accountId, 987_654, { role: 'admin' }, now)).toBeUndefined();
  });

  it('keeps sessions by id with their user and account status; touches, deletes and expires them', async () => {
    const ann = (await store.users.findByEmail('ann@example.com'))!;
    const s = session('a'.repeat(64), ann.id);
    await store.users.createSession(s);
    expect(await store.users.findSession(s.id)).toEqual({ session: s, user: ann, accountActive: true });
    expect(await store.users.findSession('b'.repeat(64))).toBeUndefined();
    await store.users.touchSession(s.id, now + 60_000);
    expect((await store.users.findSession(s.id))!.session.lastSeenAt).toBe(now + 60_000);
    await store.users.recordSignIn(ann.id, now + 61_000);
    expect((await store.users.get(ann.id))!.lastSignInAt).toBe(now + 61_000);

    // Expiry: one past its absolute end, one idle too long, one live.
    await store.users.createSession({ ...session('old', ann.id), expiresAt: now + 10 });
    await store.users.createSession({ ...session('idle', ann.id), lastSeenAt: now - 1000 });
    const deleted = await store.users.deleteExpiredSessions(now + 100, now - 500);
    expect(deleted).toBe(2);
    expect(await store.users.findSession('old')).toBeUndefined();
    expect(await store.users.findSession('idle')).toBeUndefined();
    expect(await store.users.findSession(s.id)).toBeDefined();

    expect(await store.users.deleteSession(s.id)).toBe(true);
    expect(await store.users.deleteSession(s.id)).toBe(false);
    expect(await store.users.findSession(s.id)).toBeUndefined();
  });

  it("says whether a user's account is active", async () => {
    expect(await store.users.accountActive(accountId)).toBe(true);
    expect(await store.users.accountActive(987_654)).toBe(false);
  });

  it('refuses a session for a user that does not exist (foreign key), writing nothing', async () => {
    await expect(store.users.createSession(session('orphan', 987_654))).rejects.toThrow();
    expect(await store.users.findSession('orphan')).toBeUndefined();
  });
});
