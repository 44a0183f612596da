import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { CustomDomainCache } from '../../src/custom-domains/cache.js';
import type { Store } from '../../src/store/store.js';

describe(`the in-memory custom bounce domains (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let cache: CustomDomainCache;
  let a: number;
  let b: number;
  const verifiedCheck = (at: number) => ({
    at,
    records: [{ type: 'CNAME' as const, name: 'x', expected: 'y', status: 'verified' as const, found: ['y'] }],
    verified: true,
  });

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', Date.now());
    a = (await store.tenancy.createServer({ accountId: account.id, name: 'A' }, Date.now())).id;
    b = (await store.tenancy.createServer({ accountId: account.id, name: 'B' }, Date.now())).id;
    cache = new CustomDomainCache(store, { refreshMs: 3_600_000 });
    await cache.start();
  });
  afterAll(async () => {
    cache?.stop();
    await store?.close();
    await db?.drop();
  });

  it("holds verified bounce domains of every server and each server's default; changed() reloads and tells listeners", async () => {
    expect([cache.bounceDomainOf(a), cache.isBounceDomain('bounces.a.example')]).toEqual([null, false]);
    const now = Date.now();
    await store.customDomains.create(
      { serverId: a, kind: 'bounce', domain: 'bounces.a.example', https: true, isDefault: true, check: verifiedCheck(now) },
      now,
    );
    await store.customDomains.create(
      { serverId: b, kind: 'bounce', domain: 'bounces.b.example', https: true, isDefault: false, check: verifiedCheck(now) },
      now,
    );
    await store.customDomains.create({ serverId: b, kind: 'bounce', domain: 'unverified.b.example', https: true, isDefault: false, check: null }, now);
    await store.customDomains.create(
      { serverId: b, kind: 'tracking', domain: 'click.b.example', https: true, isDefault: true, check: verifiedCheck(now) },
      now,
    );
    // Not reloaded yet: the cache answers from memory, never from the store per call.
    expect(cache.isBounceDomain('bounces.a.example')).toBe(false);
    const told: number[] = [];
    cache.onChange((id) => told.push(id));
    await cache.changed(a);
    expect(told).toEqual([a]);
    expect([cache.bounceDomainOf(a), cache.bounceDomainOf(b)]).toEqual(['bounces.a.example', null]);
    expect(['bounces.a.example', 'bounces.b.example', 'unverified.b.example', 'click.b.example', 'other.example'].map((d) => cache.isBounceDomain(d))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('reloads that overlap all see the latest state', async () => {
    const now = Date.now();
    const first = cache.refresh();
    await store.customDomains.create({ serverId: b, kind: 'bounce', domain: 'late.b.example', https: true, isDefault: false, check: verifiedCheck(now) }, now);
    const second = cache.refresh();
    await Promise.all([first, second]);
    expect(cache.isBounceDomain('late.b.example')).toBe(true);
  });
});
