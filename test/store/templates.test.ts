import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store, TemplateContent } from '../../src/store/store.js';

/** Stored templates in the store, the same assertions on SQLite and PostgreSQL. */
describe(`stored templates in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let a: number;
  let b: number;
  const now = 1_700_000_000_000;
  const content = (name: string, textBody: string): TemplateContent => ({ name, subject: null, htmlBody: null, textBody, ampBody: null });

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', now);
    a = (await store.tenancy.createServer({ accountId: account.id, name: 'A' }, now)).id;
    b = (await store.tenancy.createServer({ accountId: account.id, name: 'B' }, now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('concurrent updates each save their own version, numbered one after the other', async () => {
    const t = await store.templates.create(a, content('T', 'v1'), now);
    const updates = await Promise.all(Array.from({ length: 8 }, (_, i) => store.templates.update(a, t.id, content('T', `v${i + 2}`), now + i + 1)));
    expect(updates.map((u) => u!.version).sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const versions = (await store.templates.versions(a, t.id))!;
    expect(versions.map((v) => v.version)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect((await store.templates.get(a, t.id))!.version).toBe(9);
    expect((await store.templates.get(a, t.id, 1))!.textBody).toBe('v1');
  });

  it("every call is scoped to its server: another server's id reads, updates and deletes nothing", async () => {
    const t = await store.templates.create(b, content('B only', 'b'), now);
    expect(await store.templates.get(a, t.id)).toBeUndefined();
    expect(await store.templates.versions(a, t.id)).toBeUndefined();
    expect(await store.templates.update(a, t.id, content('x', 'x'), now)).toBeUndefined();
    expect(await store.templates.delete(a, t.id)).toBe(false);
    expect(await store.templates.get(b, t.id)).toMatchObject({ name: 'B only', version: 1, currentVersion: 1, textBody: 'b' });
    expect((await store.templates.list(a, { limit: 100, offset: 0, direction: 'asc', sort: 'createdAt' })).rows.map((x) => x.name)).not.toContain('B only');
  });

  it('delete removes the template and all its versions', async () => {
    const t = await store.templates.create(a, content('Gone', 'g1'), now);
    await store.templates.update(a, t.id, content('Gone', 'g2'), now);
    expect(await store.templates.delete(a, t.id)).toBe(true);
    expect(await store.templates.get(a, t.id, 1)).toBeUndefined();
    expect(await store.templates.versions(a, t.id)).toBeUndefined();
    expect(await store.templates.delete(a, t.id)).toBe(false);
  });
});
