import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createAccountKey, createKey, createTenant, execSql, v2, type V2Error } from '../helpers/api-v2.js';
import { createTestDb } from '../helpers/stores.js';
import { generateApiKey } from '../../src/core/api-key.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { countRows, queryRows } from '../helpers/webhooks.js';

interface KeyWire {
  keyId: string;
  name: string;
  scope: string;
  serverId: number | null;
  accountId: number;
  status: string;
  createdOn: string;
  revokedOn: string | null;
  apiKey?: string;
}
type One = { data: KeyWire } & V2Error;
type Page = { data: KeyWire[]; total: number } & V2Error;

const KEY_FORMAT = /^[A-Za-z0-9]{20}\.[A-Za-z0-9]{40}$/;

describe(`API keys, /api/v2/servers/:serverId/api-keys and /api/v2/account/api-keys (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let accountId: number;
  let accountKey: string;
  let managementKey: string;
  let base: string;
  let sibling: { id: number; key: string };
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  const keys = () => countRows(t.db, 'api_keys');
  const message = (id: number, key: string) => ({
    serverId: id,
    apiKey: key,
    messages: [{ to: [{ emailAddress: 'a@example.com' }], from: { emailAddress: 'b@example.com' }, subject: 's', textBody: 't' }],
  });
  const keyRow = async (publicId: string) => (await queryRows<Record<string, unknown>>(t.db, `SELECT * FROM api_keys WHERE public_id = '${publicId}'`))[0];

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    accountKey = t.credentials.accountKey;
    accountId = (await t.store.tenancy.getServer(serverId))!.accountId;
    managementKey = (await createKey(t.store, serverId, 'management')).key;
    base = `/servers/${serverId}/api-keys`;
    const s = await t.store.tenancy.createServer({ accountId, name: 'Sibling' }, Date.now());
    sibling = { id: s.id, key: (await createKey(t.store, s.id, 'management')).key };
    tenant = await createTenant(t.store);
  });
  afterAll(async () => {
    await t.close();
  });

  it('every server key route refuses a missing key (401), an injection key (403) and keys of other servers or accounts (403), changing nothing', async () => {
    const target = await createKey(t.store, serverId, 'injection');
    const routes = [
      ['GET', base, {}],
      ['POST', base, { body: { name: 'n', scope: 'management' } }],
      ['GET', `${base}/${target.publicId}`, {}],
      ['DELETE', `${base}/${target.publicId}`, {}],
      ['POST', `${base}/${target.publicId}/rotate`, {}],
    ] as const;
    const before = await keyRow(target.publicId);
    const count = await keys();
    for (const [method, path, opts] of routes) {
      for (const [key, status, code] of [
        [null, 401, 'unauthorized'],
        [t.credentials.apiKey, 403, 'insufficient_scope'],
        [sibling.key, 403, 'wrong_server'],
        [tenant.managementKey, 403, 'wrong_server'],
        [tenant.accountKey, 403, 'wrong_server'],
      ] as const) {
        const r = await v2<V2Error>(t, method, path, { ...opts, key });
        expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, status, code]);
      }
    }
    expect(await keyRow(target.publicId)).toEqual(before);
    expect(await keys()).toBe(count);
    expect((await inject(t, message(serverId, target.key))).body.ErrorCode).toBe('Success');
  });

  it('every account key route refuses a missing key (401) and any key that is not an account key (403), changing nothing', async () => {
    const target = await createAccountKey(t.store, accountId);
    const path = '/account/api-keys';
    const routes = [
      ['GET', path, {}],
      ['POST', path, { body: { name: 'n' } }],
      ['GET', `${path}/${target.publicId}`, {}],
      ['DELETE', `${path}/${target.publicId}`, {}],
      ['POST', `${path}/${target.publicId}/rotate`, {}],
    ] as const;
    const before = await keyRow(target.publicId);
    const count = await keys();
    for (const [method, p, opts] of routes) {
      for (const [key, status, code] of [
        [null, 401, 'unauthorized'],
        [t.credentials.apiKey, 403, 'insufficient_scope'],
        [managementKey, 403, 'insufficient_scope'],
      ] as const) {
        const r = await v2<V2Error>(t, method, p, { ...opts, key });
        expect([method, p, r.status, r.body.error?.code]).toEqual([method, p, status, code]);
      }
      // Another account's key reaches only its own account: this account's key id is unknown to it.
      if (p !== path) {
        const r = await v2<V2Error>(t, method, p, { ...opts, key: tenant.accountKey });
        expect([method, p, r.status, r.body.error?.code]).toEqual([method, p, 404, 'not_found']);
      }
    }
    expect(await keyRow(target.publicId)).toEqual(before);
    expect(await keys()).toBe(count);
    expect((await v2(t, 'GET', '/account/api-keys', { key: target.key })).status).toBe(200);
  });

  it('creates a key and shows its plaintext once; lists and gets never show the secret or its hash', async () => {
    for (const key of [managementKey, accountKey]) {
      const r = await v2<One>(t, 'POST', base, { key, body: { name: ' Deploy bot ', scope: 'management' } });
      expect(r.status).toBe(201);
      expect(r.body.data).toMatchObject({ name: 'Deploy bot', scope: 'management', serverId, accountId, status: 'active', revokedOn: null });
      expect(r.body.data.apiKey).toMatch(KEY_FORMAT);
      expect(r.body.data.apiKey!.startsWith(`${r.body.data.keyId}.`)).toBe(true);
      // The new key works at once.
      expect((await v2(t, 'GET', `/servers/${serverId}`, { key: r.body.data.apiKey! })).status).toBe(200);
      const secret = r.body.data.apiKey!.split('.')[1]!;
      const row = await keyRow(r.body.data.keyId);
      const got = await v2<One>(t, 'GET', `${base}/${r.body.data.keyId}`, { key });
      expect(got.body.data).toEqual({ ...r.body.data, apiKey: undefined });
      expect(got.body.data.apiKey).toBeUndefined();
      const list = await v2<Page>(t, 'GET', base, { key, query: { pageSize: 100 } });
      for (const text of [got.text, list.text]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(String(row!.secret_hash));
      }
      expect(list.body.data.map((k) => k.keyId)).toContain(r.body.data.keyId);
    }
    const inj = await v2<One>(t, 'POST', base, { key: managementKey, body: { name: 'App', scope: 'injection' } });
    expect((await inject(t, message(serverId, inj.body.data.apiKey!))).body.ErrorCode).toBe('Success');
    expect((await v2<V2Error>(t, 'GET', `/servers/${serverId}`, { key: inj.body.data.apiKey! })).body.error.code).toBe('insufficient_scope');
    // The Injection API takes injection keys only: neither a management nor an account key sends mail.
    for (const key of [managementKey, accountKey]) expect((await inject(t, message(serverId, key))).body.ErrorCode).toBe('InvalidAuthentication');
  });

  it.each([
    [{}, 'validation_failed', 'name', /"name" is required/],
    [{ name: 'x' }, 'validation_failed', 'scope', /"scope" is required/],
    [{ name: 'x', scope: 'account' }, 'validation_failed', 'scope', /injection, management/],
    [{ name: 'x', scope: 'root' }, 'validation_failed', 'scope', /injection, management/],
    [{ name: '  ', scope: 'injection' }, 'validation_failed', 'name', /pattern/],
    [{ name: 'x', scope: 'injection', serverId: 1 }, 'unknown_field', 'serverId', /unknown body field/],
  ] as const)('refuses to create a server key from %j (%s) and stores nothing', async (body, code, field, message) => {
    const count = await keys();
    const r = await v2<V2Error>(t, 'POST', base, { key: accountKey, body });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code, field });
    expect(r.body.error.message).toMatch(message);
    expect(await keys()).toBe(count);
  });

  it.each([
    [{}, 'validation_failed', 'name', /"name" is required/],
    [{ name: 'x', scope: 'account' }, 'unknown_field', 'scope', /unknown body field/],
    [{ name: '' }, 'validation_failed', 'name', /fewer than 1/],
  ] as const)('refuses to create an account key from %j (%s) and stores nothing', async (body, code, field, message) => {
    const count = await keys();
    const r = await v2<V2Error>(t, 'POST', '/account/api-keys', { key: accountKey, body });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code, field });
    expect(r.body.error.message).toMatch(message);
    expect(await keys()).toBe(count);
  });

  it("another server's key id under one's own server is 404 on every route, and that key is unchanged", async () => {
    const foreign = await createKey(t.store, sibling.id, 'injection');
    const theirs = await createKey(t.store, tenant.serverId, 'injection');
    for (const target of [foreign, theirs]) {
      const before = await keyRow(target.publicId);
      for (const [method, path] of [
        ['GET', `${base}/${target.publicId}`],
        ['DELETE', `${base}/${target.publicId}`],
        ['POST', `${base}/${target.publicId}/rotate`],
      ] as const) {
        const r = await v2<V2Error>(t, method, path, { key: accountKey });
        expect([method, r.status, r.body.error.code, r.body.error.field]).toEqual([method, 404, 'not_found', 'keyId']);
      }
      expect(await keyRow(target.publicId)).toEqual(before);
    }
    expect((await inject(t, message(sibling.id, foreign.key))).body.ErrorCode).toBe('Success');
    // An account key is not one of a server's keys either.
    const acct = await createAccountKey(t.store, accountId);
    expect((await v2<V2Error>(t, 'DELETE', `${base}/${acct.publicId}`, { key: accountKey })).status).toBe(404);
    expect((await v2(t, 'GET', '/account/api-keys', { key: acct.key })).status).toBe(200);
    const malformed = await v2<V2Error>(t, 'GET', `${base}/not-a-key-id`, { key: accountKey });
    expect(malformed.body.error).toMatchObject({ code: 'validation_failed', field: 'keyId' });
  });

  it('a revoked key fails on its very next request (v2 and Injection API); revoking twice changes nothing', async () => {
    const mgmt = await createKey(t.store, serverId, 'management');
    const injection = await createKey(t.store, serverId, 'injection');
    expect((await v2(t, 'GET', `/servers/${serverId}`, { key: mgmt.key })).status).toBe(200);
    const r = await v2<One>(t, 'DELETE', `${base}/${mgmt.publicId}`, { key: managementKey });
    expect(r.body.data).toMatchObject({ keyId: mgmt.publicId, status: 'revoked' });
    expect(r.body.data.revokedOn).not.toBeNull();
    expect((await v2<V2Error>(t, 'GET', `/servers/${serverId}`, { key: mgmt.key })).body.error.code).toBe('unauthorized');
    await v2<One>(t, 'DELETE', `${base}/${injection.publicId}`, { key: managementKey });
    expect((await inject(t, message(serverId, injection.key))).body.ErrorCode).toBe('InvalidAuthentication');
    const again = await v2<One>(t, 'DELETE', `${base}/${mgmt.publicId}`, { key: managementKey });
    expect(again.body.data).toEqual(r.body.data);
    const rotate = await v2<V2Error>(t, 'POST', `${base}/${mgmt.publicId}/rotate`, { key: managementKey });
    expect([rotate.status, rotate.body.error.code]).toEqual([409, 'key_revoked']);
  });

  it('a key may revoke itself', async () => {
    const self = await createKey(t.store, serverId, 'management');
    const r = await v2<One>(t, 'DELETE', `${base}/${self.publicId}`, { key: self.key });
    expect(r.body.data.status).toBe('revoked');
    expect((await v2(t, 'GET', base, { key: self.key })).status).toBe(401);
    const acct = await createAccountKey(t.store, accountId);
    expect((await v2<One>(t, 'DELETE', `/account/api-keys/${acct.publicId}`, { key: acct.key })).body.data.status).toBe('revoked');
    expect((await v2(t, 'GET', '/account/api-keys', { key: acct.key })).status).toBe(401);
  });

  it('rotating gives the same key a new secret, shown once; the old secret fails at once', async () => {
    const injection = await createKey(t.store, serverId, 'injection');
    const r = await v2<One>(t, 'POST', `${base}/${injection.publicId}/rotate`, { key: managementKey });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ keyId: injection.publicId, name: 'injection test key', scope: 'injection', status: 'active' });
    expect(r.body.data.apiKey).toMatch(KEY_FORMAT);
    expect(r.body.data.apiKey).not.toBe(injection.key);
    expect((await inject(t, message(serverId, injection.key))).body.ErrorCode).toBe('InvalidAuthentication');
    expect((await inject(t, message(serverId, r.body.data.apiKey!))).body.ErrorCode).toBe('Success');
    // A key rotating itself: the answer carries the new secret, which works; the old one does not.
    const self = await createKey(t.store, serverId, 'management');
    const s = await v2<One>(t, 'POST', `${base}/${self.publicId}/rotate`, { key: self.key });
    expect((await v2(t, 'GET', base, { key: self.key })).status).toBe(401);
    expect((await v2(t, 'GET', base, { key: s.body.data.apiKey! })).status).toBe(200);
  });

  it('manages account keys: create (scope account), list, get, rotate, revoke', async () => {
    const r = await v2<One>(t, 'POST', '/account/api-keys', { key: accountKey, body: { name: 'Ops' } });
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({ name: 'Ops', scope: 'account', serverId: null, accountId, status: 'active' });
    const fresh = r.body.data.apiKey!;
    expect((await v2(t, 'GET', `/servers/${sibling.id}`, { key: fresh })).status).toBe(200);
    expect((await v2(t, 'GET', `/servers/${tenant.serverId}`, { key: fresh })).status).toBe(403);
    const list = await v2<Page>(t, 'GET', '/account/api-keys', { key: accountKey, query: { pageSize: 100 } });
    expect(list.body.data.every((k) => k.scope === 'account' && k.accountId === accountId)).toBe(true);
    expect(list.body.data.map((k) => k.keyId)).toContain(r.body.data.keyId);
    expect(list.text).not.toContain(fresh.split('.')[1]);
    const theirs = await v2<Page>(t, 'GET', '/account/api-keys', { key: tenant.accountKey });
    expect(theirs.body.data.map((k) => k.keyId)).not.toContain(r.body.data.keyId);
    expect((await v2<One>(t, 'GET', `/account/api-keys/${r.body.data.keyId}`, { key: accountKey })).body.data.name).toBe('Ops');
    const rotated = await v2<One>(t, 'POST', `/account/api-keys/${r.body.data.keyId}/rotate`, { key: accountKey });
    expect((await v2(t, 'GET', '/servers', { key: fresh })).status).toBe(401);
    expect((await v2(t, 'GET', '/servers', { key: rotated.body.data.apiKey! })).status).toBe(200);
    await v2<One>(t, 'DELETE', `/account/api-keys/${r.body.data.keyId}`, { key: accountKey });
    expect((await v2(t, 'GET', '/servers', { key: rotated.body.data.apiKey! })).status).toBe(401);
  });

  it("lists a server's keys a page at a time, sorted", async () => {
    const created = await v2<One>(t, 'POST', `/servers/${sibling.id}/api-keys`, { key: accountKey, body: { name: 'zz', scope: 'injection' } });
    await v2<One>(t, 'POST', `/servers/${sibling.id}/api-keys`, { key: accountKey, body: { name: 'aa', scope: 'injection' } });
    const all = await t.store.tenancy.listApiKeys(sibling.id);
    const byName = await v2<Page>(t, 'GET', `/servers/${sibling.id}/api-keys`, {
      key: sibling.key,
      query: { sortField: 'name', sortDirection: 'dsc', pageSize: 1 },
    });
    expect(byName.body.total).toBe(all.length);
    expect(byName.body.data.map((k) => k.keyId)).toEqual([created.body.data.keyId]);
    const page2 = await v2<Page>(t, 'GET', `/servers/${sibling.id}/api-keys`, { key: sibling.key, query: { pageSize: 1, pageNumber: 1 } });
    expect(page2.body.data.map((k) => k.keyId)).toEqual([all[1]!.publicId]);
    expect(page2.body.data.every((k) => k.serverId === sibling.id)).toBe(true);
  });
});

describe(`migration 8: account keys (${TEST_STORE_KIND})`, () => {
  it("keeps existing keys (ids, secrets, public_id uniqueness) and gives each its server's account", async () => {
    const db = await createTestDb();
    try {
      // The database as the previous release left it: migrations before 8, two accounts, keys on their servers.
      const earlier = (db.kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS).filter((m) => m.id < 8);
      await execSql(
        db,
        'CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);' +
          earlier.map((m) => `${m.sql};\nINSERT INTO schema_migrations (id, name, applied_at) VALUES (${m.id}, 'm', 0);`).join('\n'),
      );
      const [a, b] = [generateApiKey(), generateApiKey()];
      await execSql(
        db,
        `INSERT INTO accounts (id, name, status, created_at) VALUES (7, 'A', 'active', 1), (8, 'B', 'active', 1);
        INSERT INTO servers (id, account_id, name, status, sandbox, created_at) VALUES (20001, 8, 'S1', 'active', 0, 1), (20002, 7, 'S2', 'active', 0, 1);
        INSERT INTO api_keys (id, public_id, secret_hash, server_id, scope, name, created_at, revoked_at) VALUES
          (41, '${a.publicId}', '${a.secretHash}', 20001, 'injection', 'a', 1, NULL), (57, '${b.publicId}', '${b.secretHash}', 20002, 'management', 'b', 2, 3);`,
      );
      // Rows inserted with explicit ids leave PostgreSQL's sequence behind; the previous release's inserts advanced it.
      if (db.kind === 'postgres') await execSql(db, "SELECT setval('api_keys_id_seq', 57)");
      const store = await db.open();
      try {
        expect(await store.tenancy.findApiKeyForAuth(a.publicId)).toMatchObject({
          id: 41,
          serverId: 20001,
          accountId: 8,
          scope: 'injection',
          secretHash: a.secretHash,
          revokedAt: null,
        });
        expect(await store.tenancy.findApiKeyForAuth(b.publicId)).toMatchObject({ id: 57, serverId: 20002, accountId: 7, scope: 'management', revokedAt: 3 });
        await expect(
          store.tenancy.createApiKey({ serverId: 20002, scope: 'injection', name: 'dup', publicId: a.publicId, secretHash: b.secretHash }, 4),
        ).rejects.toThrow();
        // New keys continue after the kept ids; an account key has no server.
        const c = generateApiKey();
        const rec = await store.tenancy.createApiKey(
          { serverId: null, accountId: 7, scope: 'account', name: 'c', publicId: c.publicId, secretHash: c.secretHash },
          5,
        );
        expect(rec).toMatchObject({ serverId: null, accountId: 7, scope: 'account' });
        expect(rec.id).toBeGreaterThan(57);
        // A server key without a server, or an account key with one, is refused by the table itself.
        await expect(
          execSql(
            db,
            `INSERT INTO api_keys (public_id, secret_hash, server_id, account_id, scope, name, created_at) VALUES ('x', 'h', NULL, 7, 'injection', 'n', 1)`,
          ),
        ).rejects.toThrow();
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  });
});
