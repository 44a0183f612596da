import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store } from '../../src/store/store.js';

/** The control panel's audit log in the store (the audit area), the same assertions on SQLite and PostgreSQL. */
describe(`audit log in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let accountId: number;
  let otherAccountId: number;
  let userId: number;
  const now = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    accountId = (await store.tenancy.createAccount('Audited', now)).id;
    otherAccountId = (await store.tenancy.createAccount('Elsewhere', now)).id;
    const u = await store.users.create({ accountId, email: 'ann@example.com', role: 'admin', passwordHash: 'x' }, now);
    if ('duplicate' in u) throw new Error('unexpected');
    userId = u.id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it("appends entries and lists an account's newest first, with the user's email, paged, with the total", async () => {
    const first = await store.audit.append({
      accountId,
      userId,
      at: now,
      action: 'session.signed_in',
      target: `user:${userId}`,
      detail: null,
      ip: '192.0.2.1',
    });
    expect(first).toMatchObject({ accountId, userId, email: 'ann@example.com', action: 'session.signed_in', detail: null });
    for (let i = 1; i <= 4; i++) {
      await store.audit.append({
        accountId,
        userId,
        at: now + i,
        action: 'request',
        target: 'POST /api/v2/servers',
        detail: { status: 201, n: i, nested: { ok: true } },
        ip: null,
      });
    }
    await store.audit.append({ accountId: otherAccountId, userId: null, at: now, action: 'request', target: null, detail: null, ip: null });
    await store.audit.append({ accountId, userId: null, at: now + 9, action: 'user.created', target: 'user:99', detail: { by: 'key' }, ip: null });

    const page = await store.audit.list(accountId, { limit: 3, offset: 0 });
    expect(page.total).toBe(6);
    expect(page.rows.map((r) => r.action)).toEqual(['user.created', 'request', 'request']);
    expect(page.rows[0]).toMatchObject({ userId: null, email: null, target: 'user:99', detail: { by: 'key' } });
    expect(page.rows[1]).toEqual({
      id: page.rows[1]!.id,
      accountId,
      userId,
      email: 'ann@example.com',
      at: now + 4,
      action: 'request',
      target: 'POST /api/v2/servers',
      detail: { status: 201, n: 4, nested: { ok: true } },
      ip: null,
    });
    const rest = await store.audit.list(accountId, { limit: 10, offset: 3 });
    expect(rest.rows.map((r) => r.at)).toEqual([now + 2, now + 1, now]);
    expect(rest.rows[2]!.id).toBe(first.id);
    expect((await store.audit.list(otherAccountId, { limit: 10, offset: 0 })).total).toBe(1);
  });
});
