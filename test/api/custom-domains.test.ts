import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import type { CustomDomainKind } from '../../src/core/custom-domain.js';

interface Rec {
  type: string;
  name: string;
  expected: string;
  status: string;
  found: string[];
}
interface Wire {
  domainId: number;
  domain: string;
  isDefault: boolean;
  verified: boolean;
  httpsEnabled?: boolean;
  verifiedOn: string | null;
  lastCheckedOn: string | null;
  createdOn: string;
  updatedOn: string;
  records: Rec[];
}
type One = { data: Wire } & V2Error;
type Many = { data: Wire[]; total: number } & V2Error;

const BOUNCE_TARGET = 'postline.test';
const TRACKING_TARGET = 'links.postline.test';
const RESOURCES = [
  { kind: 'bounce' as CustomDomainKind, path: 'bounce-domains', target: BOUNCE_TARGET },
  { kind: 'tracking' as CustomDomainKind, path: 'tracking-domains', target: TRACKING_TARGET },
];

describe(`custom domain routes, /api/v2/servers/:serverId/{bounce,tracking}-domains (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let serverId: number;
  let key: string;
  let otherId: number;
  let otherKey: string;
  const published: string[] = [];
  /** Publishes `name` CNAME `target` on the loopback DNS server. */
  const cname = (name: string, target: string) => {
    dns.set(name, { CNAME: target });
    published.push(name);
  };
  const rows = () => countRows(t.db, 'custom_domains');

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await startTestApp({ config: { dnsServers: [dns.address], publicUrl: `https://${TRACKING_TARGET}` } });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    const account = (await t.store.tenancy.listAccounts())[0]!;
    otherId = (await t.store.tenancy.createServer({ accountId: account.id, name: 'Other' }, Date.now())).id;
    otherKey = (await createKey(t.store, otherId, 'management')).key;
  });
  beforeEach(async () => {
    for (const s of [serverId, otherId]) {
      for (const kind of ['bounce', 'tracking'] as const) {
        for (const d of (await t.store.customDomains.list(s, kind, { limit: 100, offset: 0, direction: 'asc', sort: 'createdAt' })).rows) {
          await t.store.customDomains.delete(s, kind, d.id);
        }
      }
      await t.store.tenancy.updateServer(s, { tracking: { domain: null } });
    }
    for (const n of published.splice(0)) dns.remove(n);
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
  });

  for (const { kind, path, target } of RESOURCES) {
    describe(path, () => {
      const base = () => `/servers/${serverId}/${path}`;
      const add = (body: unknown, k = key, server = serverId) => v2<One>(t, 'POST', `/servers/${server}/${path}`, { key: k, body });
      /** A verified domain of the server (published and verified through the API). */
      async function verified(domain: string, server = serverId, k = key): Promise<Wire> {
        cname(domain, target);
        const id = (await add({ domain }, k, server)).body.data.domainId;
        const r = await v2<One>(t, 'POST', `/servers/${server}/${path}/${id}/verify`, { key: k });
        expect(r.body.data.verified).toBe(true);
        return r.body.data;
      }

      it('every route refuses a missing or foreign key and changes nothing', async () => {
        const id = (await add({ domain: `mail.auth-${kind}.example` })).body.data.domainId;
        const routes = [
          ['POST', base(), { body: { domain: `x.auth-${kind}.example` } }],
          ['GET', base(), {}],
          ['GET', `${base()}/${id}`, {}],
          ['PATCH', `${base()}/${id}`, { body: { isDefault: true } }],
          ['DELETE', `${base()}/${id}`, {}],
          ['GET', `${base()}/${id}/dns-records`, {}],
          ['POST', `${base()}/${id}/verify`, {}],
        ] as const;
        const before = await t.store.customDomains.get(serverId, kind, id);
        for (const [method, p, opts] of routes) {
          for (const [k, status, code] of [
            [null, 401, 'unauthorized'],
            [otherKey, 403, 'wrong_server'],
          ] as const) {
            const r = await v2<V2Error>(t, method, p, { ...opts, key: k });
            expect([method, p, r.status, r.body.error?.code]).toEqual([method, p, status, code]);
          }
        }
        expect(await rows()).toBe(1);
        expect(await t.store.customDomains.get(serverId, kind, id)).toEqual(before);
      });

      it('adds a domain (lower-cased), unverified, with the record to publish', async () => {
        const r = await add({ domain: 'Mail.Example.COM.' });
        expect(r.status).toBe(200);
        expect(r.body.data).toMatchObject({ domain: 'mail.example.com', isDefault: false, verified: false, verifiedOn: null, lastCheckedOn: null });
        expect(r.body.data.records).toEqual([{ type: 'CNAME', name: 'mail.example.com', expected: target, status: 'unchecked', found: [] }]);
        if (kind === 'tracking') expect(r.body.data.httpsEnabled).toBe(true);
        else expect(r.body.data).not.toHaveProperty('httpsEnabled');
        const got = await v2<One>(t, 'GET', `${base()}/${r.body.data.domainId}`, { key });
        expect(got.body.data).toEqual(r.body.data);
        expect(await dns.asked(`CNAME mail.example.com`)).toBe(0); // adding without isDefault does not look anything up
      });

      it('refuses invalid bodies and stores nothing', async () => {
        const cases: [unknown, number, string, string | undefined][] = [
          [{}, 400, 'validation_failed', 'domain'],
          [{ domain: 'not a domain' }, 400, 'validation_failed', 'domain'],
          [{ domain: 'localhost' }, 400, 'validation_failed', 'domain'],
          [{ domain: '192.0.2.1' }, 400, 'validation_failed', 'domain'],
          [{ domain: `${'a'.repeat(64)}.example.com` }, 400, 'validation_failed', 'domain'],
          [{ domain: target }, 400, 'validation_failed', 'domain'],
          [{ domain: 'ok.example.com', isDefault: 'yes' }, 400, 'validation_failed', 'isDefault'],
          [{ domain: 'ok.example.com', color: 'red' }, 400, 'unknown_field', 'color'],
        ];
        if (kind === 'bounce') cases.push([{ domain: 'ok.example.com', httpsEnabled: false }, 400, 'unknown_field', 'httpsEnabled']);
        for (const [body, status, code, field] of cases) {
          const r = await add(body);
          expect([body, r.status, r.body.error?.code, r.body.error?.field]).toEqual([body, status, code, field]);
        }
        const raw = await v2<V2Error>(t, 'POST', base(), { key, raw: '{"domain":', contentType: 'application/json' });
        expect([raw.status, raw.body.error.code]).toEqual([400, 'invalid_body']);
        expect(await rows()).toBe(0);
      });

      it('a domain is claimed once per kind in the whole instance: 409 domain_taken, also for another server', async () => {
        expect((await add({ domain: 'taken.example.com' })).status).toBe(200);
        for (const [k, s] of [
          [key, serverId],
          [otherKey, otherId],
        ] as const) {
          const r = await add({ domain: 'TAKEN.example.com' }, k, s);
          expect([r.status, r.body.error.code, r.body.error.field]).toEqual([409, 'domain_taken', 'domain']);
        }
        expect(await rows()).toBe(1);
        // The other kind is another claim.
        const other = RESOURCES.find((x) => x.kind !== kind)!;
        expect((await v2<One>(t, 'POST', `/servers/${otherId}/${other.path}`, { key: otherKey, body: { domain: 'taken.example.com' } })).status).toBe(200);
      });

      it('verify looks the CNAME up now: missing, mismatch, verified, and stores what it found', async () => {
        const id = (await add({ domain: 'v.example.com' })).body.data.domainId;
        const verify = () => v2<One>(t, 'POST', `${base()}/${id}/verify`, { key });
        let r = await verify();
        expect(r.status).toBe(200);
        expect(r.body.data).toMatchObject({ verified: false, records: [{ status: 'missing', found: [] }] });
        expect(r.body.data.lastCheckedOn).not.toBeNull();
        cname('v.example.com', 'elsewhere.example.net');
        r = await verify();
        expect(r.body.data).toMatchObject({ verified: false, records: [{ status: 'mismatch', found: ['elsewhere.example.net'] }] });
        cname('v.example.com', `${target.toUpperCase()}.`);
        r = await verify();
        expect(r.body.data).toMatchObject({ verified: true, records: [{ status: 'verified', found: [target] }] });
        expect(r.body.data.verifiedOn).not.toBeNull();
        const records = await v2<{ data: Rec[] }>(t, 'GET', `${base()}/${id}/dns-records`, { key });
        expect(records.body.data).toEqual([{ type: 'CNAME', name: 'v.example.com', expected: target, status: 'verified', found: [target] }]);
        expect((await t.store.customDomains.get(serverId, kind, id))!.verifiedAt).not.toBeNull();
      });

      it('only a verified domain becomes the default (409 domain_not_verified, nothing changed)', async () => {
        const id = (await add({ domain: 'unverified.example.com' })).body.data.domainId;
        const before = await t.store.customDomains.get(serverId, kind, id);
        const r = await v2<One>(t, 'PATCH', `${base()}/${id}`, { key, body: { isDefault: true } });
        expect([r.status, r.body.error.code, r.body.error.field]).toEqual([409, 'domain_not_verified', 'isDefault']);
        expect(r.body.error.message).toContain(target);
        expect(await t.store.customDomains.get(serverId, kind, id)).toEqual(before);
        // Added as the default without its record: refused, nothing stored.
        const direct = await add({ domain: 'nodns.example.com', isDefault: true });
        expect([direct.status, direct.body.error.code]).toEqual([409, 'domain_not_verified']);
        expect(await rows()).toBe(1);
        expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBeNull();
      });

      it('added as the default with its record published: checked, stored verified and the default', async () => {
        cname('direct.example.com', target);
        const r = await add({ domain: 'direct.example.com', isDefault: true });
        expect(r.status).toBe(200);
        expect(r.body.data).toMatchObject({ isDefault: true, verified: true, records: [{ status: 'verified' }] });
        expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBe(kind === 'tracking' ? 'https://direct.example.com' : null);
      });

      it('PATCH isDefault moves the default; false clears it; an empty body is refused', async () => {
        const a = await verified('a.example.com');
        const b = await verified('b.example.com');
        const patch = (id: number, body: unknown) => v2<One>(t, 'PATCH', `${base()}/${id}`, { key, body });
        expect((await patch(a.domainId, { isDefault: true })).body.data.isDefault).toBe(true);
        expect((await patch(b.domainId, { isDefault: true })).body.data.isDefault).toBe(true);
        expect((await t.store.customDomains.get(serverId, kind, a.domainId))!.isDefault).toBe(false);
        if (kind === 'tracking') expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBe('https://b.example.com');
        const cleared = await patch(b.domainId, { isDefault: false });
        expect(cleared.body.data.isDefault).toBe(false);
        expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBeNull();
        const before = await t.store.customDomains.get(serverId, kind, b.domainId);
        const empty = await patch(b.domainId, {});
        expect([empty.status, empty.body.error.code]).toEqual([400, 'validation_failed']);
        const unknown = await patch(b.domainId, { domain: 'c.example.com', isDefault: true });
        expect([unknown.status, unknown.body.error.code, unknown.body.error.field]).toEqual([400, 'unknown_field', 'domain']);
        const wrongType = await patch(b.domainId, { isDefault: 'yes' });
        expect([wrongType.status, wrongType.body.error.code, wrongType.body.error.field]).toEqual([400, 'validation_failed', 'isDefault']);
        expect(await t.store.customDomains.get(serverId, kind, b.domainId)).toEqual(before);
      });

      if (kind === 'tracking') {
        it('httpsEnabled false gives the server an http:// tracking origin', async () => {
          const d = await verified('t.example.com');
          await v2<One>(t, 'PATCH', `${base()}/${d.domainId}`, { key, body: { isDefault: true } });
          const r = await v2<One>(t, 'PATCH', `${base()}/${d.domainId}`, { key, body: { httpsEnabled: false } });
          expect(r.body.data).toMatchObject({ httpsEnabled: false, isDefault: true });
          expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBe('http://t.example.com');
        });
      }

      it('a verified default whose record is gone is un-verified and stops being the default', async () => {
        const d = await verified('gone.example.com');
        await v2<One>(t, 'PATCH', `${base()}/${d.domainId}`, { key, body: { isDefault: true } });
        dns.set('gone.example.com', { CNAME: 'elsewhere.example.net' });
        const r = await v2<One>(t, 'POST', `${base()}/${d.domainId}/verify`, { key });
        expect(r.body.data).toMatchObject({ verified: false, isDefault: false, records: [{ status: 'mismatch' }] });
        expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBeNull();
      });

      it("lists the server's domains, paged and sorted; refuses unknown parameters", async () => {
        for (const n of ['c', 'a', 'b']) await add({ domain: `${n}.list.example.com` });
        await add({ domain: 'other.list.example.com' }, otherKey, otherId);
        const r = await v2<Many>(t, 'GET', base(), { key, query: { sortField: 'domain', sortDirection: 'dsc', pageSize: 2, pageNumber: 0 } });
        expect(r.status).toBe(200);
        expect([r.body.total, r.body.data.map((d) => d.domain)]).toEqual([3, ['c.list.example.com', 'b.list.example.com']]);
        const p2 = await v2<Many>(t, 'GET', base(), { key, query: { sortField: 'domain', sortDirection: 'dsc', pageSize: 2, pageNumber: 1 } });
        expect(p2.body.data.map((d) => d.domain)).toEqual(['a.list.example.com']);
        const bad = await v2<Many>(t, 'GET', base(), { key, query: { pagesize: 2 } });
        expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'unknown_field', 'pagesize']);
      });

      it("deletes a domain; deleting the default clears the server's default", async () => {
        const d = await verified('del.example.com');
        await v2<One>(t, 'PATCH', `${base()}/${d.domainId}`, { key, body: { isDefault: true } });
        const r = await v2<{ data: unknown }>(t, 'DELETE', `${base()}/${d.domainId}`, { key });
        expect(r.body.data).toEqual({ domainId: d.domainId, domain: 'del.example.com', deleted: true, wasDefault: true });
        expect(await rows()).toBe(0);
        expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBeNull();
        const again = await v2<V2Error>(t, 'DELETE', `${base()}/${d.domainId}`, { key });
        expect([again.status, again.body.error.code]).toEqual([404, 'not_found']);
      });

      it("another server's domain id under one's own server is 404 on every route, and nothing changes", async () => {
        const foreign = await verified('foreign.example.com', otherId, otherKey);
        const id = foreign.domainId;
        const before = await t.store.customDomains.get(otherId, kind, id);
        for (const [method, p, opts] of [
          ['GET', `${base()}/${id}`, {}],
          ['PATCH', `${base()}/${id}`, { body: { isDefault: true } }],
          ['DELETE', `${base()}/${id}`, {}],
          ['GET', `${base()}/${id}/dns-records`, {}],
          ['POST', `${base()}/${id}/verify`, {}],
        ] as const) {
          const r = await v2<V2Error>(t, method, p, { ...opts, key });
          expect([method, p, r.status, r.body.error.code]).toEqual([method, p, 404, 'not_found']);
        }
        expect(await t.store.customDomains.get(otherId, kind, id)).toEqual(before);
        // The id of a domain of the other kind is not found under this resource either.
        const other = RESOURCES.find((x) => x.kind !== kind)!;
        const otherKind = (await v2<One>(t, 'POST', `/servers/${serverId}/${other.path}`, { key, body: { domain: 'kind.example.com' } })).body.data.domainId;
        expect((await v2<V2Error>(t, 'GET', `${base()}/${otherKind}`, { key })).status).toBe(404);
      });
    });
  }
});
