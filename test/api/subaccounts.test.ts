import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { publicKeyValue } from '../../src/compose/dkim.js';

interface Subaccount {
  subaccountId: number;
  accountId: number;
  name: string;
  status: string;
  createdOn: string;
  streamScore: null;
  avgDailyVolume: number;
  useRuleEngine: boolean;
}
interface Credentials {
  serverId: number;
  apiKey: string;
  gateway: string;
}
type Data<T> = { data: T } & V2Error;

const BOUNCE_TARGET = 'postline.test';
const TRACKING_TARGET = 'links.postline.test';

describe(`sub-accounts, /api/v2/subaccount and credentials (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let accountKey: string;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  /** A sub-account made through the API for the tests that need one. */
  let sub: Subaccount;
  let accountId: number;

  const create = (body: unknown, key = accountKey) => v2<Data<Subaccount>>(t, 'POST', '/subaccount', { key, body });
  const servers = () => countRows(t.db, 'servers');
  const keys = () => countRows(t.db, 'api_keys');

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await startTestApp({ config: { dnsServers: [dns.address], publicUrl: `https://${TRACKING_TARGET}/` } });
    accountKey = t.credentials.accountKey;
    tenant = await createTenant(t.store);
    accountId = (await t.store.tenancy.getServer(t.credentials.serverId))!.accountId;
    sub = (await create({ name: 'Shared', useRuleEngine: true })).body.data;
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
  });

  it("POST /subaccount makes a server of the account key's account that sends without a verified domain", async () => {
    const before = Date.now();
    const r = await create({ name: '  Customer A  ', ipPoolId: 3 });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({
      subaccountId: expect.any(Number),
      accountId,
      name: 'Customer A',
      status: 'Active',
      createdOn: expect.any(String),
      streamScore: null,
      avgDailyVolume: 0,
      useRuleEngine: false,
    });
    expect(Date.parse(r.body.data.createdOn)).toBeGreaterThanOrEqual(before - 1000);
    const server = await t.store.tenancy.getServer(r.body.data.subaccountId);
    expect(server).toMatchObject({ accountId, name: 'Customer A', status: 'active', requireVerifiedDomain: false, sandbox: false });
    expect((await create({ name: 'Rules', useRuleEngine: true })).body.data.useRuleEngine).toBe(true);
    // The account's other tenant gets its own account's sub-account.
    expect((await create({ name: 'Theirs', ipPoolId: 1 }, tenant.accountKey)).body.data.accountId).toBe(tenant.accountId);
  });

  it('POST /subaccount refuses both, neither, or a bad field, and creates nothing', async () => {
    const n = await servers();
    const cases: [unknown, string, string | undefined][] = [
      [{ name: 'Both', ipPoolId: 1, useRuleEngine: true }, 'validation_failed', 'useRuleEngine'],
      [{ name: 'Neither' }, 'validation_failed', 'ipPoolId'],
      [{ name: 'Off', useRuleEngine: false }, 'validation_failed', 'ipPoolId'],
      [{ ipPoolId: 1 }, 'validation_failed', 'name'],
      [{ name: '   ', ipPoolId: 1 }, 'validation_failed', 'name'],
      [{ name: 'Pool', ipPoolId: 0 }, 'validation_failed', 'ipPoolId'],
      [{ name: 'Extra', ipPoolId: 1, sandbox: true }, 'unknown_field', 'sandbox'],
    ];
    for (const [body, code, field] of cases) {
      const r = await create(body);
      expect([r.status, r.body.error.code, r.body.error.field], JSON.stringify(body)).toEqual([400, code, field]);
    }
    expect(await servers()).toBe(n);
  });

  it("needs an account key: a management key is 403 insufficient_scope, no key 401, another account's id 404", async () => {
    const management = (await createKey(t.store, sub.subaccountId, 'management')).key;
    const injection = (await createKey(t.store, sub.subaccountId, 'injection')).key;
    const n = await servers();
    const k = await keys();
    const routes: [string, string, { body?: unknown; query?: Record<string, string> }][] = [
      ['POST', '/subaccount', { body: { name: 'x', ipPoolId: 1 } }],
      ['POST', `/subaccount/${sub.subaccountId}/credentials/injection-api`, {}],
      ['POST', `/subaccount/${sub.subaccountId}/bounce`, { body: { domain: 'b.auth.example', isDefault: false } }],
      ['POST', `/subaccount/${sub.subaccountId}/tracking`, { body: { domain: 't.auth.example' } }],
      ['GET', `/subaccount/${sub.subaccountId}/dkim/generate`, { query: { domain: 'auth.example', selector: 's1' } }],
      ['POST', `/subaccount/${sub.subaccountId}/dkim`, { body: { domain: 'auth.example', selector: 's1', privateKey: 'x' } }],
      ['GET', `/subaccount/${sub.subaccountId}/suppressions/download`, {}],
      ['POST', `/subaccount/${sub.subaccountId}/suppressions/bulk-remove`, { body: { emailAddresses: ['a@auth.example'] } }],
    ];
    for (const [method, path, opts] of routes) {
      for (const [key, status, code] of [
        [null, 401, 'unauthorized'],
        [injection, 403, 'insufficient_scope'],
        [management, 403, 'insufficient_scope'],
        [tenant.accountKey, 404, 'not_found'],
      ] as const) {
        if (path === '/subaccount' && key === tenant.accountKey) continue; // creates in its own account (tested above)
        const r = await v2<V2Error>(t, method, path, { key, ...opts });
        expect([r.status, r.body.error?.code], `${method} ${path} with ${String(key).slice(0, 8)}`).toEqual([status, code]);
      }
    }
    // Unknown and malformed ids are the same 404 as another account's.
    for (const id of ['999999', 'abc', '0']) {
      const r = await v2<V2Error>(t, 'POST', `/subaccount/${id}/credentials/injection-api`, { key: accountKey });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([404, 'not_found', 'subaccountId']);
    }
    expect(await servers()).toBe(n);
    expect(await keys()).toBe(k);
    expect(await t.store.customDomains.list(sub.subaccountId, 'bounce', { limit: 10, offset: 0, direction: 'asc', sort: 'createdAt' })).toMatchObject({
      total: 0,
    });
  });

  describe('credentials/injection-api', () => {
    it('answers the same working injection key on every call, and a new one once it is revoked', async () => {
      const path = `/subaccount/${sub.subaccountId}/credentials/injection-api`;
      const first = await v2<Data<Credentials>>(t, 'POST', path, { key: accountKey });
      expect(first.status).toBe(200);
      expect(first.body.data).toEqual({
        serverId: sub.subaccountId,
        apiKey: expect.stringMatching(/^[A-Za-z0-9]{20}\.[A-Za-z0-9]{40}$/),
        gateway: `https://${TRACKING_TARGET}/api/v1/email`,
      });
      const k = await keys();
      const again = await v2<Data<Credentials>>(t, 'POST', path, { key: accountKey });
      // The servers route answers the same key for the same server.
      const viaServer = await v2<Data<Credentials>>(t, 'GET', `/servers/${sub.subaccountId}/credentials/injection-api`, { key: accountKey });
      expect(again.body.data.apiKey).toBe(first.body.data.apiKey);
      expect(viaServer.body.data).toEqual(first.body.data);
      expect(await keys()).toBe(k);
      const listed = (await t.store.tenancy.listApiKeys(sub.subaccountId)).filter((x) => x.publicId === first.body.data.apiKey.slice(0, 20));
      expect(listed).toMatchObject([{ scope: 'injection', name: 'injection-api credentials', revokedAt: null }]);
      await t.store.tenancy.revokeApiKey(listed[0]!.publicId, Date.now());
      const fresh = await v2<Data<Credentials>>(t, 'POST', path, { key: accountKey });
      expect(fresh.body.data.apiKey).not.toBe(first.body.data.apiKey);
      expect(await keys()).toBe(k + 1);
      // Rotated through the API, the key has a secret of its own: the next call makes another key.
      const rotated = await v2<Data<{ apiKey: string }>>(t, 'POST', `/servers/${sub.subaccountId}/api-keys/${fresh.body.data.apiKey.slice(0, 20)}/rotate`, {
        key: accountKey,
      });
      expect(rotated.status).toBe(200);
      const afterRotation = await v2<Data<Credentials>>(t, 'POST', path, { key: accountKey });
      expect(afterRotation.body.data.apiKey).not.toBe(fresh.body.data.apiKey);
      expect(afterRotation.body.data.apiKey).not.toBe(rotated.body.data.apiKey);
      expect(await keys()).toBe(k + 2);
    });

    it("GET /servers/{id}/credentials/injection-api takes the server's management key and refuses others", async () => {
      const management = (await createKey(t.store, t.credentials.serverId, 'management')).key;
      const r = await v2<Data<Credentials>>(t, 'GET', `/servers/${t.credentials.serverId}/credentials/injection-api`, { key: management });
      expect(r.body.data.serverId).toBe(t.credentials.serverId);
      const k = await keys();
      for (const [key, status, code] of [
        [null, 401, 'unauthorized'],
        [tenant.managementKey, 403, 'wrong_server'],
        [tenant.accountKey, 403, 'wrong_server'],
      ] as const) {
        const bad = await v2<V2Error>(t, 'GET', `/servers/${t.credentials.serverId}/credentials/injection-api`, { key });
        expect([bad.status, bad.body.error.code]).toEqual([status, code]);
      }
      const unknown = await v2<V2Error>(t, 'GET', `/servers/${t.credentials.serverId}/credentials/injection-api`, { key: accountKey, query: { x: '1' } });
      expect([unknown.status, unknown.body.error.code]).toEqual([400, 'unknown_field']);
      expect(await keys()).toBe(k);
    });
  });

  describe('custom bounce and tracking domains', () => {
    it("POST /bounce claims a bounce domain of the sub-account's server; a bad domain or a default without its CNAME changes nothing", async () => {
      const r = await v2<Data<Record<string, unknown>>>(t, 'POST', `/subaccount/${sub.subaccountId}/bounce`, {
        key: accountKey,
        body: { domain: 'Bounces.Sub.Example', isDefault: false },
      });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({
        domain: 'bounces.sub.example',
        isDefault: false,
        createdOn: expect.any(String),
        updatedOn: expect.any(String),
        verified: false,
      });
      const rows = await countRows(t.db, 'custom_domains');
      for (const [body, status, code, field] of [
        [{ domain: 'not a domain', isDefault: false }, 400, 'validation_failed', 'domain'],
        [{ domain: 'nocname.sub.example', isDefault: true }, 409, 'domain_not_verified', 'isDefault'],
        [{ domain: 'bounces.sub.example' }, 409, 'domain_taken', 'domain'],
        [{ isDefault: true }, 400, 'validation_failed', 'domain'],
      ] as const) {
        const bad = await v2<V2Error>(t, 'POST', `/subaccount/${sub.subaccountId}/bounce`, { key: accountKey, body });
        expect([bad.status, bad.body.error.code, bad.body.error.field], JSON.stringify(body)).toEqual([status, code, field]);
      }
      expect(await countRows(t.db, 'custom_domains')).toBe(rows);
      // A published CNAME makes it the default at once.
      dns.set('verified-bounces.sub.example', { CNAME: BOUNCE_TARGET });
      const def = await v2<Data<Record<string, unknown>>>(t, 'POST', `/subaccount/${sub.subaccountId}/bounce`, {
        key: accountKey,
        body: { domain: 'verified-bounces.sub.example', isDefault: true },
      });
      expect(def.body.data).toMatchObject({ isDefault: true, verified: true });
    });

    it("POST /tracking claims a tracking domain and sets the server's switches; refused flags change nothing", async () => {
      const before = await t.store.tenancy.getServer(sub.subaccountId);
      const rows = await countRows(t.db, 'custom_domains');
      for (const [body, field] of [
        [{ domain: 'track.sub.example', googleAnalyticsEnabled: true, opensEnabled: true }, 'googleAnalyticsEnabled'],
        [{ domain: 'track.sub.example', automaticTrackingEnabled: false, opensEnabled: true }, 'automaticTrackingEnabled'],
        [{ domain: 'not a domain', opensEnabled: true }, 'domain'],
        [{ domain: 'nocname-track.sub.example', isDefault: true, opensEnabled: true }, 'isDefault'],
      ] as const) {
        const bad = await v2<V2Error>(t, 'POST', `/subaccount/${sub.subaccountId}/tracking`, { key: accountKey, body });
        expect([bad.status >= 400, bad.body.error.field], JSON.stringify(body)).toEqual([true, field]);
      }
      expect(await countRows(t.db, 'custom_domains')).toBe(rows);
      expect(await t.store.tenancy.getServer(sub.subaccountId)).toEqual(before);

      dns.set('track.sub.example', { CNAME: TRACKING_TARGET });
      const r = await v2<Data<Record<string, unknown>>>(t, 'POST', `/subaccount/${sub.subaccountId}/tracking`, {
        key: accountKey,
        body: {
          domain: 'track.sub.example',
          opensEnabled: true,
          clicksEnabled: true,
          unsubscribesEnabled: false,
          automaticTrackingEnabled: true,
          googleAnalyticsEnabled: false,
          httpsEnabled: true,
          isDefault: true,
        },
      });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({
        domain: 'track.sub.example',
        isDefault: true,
        verified: true,
        httpsEnabled: true,
        opensEnabled: true,
        clicksEnabled: true,
        unsubscribesEnabled: false,
        automaticTrackingEnabled: true,
        googleAnalyticsEnabled: false,
      });
      expect((await t.store.tenancy.getServer(sub.subaccountId))!.tracking).toEqual({
        opens: true,
        clicks: true,
        unsubscribes: false,
        domain: 'https://track.sub.example',
      });
    });
  });

  describe('DKIM', () => {
    it('GET /dkim/generate answers a key pair and stores nothing', async () => {
      const n = await countRows(t.db, 'dkim_keys');
      const r = await v2<Data<Record<string, string>>>(t, 'GET', `/subaccount/${sub.subaccountId}/dkim/generate`, {
        key: accountKey,
        query: { domain: 'Gen.Example', selector: 'dkim1' },
      });
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual({
        dnsHostName: 'dkim1._domainkey.gen.example',
        domain: 'gen.example',
        selector: 'dkim1',
        dnsRecord: `v=DKIM1; k=rsa; p=${r.body.data.publicKey}`,
        publicKey: expect.stringMatching(/^MII/),
        privateKey: expect.stringContaining('BEGIN PRIVATE KEY'),
      });
      const bad = await v2<V2Error>(t, 'GET', `/subaccount/${sub.subaccountId}/dkim/generate`, { key: accountKey, query: { domain: 'bad domain' } });
      expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'validation_failed', 'domain']);
      expect(await countRows(t.db, 'dkim_keys')).toBe(n);
    });

    it("POST /dkim takes the customer's key once DNS publishes it, and signs the server's mail for the domain with it", async () => {
      const gen = (
        await v2<Data<Record<string, string>>>(t, 'GET', `/subaccount/${sub.subaccountId}/dkim/generate`, {
          key: accountKey,
          query: { domain: 'own.example', selector: 'sel1' },
        })
      ).body.data;
      const post = (body: unknown) =>
        v2<Data<{ domainId: number; domain: string }>>(t, 'POST', `/subaccount/${sub.subaccountId}/dkim`, { key: accountKey, body });
      const n = await countRows(t.db, 'dkim_keys');
      const domains = await countRows(t.db, 'sending_domains');
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const weak = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      // Not published yet: nothing is taken.
      let r = await post({ domain: 'own.example', selector: 'sel1', privateKey: gen.privateKey });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'validation_failed', 'selector']);
      // Published, but another key's public half: a mismatch.
      dns.set('sel1._domainkey.own.example', { TXT: [`v=DKIM1; k=rsa; p=${publicKeyValue(other.publicKey)}`] });
      r = await post({ domain: 'own.example', selector: 'sel1', privateKey: gen.privateKey });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'validation_failed', 'privateKey']);
      expect(r.body.error.message).toMatch(/not the public half/);
      for (const [body, field] of [
        [{ domain: 'own.example', selector: 'sel1', privateKey: 'not a key' }, 'privateKey'],
        [{ domain: 'own.example', selector: 'sel1', privateKey: weak }, 'privateKey'],
        [{ domain: 'own example', selector: 'sel1', privateKey: gen.privateKey }, 'domain'],
        [{ domain: 'own.example', selector: 'bad_selector', privateKey: gen.privateKey }, 'selector'],
        [{ domain: 'own.example', selector: 'sel1' }, 'privateKey'],
      ] as const) {
        const bad = await post(body);
        expect([bad.status, bad.body.error.code, bad.body.error.field], JSON.stringify(body).slice(0, 80)).toEqual([400, 'validation_failed', field]);
      }
      // A failing resolver says nothing about the key: refused, to be tried again.
      dns.set('sel1._domainkey.own.example', { fail: 'SERVFAIL' });
      r = await post({ domain: 'own.example', selector: 'sel1', privateKey: gen.privateKey });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'validation_failed', 'selector']);
      expect(r.body.error.message).toMatch(/could not look up sel1\._domainkey\.own\.example/);
      expect(await countRows(t.db, 'dkim_keys')).toBe(n);
      expect(await countRows(t.db, 'sending_domains')).toBe(domains);

      dns.set('sel1._domainkey.own.example', { TXT: [gen.dnsRecord!] });
      r = await post({ domain: 'own.example', selector: 'sel1', privateKey: gen.privateKey });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({ domain: 'own.example' });
      const signing = await t.store.sendingDomains.signingKeys(sub.subaccountId, 'own.example');
      expect(signing).toMatchObject([{ selector: 'sel1', algorithm: 'rsa-sha256', publicKey: gen.publicKey, state: 'active' }]);
      // A second time: the server has the domain already.
      const again = await post({ domain: 'own.example', selector: 'sel1', privateKey: gen.privateKey });
      expect([again.status, again.body.error.code]).toEqual([409, 'already_exists']);
      expect(await countRows(t.db, 'dkim_keys')).toBe(n + 1);

      // An Ed25519 key (PKCS#8), published as k=ed25519 with its raw public key.
      const ed = generateKeyPairSync('ed25519');
      dns.set('ed1._domainkey.ed.example', { TXT: [`v=DKIM1; k=ed25519; p=${publicKeyValue(ed.publicKey)}`] });
      const edr = await post({ domain: 'ed.example', selector: 'ed1', privateKey: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
      expect(edr.status).toBe(200);
      expect(await t.store.sendingDomains.signingKeys(sub.subaccountId, 'ed.example')).toMatchObject([
        { selector: 'ed1', algorithm: 'ed25519-sha256', state: 'active' },
      ]);
    });
  });

  describe('suppressions', () => {
    const add = (emailAddress: string) => v2(t, 'POST', `/servers/${sub.subaccountId}/suppressions`, { key: accountKey, body: { emailAddress } });

    it("download is the server's CSV; bulk-remove takes up to 1000 addresses", async () => {
      await add('one@sub.example');
      await add('two@sub.example');
      const csv = await v2<string>(t, 'GET', `/subaccount/${sub.subaccountId}/suppressions/download`, {
        key: accountKey,
        query: { sortField: 'emailAddress', sortDirection: 'asc' },
      });
      const server = await v2<string>(t, 'GET', `/servers/${sub.subaccountId}/suppressions/download`, {
        key: accountKey,
        query: { sortField: 'emailAddress', sortDirection: 'asc' },
      });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.text).toBe(server.text);
      expect(
        csv.text
          .split('\r\n')
          .filter(Boolean)
          .map((l) => l.split(',')[0]),
      ).toEqual(['emailAddress', 'one@sub.example', 'two@sub.example']);

      const tooMany = Array.from({ length: 1001 }, (_, i) => `x${i}@sub.example`);
      tooMany[0] = 'one@sub.example';
      const big = await v2<V2Error>(t, 'POST', `/subaccount/${sub.subaccountId}/suppressions/bulk-remove`, {
        key: accountKey,
        body: { emailAddresses: tooMany },
      });
      expect([big.status, big.body.error.code, big.body.error.field]).toEqual([400, 'too_many_items', 'emailAddresses']);
      const invalid = await v2<V2Error>(t, 'POST', `/subaccount/${sub.subaccountId}/suppressions/bulk-remove`, {
        key: accountKey,
        body: { emailAddresses: ['one@sub.example', 'nope'] },
      });
      expect([invalid.status, invalid.body.error.code, invalid.body.error.field]).toEqual([400, 'validation_failed', 'emailAddresses[1]']);
      expect(await t.store.suppressions.get(sub.subaccountId, 'one@sub.example')).toBeTruthy();

      const r = await v2<Data<{ requested: number; removed: number }>>(t, 'POST', `/subaccount/${sub.subaccountId}/suppressions/bulk-remove`, {
        key: accountKey,
        body: { emailAddresses: ['ONE@sub.example', 'absent@sub.example'] },
      });
      expect(r.body.data).toEqual({ requested: 2, removed: 1 });
      expect(await t.store.suppressions.get(sub.subaccountId, 'one@sub.example')).toBeFalsy();
      expect(await t.store.suppressions.get(sub.subaccountId, 'two@sub.example')).toBeTruthy();
    });
  });
});
