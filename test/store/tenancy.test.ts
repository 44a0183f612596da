import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { ApiKeyOwner, ApiKeyRecord, Server, Store } from '../../src/store/store.js';
import { generateApiKey, type ApiKeyScope } from '../../src/core/api-key.js';

/** Accounts, servers and API keys in the store (the tenancy area), the same assertions on SQLite and PostgreSQL. */
describe(`tenancy in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  const now = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** A fresh account with one server, so each test owns its tenants. */
  async function tenant(name: string, at = now): Promise<{ accountId: number; server: Server }> {
    const account = await store.tenancy.createAccount(name, at);
    const server = await store.tenancy.createServer({ accountId: account.id, name: `${name} server` }, at);
    return { accountId: account.id, server };
  }

  /** Stores a key for a server (or, with serverId null, an account key) and returns it with the hash it was stored with. */
  async function key(serverId: number | null, name: string, at = now, accountId?: number) {
    const g = generateApiKey();
    const scope: ApiKeyScope = serverId === null ? 'account' : 'injection,management';
    const rec = await store.tenancy.createApiKey({ serverId, accountId, scope, name, publicId: g.publicId, secretHash: g.secretHash }, at);
    return { rec, secretHash: g.secretHash };
  }

  it('numbers servers from 10001 in creation order, with every switch off unless asked for', async () => {
    const account = await store.tenancy.createAccount('First', now);
    expect(account).toEqual({ id: account.id, name: 'First', status: 'active', createdAt: now });
    const plain = await store.tenancy.createServer({ accountId: account.id, name: 'Plain' }, now + 1);
    const custom = await store.tenancy.createServer(
      { accountId: account.id, name: 'Custom', sandbox: true, requireVerifiedDomain: true, tracking: { opens: true, unsubscribes: true } },
      now + 2,
    );
    expect([plain.id, custom.id]).toEqual([10_001, 10_002]);
    expect(plain).toEqual({
      id: 10_001,
      accountId: account.id,
      name: 'Plain',
      status: 'active',
      sandbox: false,
      createdAt: now + 1,
      tracking: { opens: false, clicks: false, unsubscribes: false, domain: null },
      requireVerifiedDomain: false,
    });
    expect(custom).toMatchObject({ sandbox: true, requireVerifiedDomain: true, tracking: { opens: true, clicks: false, unsubscribes: true, domain: null } });
    // What getServer and listServers read back is what createServer returned.
    expect(await store.tenancy.getServer(custom.id)).toEqual(custom);
    expect((await store.tenancy.listServers()).filter((s) => s.accountId === account.id)).toEqual([plain, custom]);
    expect(await store.tenancy.getServer(99_999)).toBeUndefined();
    expect((await store.tenancy.listAccounts()).find((a) => a.id === account.id)).toEqual(account);
  });

  it('refuses a server of an unknown account and stores nothing of it', async () => {
    const before = await store.tenancy.listServers();
    await expect(store.tenancy.createServer({ accountId: 987_654, name: 'Orphan' }, now)).rejects.toThrow();
    expect(await store.tenancy.listServers()).toEqual(before);
  });

  it('lists accounts in id order', async () => {
    const x = await store.tenancy.createAccount('Xavier', now + 5);
    const y = await store.tenancy.createAccount('Yolanda', now + 1);
    const ids = (await store.tenancy.listAccounts()).map((a) => a.id);
    expect(ids).toEqual([...ids].sort((p, q) => p - q));
    expect(ids.indexOf(x.id)).toBeLessThan(ids.indexOf(y.id));
  });

  it('patches only the fields given: tracking switches one by one, the tracking domain, sandbox and the verified-domain rule', async () => {
    const { server } = await tenant('Patch');
    const { server: neighbour } = await tenant('Neighbour');
    const p1 = await store.tenancy.updateServer(server.id, { tracking: { clicks: true } });
    expect(p1).toEqual({ ...server, tracking: { ...server.tracking, clicks: true } });
    const p2 = await store.tenancy.updateServer(server.id, { tracking: { opens: true, domain: 'https://track.example.com' }, sandbox: true });
    expect(p2).toEqual({ ...server, sandbox: true, tracking: { opens: true, clicks: true, unsubscribes: false, domain: 'https://track.example.com' } });
    const p3 = await store.tenancy.updateServer(server.id, { requireVerifiedDomain: true, name: 'Renamed', status: 'disabled', tracking: { domain: null } });
    expect(p3).toEqual({ ...p2, requireVerifiedDomain: true, name: 'Renamed', status: 'disabled', tracking: { ...p2!.tracking, domain: null } });
    // An empty patch changes nothing and still answers the server.
    expect(await store.tenancy.updateServer(server.id, {})).toEqual(p3);
    expect(await store.tenancy.updateServer(server.id, { tracking: {} })).toEqual(p3);
    expect(await store.tenancy.getServer(server.id)).toEqual(p3);
    expect(await store.tenancy.getServer(neighbour.id)).toEqual(neighbour);
  });

  it('answers undefined for a patch of an unknown server, creating nothing', async () => {
    const before = await store.tenancy.listServers();
    expect(await store.tenancy.updateServer(99_999, { name: 'Ghost', sandbox: true })).toBeUndefined();
    expect(await store.tenancy.updateServer(99_999, {})).toBeUndefined();
    expect(await store.tenancy.listServers()).toEqual(before);
  });

  it("pages an account's servers by id, name or creation time in both directions, ties by id, with the total", async () => {
    const account = await store.tenancy.createAccount('Paging', now);
    const other = await store.tenancy.createAccount('Other', now);
    // Created in this order (so ids ascend charlie, alpha, bravo, delta); alpha and bravo share a creation time.
    for (const [name, at] of [
      ['charlie', now + 30],
      ['alpha', now + 10],
      ['bravo', now + 10],
      ['delta', now + 20],
    ] as const) {
      await store.tenancy.createServer({ accountId: account.id, name }, at);
    }
    await store.tenancy.createServer({ accountId: other.id, name: 'aardvark' }, now);
    const names = async (sortField: 'serverId' | 'name' | 'createdOn', direction: 'asc' | 'desc', limit = 10, offset = 0) => {
      const page = await store.tenancy.listServersOfAccount(account.id, { sortField, direction, limit, offset });
      return { names: page.rows.map((s) => s.name), total: page.total };
    };
    expect(await names('serverId', 'asc')).toEqual({ names: ['charlie', 'alpha', 'bravo', 'delta'], total: 4 });
    expect(await names('serverId', 'desc')).toEqual({ names: ['delta', 'bravo', 'alpha', 'charlie'], total: 4 });
    expect((await names('name', 'asc')).names).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
    expect((await names('name', 'desc')).names).toEqual(['delta', 'charlie', 'bravo', 'alpha']);
    expect((await names('createdOn', 'asc')).names).toEqual(['alpha', 'bravo', 'delta', 'charlie']);
    expect((await names('createdOn', 'desc')).names).toEqual(['charlie', 'delta', 'bravo', 'alpha']);
    expect(await names('createdOn', 'asc', 2, 1)).toEqual({ names: ['bravo', 'delta'], total: 4 });
    expect(await names('name', 'asc', 10, 4)).toEqual({ names: [], total: 4 });
    const rows = (await store.tenancy.listServersOfAccount(account.id, { sortField: 'serverId', direction: 'asc', limit: 10, offset: 0 })).rows;
    expect(rows.every((s) => s.accountId === account.id)).toBe(true);
    expect(rows[0]).toEqual(await store.tenancy.getServer(rows[0]!.id));
    expect(await store.tenancy.listServersOfAccount(987_654, { sortField: 'name', direction: 'asc', limit: 10, offset: 0 })).toEqual({ rows: [], total: 0 });
  });

  it("stores a server key under the server's account whatever accountId the caller gave, and an account key under its account", async () => {
    const { accountId, server } = await tenant('Keys');
    const elsewhere = await store.tenancy.createAccount('Elsewhere', now);
    const { rec: serverKey } = await key(server.id, 'server key', now, elsewhere.id);
    expect(serverKey).toEqual({
      id: serverKey.id,
      publicId: serverKey.publicId,
      serverId: server.id,
      scope: 'injection,management',
      name: 'server key',
      createdAt: now,
      revokedAt: null,
      accountId,
    });
    const { rec: accountKey } = await key(null, 'account key', now + 1, accountId);
    expect(accountKey).toMatchObject({ serverId: null, scope: 'account', accountId, createdAt: now + 1, revokedAt: null });
    expect((await store.tenancy.listApiKeys(server.id)).map((k) => k.publicId)).toEqual([serverKey.publicId]);
    const all = (await store.tenancy.listApiKeys()).map((k) => k.publicId);
    expect(all).toContain(serverKey.publicId);
    expect(all).toContain(accountKey.publicId);
  });

  it('refuses a key of an unknown server, an account key without its account, a scope that does not fit its owner and a taken public id, storing none', async () => {
    const { accountId, server } = await tenant('Refusals');
    const taken = (await key(server.id, 'first')).rec;
    const before = await store.tenancy.listApiKeys();
    const g = () => generateApiKey();
    const attempt = (input: { serverId: number | null; accountId?: number; scope: ApiKeyScope; publicId?: string }) => {
      const k = g();
      return store.tenancy.createApiKey({ name: 'bad', publicId: k.publicId, secretHash: k.secretHash, ...input }, now);
    };
    await expect(attempt({ serverId: 987_654, scope: 'injection' })).rejects.toThrow('no server 987654');
    await expect(attempt({ serverId: null, scope: 'account' })).rejects.toThrow('an account key needs its accountId');
    await expect(attempt({ serverId: null, accountId: 987_654, scope: 'account' })).rejects.toThrow();
    // Only account keys go without a server, and an account key never has one.
    await expect(attempt({ serverId: null, accountId, scope: 'injection' })).rejects.toThrow();
    await expect(attempt({ serverId: server.id, scope: 'account' })).rejects.toThrow();
    await expect(attempt({ serverId: server.id, scope: 'management', publicId: taken.publicId })).rejects.toThrow();
    expect(await store.tenancy.listApiKeys()).toEqual(before);
    expect(await store.tenancy.findApiKeyForAuth(taken.publicId)).toMatchObject({ name: 'first', scope: 'injection,management' });
  });

  it('finds a key for authentication with its secret hash and its server and account status', async () => {
    const { accountId, server } = await tenant('Auth');
    const { rec: sk, secretHash } = await key(server.id, 'sk');
    const { rec: ak, secretHash: accountHash } = await key(null, 'ak', now, accountId);
    expect(await store.tenancy.findApiKeyForAuth(sk.publicId)).toEqual({ ...sk, secretHash, serverStatus: 'active', accountStatus: 'active' });
    expect(await store.tenancy.findApiKeyForAuth(ak.publicId)).toEqual({ ...ak, secretHash: accountHash, serverStatus: null, accountStatus: 'active' });
    await store.tenancy.updateServer(server.id, { status: 'disabled' });
    expect(await store.tenancy.findApiKeyForAuth(sk.publicId)).toMatchObject({ serverStatus: 'disabled', accountStatus: 'active', revokedAt: null });
    // The account key does not depend on any one server's status.
    expect((await store.tenancy.findApiKeyForAuth(ak.publicId))!.serverStatus).toBeNull();
    expect(await store.tenancy.findApiKeyForAuth(generateApiKey().publicId)).toBeUndefined();
  });

  it('revokes a key once: the first time counts, a second revoke changes nothing, an unknown key is not revoked', async () => {
    const { server } = await tenant('Revoke');
    const { rec } = await key(server.id, 'to revoke');
    const { rec: keep } = await key(server.id, 'kept');
    expect(await store.tenancy.revokeApiKey(rec.publicId, now + 10)).toBe(true);
    expect(await store.tenancy.revokeApiKey(rec.publicId, now + 20)).toBe(false);
    expect(await store.tenancy.revokeApiKey(generateApiKey().publicId, now + 30)).toBe(false);
    expect((await store.tenancy.findApiKeyForAuth(rec.publicId))!.revokedAt).toBe(now + 10);
    expect((await store.tenancy.findApiKeyForAuth(keep.publicId))!.revokedAt).toBeNull();
  });

  it("pages an owner's keys, revoked ones too, by creation time or name with ties by id, and only that owner's", async () => {
    const { accountId, server } = await tenant('Owner');
    const sibling = await store.tenancy.createServer({ accountId, name: 'Sibling' }, now);
    // Ids ascend k-b, k-a, k-c; k-b and k-c share a creation time.
    const kb = (await key(server.id, 'k-b', now + 1)).rec;
    const ka = (await key(server.id, 'k-a', now + 2)).rec;
    const kc = (await key(server.id, 'k-c', now + 1)).rec;
    await store.tenancy.revokeApiKey(ka.publicId, now + 3);
    const siblingKey = (await key(sibling.id, 'k-sibling')).rec;
    const acct1 = (await key(null, 'acct-1', now, accountId)).rec;
    const acct2 = (await key(null, 'acct-2', now, accountId)).rec;
    const foreign = await tenant('Foreign');
    await key(foreign.server.id, 'k-foreign');
    await key(null, 'acct-foreign', now, foreign.accountId);

    const page = (owner: ApiKeyOwner, sortField: 'createdOn' | 'name', direction: 'asc' | 'desc', limit = 10, offset = 0) =>
      store.tenancy.listApiKeysOf(owner, { sortField, direction, limit, offset });
    const names = async (...args: Parameters<typeof page>) => (await page(...args)).rows.map((k) => k.name);
    const own = { serverId: server.id };
    expect(await names(own, 'createdOn', 'asc')).toEqual(['k-b', 'k-c', 'k-a']);
    expect(await names(own, 'createdOn', 'desc')).toEqual(['k-a', 'k-c', 'k-b']);
    expect(await names(own, 'name', 'asc')).toEqual(['k-a', 'k-b', 'k-c']);
    expect(await names(own, 'name', 'desc')).toEqual(['k-c', 'k-b', 'k-a']);
    const second = await page(own, 'name', 'asc', 1, 1);
    expect(second).toEqual({ rows: [kb], total: 3 });
    expect((await page(own, 'name', 'asc')).rows.find((k) => k.publicId === ka.publicId)!.revokedAt).toBe(now + 3);
    expect((await page(own, 'name', 'asc')).rows.find((k) => k.publicId === kc.publicId)).toEqual(kc);
    // The account owner sees its account keys only, not its servers' keys nor another account's.
    expect(await page({ accountId }, 'name', 'asc')).toEqual({ rows: [acct1, acct2], total: 2 });
    expect(await page({ serverId: sibling.id }, 'name', 'asc')).toEqual({ rows: [siblingKey], total: 1 });
    expect(await page({ serverId: 987_654 }, 'name', 'asc')).toEqual({ rows: [], total: 0 });
    expect(await page({ accountId: 987_654 }, 'name', 'asc')).toEqual({ rows: [], total: 0 });
  });

  it("never finds, revokes or rotates a key for anyone but its owner: another server, the server's account, another account", async () => {
    const { accountId, server } = await tenant('Mine');
    const sibling = await store.tenancy.createServer({ accountId, name: 'Mine sibling' }, now);
    const foreign = await tenant('Theirs');
    const { rec: serverKey, secretHash: serverHash } = await key(server.id, 'server key');
    const { rec: accountKey, secretHash: accountHash } = await key(null, 'account key', now, accountId);
    const strangers: [ApiKeyRecord, ApiKeyOwner[]][] = [
      [serverKey, [{ serverId: sibling.id }, { serverId: foreign.server.id }, { accountId }, { accountId: foreign.accountId }]],
      [accountKey, [{ accountId: foreign.accountId }, { serverId: server.id }, { serverId: foreign.server.id }]],
    ];
    const fresh = generateApiKey();
    for (const [k, owners] of strangers) {
      for (const owner of owners) {
        expect(await store.tenancy.getApiKeyOf(owner, k.publicId)).toBeUndefined();
        expect(await store.tenancy.revokeApiKeyOf(owner, k.publicId, now + 50)).toBeUndefined();
        expect(await store.tenancy.rotateApiKeyOf(owner, k.publicId, fresh.secretHash)).toBeUndefined();
        expect(
          (await store.tenancy.listApiKeysOf(owner, { sortField: 'name', direction: 'asc', limit: 100, offset: 0 })).rows.map((r) => r.publicId),
        ).not.toContain(k.publicId);
      }
    }
    expect(await store.tenancy.findApiKeyForAuth(serverKey.publicId)).toMatchObject({ revokedAt: null, secretHash: serverHash });
    expect(await store.tenancy.findApiKeyForAuth(accountKey.publicId)).toMatchObject({ revokedAt: null, secretHash: accountHash });
    // The owners themselves do find them.
    expect(await store.tenancy.getApiKeyOf({ serverId: server.id }, serverKey.publicId)).toEqual(serverKey);
    expect(await store.tenancy.getApiKeyOf({ accountId }, accountKey.publicId)).toEqual(accountKey);
  });

  it("revokes an owner's key once and answers it revoked; rotates only a live key, keeping its id, name and scope", async () => {
    const { accountId, server } = await tenant('Lifecycle');
    for (const [owner, made] of [
      [{ serverId: server.id }, await key(server.id, 'server key')],
      [{ accountId }, await key(null, 'account key', now, accountId)],
    ] as const) {
      const k = made.rec;
      const next = generateApiKey();
      const rotated = await store.tenancy.rotateApiKeyOf(owner, k.publicId, next.secretHash);
      expect(rotated).toEqual(k);
      expect((await store.tenancy.findApiKeyForAuth(k.publicId))!.secretHash).toBe(next.secretHash);

      expect(await store.tenancy.revokeApiKeyOf(owner, k.publicId, now + 100)).toEqual({ ...k, revokedAt: now + 100 });
      // Revoking again answers the key as it was revoked the first time.
      expect(await store.tenancy.revokeApiKeyOf(owner, k.publicId, now + 200)).toEqual({ ...k, revokedAt: now + 100 });
      expect(await store.tenancy.rotateApiKeyOf(owner, k.publicId, generateApiKey().secretHash)).toBeUndefined();
      expect(await store.tenancy.findApiKeyForAuth(k.publicId)).toMatchObject({ secretHash: next.secretHash, revokedAt: now + 100 });
      expect(await store.tenancy.getApiKeyOf(owner, k.publicId)).toEqual({ ...k, revokedAt: now + 100 });
      expect(await store.tenancy.revokeApiKeyOf(owner, generateApiKey().publicId, now)).toBeUndefined();
    }
  });
});
