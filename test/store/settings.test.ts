import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { DkimKeyRecord, NewServerDkimKey, Store } from '../../src/store/store.js';

/** Instance settings and the instance-wide DKIM keys (the settings area), the same assertions on SQLite and PostgreSQL. */
describe(`settings in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  const now = 1_700_000_000_000;
  const instanceKey = (domain: string, selector: string, algorithm: DkimKeyRecord['algorithm'] = 'rsa-sha256') => ({
    domain,
    selector,
    algorithm,
    privateKey: `-----PRIVATE ${domain} ${selector}-----`,
    publicKey: `PUBLIC ${domain} ${selector}`,
  });
  const serverKey = (selector: string): NewServerDkimKey => ({
    selector,
    algorithm: 'rsa-sha256',
    privateKey: `server private ${selector}`,
    publicKey: `server public ${selector}`,
    state: 'active',
  });

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('keeps each value verbatim under its own key; set replaces, an unknown key reads undefined', async () => {
    expect(await store.settings.get('nothing.here')).toBeUndefined();
    const json = JSON.stringify({ keys: ['a', 'b'], ü: 'ß ✓', long: 'x'.repeat(10_000) });
    await store.settings.set('a.json', json);
    await store.settings.set('b.empty', '');
    await store.settings.set('c.space', '  padded\n');
    expect(await store.settings.get('a.json')).toBe(json);
    expect(await store.settings.get('b.empty')).toBe('');
    expect(await store.settings.get('c.space')).toBe('  padded\n');
    await store.settings.set('a.json', 'replaced');
    expect(await store.settings.get('a.json')).toBe('replaced');
    // Keys are exact: neither case nor a prefix reaches another key.
    expect(await store.settings.get('A.JSON')).toBeUndefined();
    expect(await store.settings.get('a.')).toBeUndefined();
    expect(await store.settings.get('c.space')).toBe('  padded\n');
  });

  it('setIfAbsent stores only into an absent key and always answers the stored value', async () => {
    expect(await store.settings.setIfAbsent('once', 'first')).toBe('first');
    expect(await store.settings.setIfAbsent('once', 'second')).toBe('first');
    expect(await store.settings.get('once')).toBe('first');
    // set still replaces it, and setIfAbsent then answers the replacement.
    await store.settings.set('once', 'replaced');
    expect(await store.settings.setIfAbsent('once', 'third')).toBe('replaced');
    expect(await store.settings.get('once')).toBe('replaced');
  });

  it('setIfAbsent raced by many writers (on PostgreSQL from separate connections): every one answers the one value stored', async () => {
    const pg = TEST_STORE_KIND === 'postgres';
    const others = pg ? await Promise.all([db.open(), db.open()]) : [];
    const stores = [store, ...others];
    try {
      for (let round = 0; round < 5; round++) {
        const k = `race.${round}`;
        const offered = Array.from({ length: 24 }, (_, i) => `value-${round}-${i}`);
        const answers = await Promise.all(offered.map((v, i) => stores[i % stores.length]!.settings.setIfAbsent(k, v)));
        const stored = await store.settings.get(k);
        expect(offered).toContain(stored);
        expect(answers).toEqual(offered.map(() => stored));
      }
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
  });

  it('adds instance DKIM keys and lists the live ones in creation order, for one domain or all', async () => {
    const a1 = await store.settings.addDkimKey(instanceKey('a.example', 's1'), now);
    const b1 = await store.settings.addDkimKey(instanceKey('b.example', 's1', 'ed25519-sha256'), now + 1);
    const a2 = await store.settings.addDkimKey(instanceKey('a.example', 's2', 'ed25519-sha256'), now + 2);
    expect(a1).toEqual({ id: a1.id, ...instanceKey('a.example', 's1'), createdAt: now, retiredAt: null });
    expect(b1).toMatchObject({ domain: 'b.example', algorithm: 'ed25519-sha256', createdAt: now + 1, retiredAt: null });
    expect(await store.settings.listDkimKeys('a.example')).toEqual([a1, a2]);
    expect(await store.settings.listDkimKeys('b.example')).toEqual([b1]);
    expect(await store.settings.listDkimKeys()).toEqual([a1, b1, a2]);
    expect(await store.settings.listDkimKeys('c.example')).toEqual([]);
    // The domain is matched exactly, not as a suffix.
    expect(await store.settings.listDkimKeys('example')).toEqual([]);
  });

  it('refuses a second instance key with a taken domain and selector, keeping the first', async () => {
    const first = await store.settings.addDkimKey(instanceKey('dup.example', 'sel'), now);
    await expect(store.settings.addDkimKey({ ...instanceKey('dup.example', 'sel'), publicKey: 'OTHER' }, now + 1)).rejects.toThrow();
    expect(await store.settings.listDkimKeys('dup.example')).toEqual([first]);
    // The same selector on another domain is another key.
    const other = await store.settings.addDkimKey(instanceKey('dup2.example', 'sel'), now + 2);
    expect(await store.settings.listDkimKeys('dup2.example')).toEqual([other]);
  });

  it("never lists a server's sending-domain keys as instance keys, even for the same domain and selector", async () => {
    const account = await store.tenancy.createAccount('A', now);
    const server = await store.tenancy.createServer({ accountId: account.id, name: 'S' }, now);
    const before = await store.settings.listDkimKeys();
    await store.sendingDomains.create({ serverId: server.id, domain: 'shared.example', keys: [serverKey('s1')] }, now);
    await store.sendingDomains.addKeys(server.id, 'shared.example', [serverKey('s2')], now + 1);
    expect(await store.settings.listDkimKeys('shared.example')).toEqual([]);
    expect(await store.settings.listDkimKeys()).toEqual(before);
    // An instance key may share the server's domain and selector: the server's key does not hold the selector.
    const inst = await store.settings.addDkimKey(instanceKey('shared.example', 's1'), now + 2);
    expect(await store.settings.listDkimKeys('shared.example')).toEqual([inst]);
    // ...and the server still signs with its own keys only.
    expect((await store.sendingDomains.signingKeys(server.id, 'shared.example')).map((k) => [k.selector, k.publicKey])).toEqual([
      ['s1', 'server public s1'],
      ['s2', 'server public s2'],
    ]);
  });
});
