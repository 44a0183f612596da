import { createPublicKey, createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { publicKeyValue } from '../../src/compose/dkim.js';

interface Key {
  selector: string;
  algorithm: string;
  state: string;
  dnsName: string;
  createdOn: string;
  activatedOn: string | null;
  retiresOn: string | null;
}
interface Domain {
  id: number;
  domain: string;
  verified: boolean;
  verifiedOn: string | null;
  lastCheckedOn: string | null;
  keys: Key[];
  lastCheck: unknown[] | null;
}
interface Rec {
  type: string;
  name: string;
  value: string;
  purpose: string;
  required: boolean;
  chunks?: string[];
}
type One = { data: Domain } & V2Error;

describe(`sending-domain routes, /api/v2/servers/:serverId/sending-domains (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let serverId: number;
  let otherServerId: number;
  let key: string;
  let otherKey: string;
  const base = () => `/servers/${serverId}/sending-domains`;
  const add = (body: unknown) => v2<One>(t, 'POST', base(), { key, body });
  const domains = () => countRows(t.db, 'sending_domains');
  const keys = () => countRows(t.db, 'dkim_keys');

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await startTestApp({ config: { dnsServers: [dns.address] } });
    const account = (await t.store.tenancy.listAccounts())[0]!;
    serverId = (await t.store.tenancy.createServer({ accountId: account.id, name: 'Main', requireVerifiedDomain: true }, Date.now())).id;
    otherServerId = (await t.store.tenancy.createServer({ accountId: account.id, name: 'Other', requireVerifiedDomain: true }, Date.now())).id;
    key = (await createKey(t.store, serverId, 'management')).key;
    otherKey = (await createKey(t.store, otherServerId, 'management')).key;
  });
  beforeEach(async () => {
    for (const [s, k] of [
      [serverId, key],
      [otherServerId, otherKey],
    ] as const) {
      const list = await v2<{ data: Domain[] }>(t, 'GET', `/servers/${s}/sending-domains`, { key: k, query: { pageSize: 100 } });
      for (const d of list.body.data) await v2(t, 'DELETE', `/servers/${s}/sending-domains/${d.id}`, { key: k });
    }
  });
  afterAll(async () => {
    await t.close();
    await dns.close();
  });

  it('every route refuses a missing, injection-scope or foreign key and changes nothing', async () => {
    const existing = (await add({ domain: 'auth.example' })).body.data.id;
    const injection = (await createKey(t.store, serverId, 'injection')).key;
    const routes = [
      ['POST', base(), { body: { domain: 'new.example' } }],
      ['GET', base(), {}],
      ['GET', `${base()}/${existing}`, {}],
      ['DELETE', `${base()}/${existing}`, {}],
      ['GET', `${base()}/${existing}/dns-records`, {}],
      ['POST', `${base()}/${existing}/verify`, {}],
      ['POST', `${base()}/${existing}/dkim/rotate`, { body: {} }],
      ['GET', `/servers/${serverId}/dkim/generate`, { query: { domain: 'x.example' } }],
    ] as const;
    const before = await t.store.sendingDomains.get(serverId, existing);
    for (const [method, path, opts] of routes) {
      for (const [k, status, code] of [
        [null, 401, 'unauthorized'],
        [injection, 403, 'insufficient_scope'],
        [otherKey, 403, 'wrong_server'],
      ] as const) {
        const r = await v2<V2Error>(t, method, path, { ...opts, key: k });
        expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, status, code]);
      }
    }
    expect(await domains()).toBe(1);
    expect(await t.store.sendingDomains.get(serverId, existing)).toEqual(before);
    expect(dns.asked(`TXT auth.example`)).toBe(0);
  });

  describe('add', () => {
    it('creates the domain with an active RSA key, and an Ed25519 key when asked', async () => {
      const r = await add({ domain: 'Mail.Example.COM.', selector: 'sel1', ed25519: true });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({ domain: 'mail.example.com', verified: false, verifiedOn: null, lastCheckedOn: null, lastCheck: null });
      expect(r.body.data.keys.map((k) => [k.selector, k.algorithm, k.state, k.dnsName])).toEqual([
        ['sel1', 'rsa-sha256', 'active', 'sel1._domainkey.mail.example.com'],
        ['sel1e', 'ed25519-sha256', 'active', 'sel1e._domainkey.mail.example.com'],
      ]);
      expect(r.text).not.toContain('PRIVATE KEY');
      const stored = await t.store.sendingDomains.get(serverId, r.body.data.id);
      expect(stored!.keys.map((k) => k.serverId)).toEqual([serverId, serverId]);
      // Instance-wide keys (the CLI without --server) do not include a server's keys.
      expect(await t.store.settings.listDkimKeys('mail.example.com')).toEqual([]);
    });

    it('refuses a domain the server has (409), but another server may add the same domain and selector', async () => {
      expect((await add({ domain: 'dup.example', selector: 's1' })).status).toBe(200);
      const again = await add({ domain: 'DUP.example', selector: 's2' });
      expect([again.status, again.body.error.code, again.body.error.field]).toEqual([409, 'already_exists', 'domain']);
      expect(await domains()).toBe(1);
      const r = await v2<One>(t, 'POST', `/servers/${otherServerId}/sending-domains`, { key: otherKey, body: { domain: 'dup.example', selector: 's1' } });
      expect(r.status).toBe(200);
    });

    it('refuses bad input with a clear code and stores nothing', async () => {
      const cases: [unknown, number, string, string | undefined, RegExp][] = [
        [{}, 400, 'validation_failed', 'domain', /required/],
        [{ domain: 'localhost' }, 400, 'validation_failed', 'domain', /single label/],
        [{ domain: '10.0.0.1' }, 400, 'validation_failed', 'domain', /IP addresses/],
        [{ domain: 'a..example' }, 400, 'validation_failed', 'domain', /empty label/],
        [{ domain: 'ok.example', selector: 'bad_selector' }, 400, 'validation_failed', 'selector', /pattern/],
        [{ domain: 'ok.example', ed25519: 'yes' }, 400, 'validation_failed', 'ed25519', /boolean/],
        [{ domain: 'ok.example', dkim: true }, 400, 'unknown_field', 'dkim', /unknown body field/],
      ];
      for (const [body, status, code, field, message] of cases) {
        const r = await add(body);
        expect([JSON.stringify(body), r.status, r.body.error.code, r.body.error.field]).toEqual([JSON.stringify(body), status, code, field]);
        expect(r.body.error.message).toMatch(message);
      }
      const raw = await v2<V2Error>(t, 'POST', base(), { key, raw: '{"domain":', contentType: 'application/json' });
      expect([raw.status, raw.body.error.code]).toEqual([400, 'invalid_body']);
      expect(await domains()).toBe(0);
      expect(await keys()).toBe(0);
    });
  });

  describe('list and get', () => {
    it("lists the server's domains only, paged and sorted", async () => {
      for (const d of ['b.example', 'a.example', 'c.example']) expect((await add({ domain: d })).status).toBe(200);
      await v2(t, 'POST', `/servers/${otherServerId}/sending-domains`, { key: otherKey, body: { domain: 'other.example' } });
      const page = await v2<{ data: Domain[]; total: number }>(t, 'GET', base(), { key, query: { pageSize: 2, pageNumber: 0 } });
      expect(page.body.total).toBe(3);
      expect(page.body.data.map((d) => d.domain)).toEqual(['a.example', 'b.example']);
      const last = await v2<{ data: Domain[]; total: number }>(t, 'GET', base(), { key, query: { pageSize: 2, pageNumber: 1 } });
      expect(last.body.data.map((d) => d.domain)).toEqual(['c.example']);
      const desc = await v2<{ data: Domain[] }>(t, 'GET', base(), { key, query: { sortField: 'domain', sortDirection: 'dsc' } });
      expect(desc.body.data.map((d) => d.domain)).toEqual(['c.example', 'b.example', 'a.example']);
      const bad = await v2<V2Error>(t, 'GET', base(), { key, query: { pagesize: 2 } });
      expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'unknown_field', 'pagesize']);
      const badSort = await v2<V2Error>(t, 'GET', base(), { key, query: { sortField: 'verified' } });
      expect([badSort.status, badSort.body.error.code]).toEqual([400, 'validation_failed']);
    });

    it("another server's domain id is 404 on every route and nothing changes", async () => {
      const foreign = (await v2<One>(t, 'POST', `/servers/${otherServerId}/sending-domains`, { key: otherKey, body: { domain: 'theirs.example' } })).body.data;
      const before = await t.store.sendingDomains.get(otherServerId, foreign.id);
      for (const [method, path, body] of [
        ['GET', `${base()}/${foreign.id}`, undefined],
        ['DELETE', `${base()}/${foreign.id}`, undefined],
        ['GET', `${base()}/${foreign.id}/dns-records`, undefined],
        ['POST', `${base()}/${foreign.id}/verify`, undefined],
        ['POST', `${base()}/${foreign.id}/dkim/rotate`, {}],
      ] as const) {
        const r = await v2<V2Error>(t, method, path, { key, body });
        expect([method, path, r.status, r.body.error.code, r.body.error.field]).toEqual([method, path, 404, 'not_found', 'domainId']);
      }
      expect(await t.store.sendingDomains.get(otherServerId, foreign.id)).toEqual(before);
      expect(dns.asked('TXT theirs.example')).toBe(0);
      const bad = await v2<V2Error>(t, 'GET', `${base()}/abc`, { key });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
    });
  });

  it('dns-records lists DKIM, SPF, DMARC and the return-path CNAME', async () => {
    const d = (await add({ domain: 'records.example', selector: 'pl1' })).body.data;
    const r = await v2<{ data: { domain: string; records: Rec[] } } & V2Error>(t, 'GET', `${base()}/${d.id}/dns-records`, { key });
    expect(r.status).toBe(200);
    expect(r.body.data.records.map((x) => [x.type, x.name, x.required])).toEqual([
      ['TXT', 'pl1._domainkey.records.example', true],
      ['TXT', 'records.example', true],
      ['TXT', '_dmarc.records.example', false],
      ['CNAME', 'pl-bounces.records.example', false],
    ]);
    const stored = await t.store.sendingDomains.get(serverId, d.id);
    expect(r.body.data.records[0]!.value).toBe(`v=DKIM1; k=rsa; p=${stored!.keys[0]!.publicKey}`);
    expect(r.body.data.records[1]!.value).toBe(`v=spf1 a:${t.config.hostname} ~all`);
    expect(r.body.data.records[3]!.value).toBe(t.config.bounceDomain ?? t.config.hostname);
    const extra = await v2<V2Error>(t, 'GET', `${base()}/${d.id}/dns-records`, { key, query: { all: 1 } });
    expect([extra.status, extra.body.error.code]).toEqual([400, 'unknown_field']);
  });

  it('verify looks DNS up now and stores the result', async () => {
    const d = (await add({ domain: 'live.example' })).body.data;
    const r = await v2<One>(t, 'POST', `${base()}/${d.id}/verify`, { key });
    expect(r.status).toBe(200);
    expect(r.body.data.verified).toBe(false);
    expect(r.body.data.lastCheckedOn).not.toBeNull();
    expect(r.body.data.lastCheck).toHaveLength(4);
    expect(dns.asked('TXT live.example')).toBeGreaterThan(0);
    const body = await v2<V2Error>(t, 'POST', `${base()}/${d.id}/verify`, { key, query: { force: 1 } });
    expect([body.status, body.body.error.code]).toEqual([400, 'unknown_field']);
  });

  it('rotate adds a pending key; a second rotation waits (409); bad selectors are refused with nothing stored', async () => {
    const d = (await add({ domain: 'rotate.example', selector: 'one' })).body.data;
    for (const [body, code, field] of [
      [{ selector: 'a b' }, 'validation_failed', 'selector'],
      [{ selector: 'one' }, 'already_exists', 'selector'],
      [{ other: 1 }, 'unknown_field', 'other'],
    ] as const) {
      const r = await v2<One>(t, 'POST', `${base()}/${d.id}/dkim/rotate`, { key, body });
      expect([r.body.error?.code, r.body.error?.field]).toEqual([code, field]);
    }
    expect(await keys()).toBe(1);
    const r = await v2<One>(t, 'POST', `${base()}/${d.id}/dkim/rotate`, { key, body: { selector: 'two' } });
    expect(r.status).toBe(200);
    expect(r.body.data.keys.map((k) => [k.selector, k.state])).toEqual([
      ['one', 'active'],
      ['two', 'pending'],
    ]);
    const again = await v2<One>(t, 'POST', `${base()}/${d.id}/dkim/rotate`, { key, body: {} });
    expect([again.status, again.body.error.code]).toEqual([409, 'rotation_in_progress']);
    expect(await keys()).toBe(2);
    // Without a body, the default selector.
    const other = (await add({ domain: 'rotate2.example' })).body.data;
    const dflt = await v2<One>(t, 'POST', `${base()}/${other.id}/dkim/rotate`, { key });
    expect([dflt.status, dflt.body.error]).toEqual([200, undefined]);
    expect(dflt.body.data.keys[1]!.selector).toMatch(/^pl\d{6}-2$/);
  });

  it('delete removes the domain and its keys', async () => {
    const d = (await add({ domain: 'gone.example', ed25519: true })).body.data;
    expect(await keys()).toBe(2);
    const r = await v2<{ data: { id: number; deleted: boolean } }>(t, 'DELETE', `${base()}/${d.id}`, { key });
    expect(r.body.data).toEqual({ id: d.id, deleted: true });
    expect(await domains()).toBe(0);
    expect(await keys()).toBe(0);
    expect((await v2<V2Error>(t, 'GET', `${base()}/${d.id}`, { key })).status).toBe(404);
    // Added again: fresh keys, same default selector.
    expect((await add({ domain: 'gone.example' })).status).toBe(200);
  });

  it('dkim/generate answers a key pair and its record, and stores nothing', async () => {
    const r = await v2<{ data: { dnsHostName: string; domain: string; selector: string; dnsRecord: string; publicKey: string; privateKey: string } } & V2Error>(
      t,
      'GET',
      `/servers/${serverId}/dkim/generate`,
      { key, query: { domain: 'Gen.Example', selector: 'dkim1' } },
    );
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ dnsHostName: 'dkim1._domainkey.gen.example', domain: 'gen.example', selector: 'dkim1' });
    expect(r.body.data.dnsRecord).toBe(`v=DKIM1; k=rsa; p=${r.body.data.publicKey}`);
    // The public key is the private key's.
    expect(publicKeyValue(createPublicKey(createPrivateKey(r.body.data.privateKey)))).toBe(r.body.data.publicKey);
    expect(await keys()).toBe(0);
    for (const [query, code, field] of [
      [{}, 'validation_failed', 'domain'],
      [{ domain: 'nodot' }, 'validation_failed', 'domain'],
      [{ domain: 'x.example', selector: '-x' }, 'validation_failed', 'selector'],
      [{ domain: 'x.example', bits: 1024 }, 'unknown_field', 'bits'],
    ] as const) {
      const bad = await v2<V2Error>(t, 'GET', `/servers/${serverId}/dkim/generate`, { key, query });
      expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, code, field]);
    }
  });
});
