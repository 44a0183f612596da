import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import type { SuppressionWire } from '../../src/api/v2/suppressions/wire.js';

describe(`suppression routes, /api/v2/servers/:serverId/suppressions (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let key: string;
  let base: string;
  const all = async () => (await t.store.suppressions.search(serverId, { sort: 'address', direction: 'asc', limit: 10_000, offset: 0 })).rows;
  const lookup = (emailAddress: string) => v2<{ data: SuppressionWire } & V2Error>(t, 'GET', base, { key, query: { emailAddress } });
  const search = (query: Record<string, string | number> = {}) =>
    v2<{ data: SuppressionWire[]; total: number } & V2Error>(t, 'GET', `${base}/search`, { key, query });
  const download = (query: Record<string, string | number> = {}) => v2<string>(t, 'GET', `${base}/download`, { key, query });

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    base = `/servers/${serverId}/suppressions`;
  });
  beforeEach(async () => {
    await t.store.suppressions.remove(
      serverId,
      (await all()).map((s) => s.address),
    );
  });
  afterAll(async () => {
    await t.close();
  });

  describe('every route sits behind management-key authentication', () => {
    const routes = (sid: number) =>
      [
        ['GET', `/servers/${sid}/suppressions`, { query: { emailAddress: 'held@example.com' } }],
        ['POST', `/servers/${sid}/suppressions`, { body: { emailAddress: 'new@example.com' } }],
        ['DELETE', `/servers/${sid}/suppressions`, { query: { emailAddress: 'held@example.com' } }],
        ['GET', `/servers/${sid}/suppressions/search`, {}],
        ['GET', `/servers/${sid}/suppressions/download`, {}],
        ['POST', `/servers/${sid}/suppressions/bulk-remove`, { body: { emailAddresses: ['held@example.com'] } }],
      ] as const;

    it('refuses a missing, injection, revoked or foreign key on each route and changes nothing', async () => {
      await t.store.suppressions.add(serverId, [{ address: 'held@example.com', reason: 'Bounce' }], Date.now());
      const revoked = await createKey(t.store, serverId, 'management');
      await t.store.tenancy.revokeApiKey(revoked.publicId, Date.now());
      const account = (await t.store.tenancy.listAccounts())[0]!;
      const foreignServer = await t.store.tenancy.createServer({ accountId: account.id, name: 'Foreign' }, Date.now());
      const foreign = await createKey(t.store, foreignServer.id, 'management');
      const cases = [
        [null, 401, 'unauthorized'],
        [t.credentials.apiKey, 403, 'insufficient_scope'],
        [revoked.key, 401, 'unauthorized'],
        [foreign.key, 403, 'wrong_server'],
      ] as const;
      for (const [method, path, opts] of routes(serverId)) {
        for (const [k, status, code] of cases) {
          const r = await v2<V2Error>(t, method, path, { ...opts, key: k });
          expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, status, code]);
          expect(r.text).not.toContain('held@example.com');
        }
      }
      expect((await all()).map((x) => x.address)).toEqual(['held@example.com']);
    });
  });

  describe('add, look up, remove', () => {
    it('adds one address (CustomerRequest by default), lower-cased, and looks it up case-insensitively', async () => {
      const before = Date.now();
      const r = await v2<{ data: SuppressionWire }>(t, 'POST', base, { key, body: { emailAddress: 'Alice@Example.COM' } });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({ emailAddress: 'alice@example.com', reason: 'CustomerRequest', detail: null });
      expect(Date.parse(r.body.data.createdOn)).toBeGreaterThanOrEqual(before);
      expect(r.body.data.lastUpdate).toBe(r.body.data.createdOn);
      const found = await lookup('ALICE@example.com');
      expect(found.status).toBe(200);
      expect(found.body).toEqual({ data: r.body.data });
    });

    it('takes a reason, and adding a listed address again updates its reason and lastUpdate but keeps createdOn', async () => {
      const first = await v2<{ data: SuppressionWire }>(t, 'POST', base, { key, body: { emailAddress: 'bob@example.com', reason: 'Complaint' } });
      expect(first.body.data.reason).toBe('Complaint');
      await new Promise((r) => setTimeout(r, 5));
      const again = await v2<{ data: SuppressionWire }>(t, 'POST', base, { key, body: { emailAddress: 'BOB@example.com', reason: 'Unsubscribe' } });
      expect(again.body.data).toMatchObject({ emailAddress: 'bob@example.com', reason: 'Unsubscribe', createdOn: first.body.data.createdOn });
      expect(Date.parse(again.body.data.lastUpdate)).toBeGreaterThan(Date.parse(first.body.data.createdOn));
      expect((await all()).length).toBe(1);
    });

    it('refuses an invalid address or reason with a clear error and stores nothing', async () => {
      for (const emailAddress of ['not-an-address', 'a@b', 'two@@example.com', ' padded@example.com', `${'l'.repeat(65)}@example.com`, '']) {
        const r = await v2<V2Error>(t, 'POST', base, { key, body: { emailAddress } });
        expect(r.status, emailAddress).toBe(400);
        expect(r.body.error).toEqual({ code: 'validation_failed', message: 'emailAddress is not a valid email address', field: 'emailAddress' });
      }
      const reason = await v2<V2Error>(t, 'POST', base, { key, body: { emailAddress: 'ok@example.com', reason: 'Spite' } });
      expect(reason.body.error).toEqual({
        code: 'validation_failed',
        field: 'reason',
        message: 'reason must be one of: Failure, Bounce, Unsubscribe, Complaint, CustomerRequest',
      });
      expect(await all()).toEqual([]);
    });

    it('answers 404 not_found for an address that is not listed, and 400 for an invalid or missing one', async () => {
      const r = await lookup('nobody@example.com');
      expect(r.status).toBe(404);
      expect(r.body.error).toEqual({ code: 'not_found', message: `nobody@example.com is not on server ${serverId}'s suppression list`, field: 'emailAddress' });
      const bad = await lookup('nobody');
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
      const missing = await v2<V2Error>(t, 'GET', base, { key });
      expect(missing.body.error).toEqual({ code: 'validation_failed', message: 'query parameter "emailAddress" is required', field: 'emailAddress' });
    });

    it('removes one address (404 when it was not listed) and leaves the others', async () => {
      await t.store.suppressions.add(
        serverId,
        [
          { address: 'c@example.com', reason: 'Bounce' },
          { address: 'd@example.com', reason: 'Bounce' },
        ],
        Date.now(),
      );
      const r = await v2<{ data: unknown }>(t, 'DELETE', base, { key, query: { emailAddress: 'C@Example.com' } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ data: { emailAddress: 'c@example.com', removed: true } });
      const again = await v2<V2Error>(t, 'DELETE', base, { key, query: { emailAddress: 'c@example.com' } });
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('not_found');
      const bad = await v2<V2Error>(t, 'DELETE', base, { key, query: { emailAddress: 'd@' } });
      expect(bad.status).toBe(400);
      expect((await all()).map((s) => s.address)).toEqual(['d@example.com']);
    });

    it("keeps each server's list to itself", async () => {
      const account = (await t.store.tenancy.listAccounts())[0]!;
      const s2 = await t.store.tenancy.createServer({ accountId: account.id, name: 'Second' }, Date.now());
      await t.store.suppressions.add(s2.id, [{ address: 'shared@example.com', reason: 'Bounce' }], Date.now());
      expect((await lookup('shared@example.com')).status).toBe(404);
      expect((await search()).body.total).toBe(0);
    });
  });

  describe('search', () => {
    const seed = async () => {
      const t0 = 1_700_000_000_000;
      // Inserted one by one so lastUpdate orders them: carol, alice, dave_x, bob, erin.
      for (const [i, address] of ['carol@one.example', 'alice@two.example', 'dave_x@one.example', 'bob@two.example', 'erin@three.example'].entries()) {
        await t.store.suppressions.add(serverId, [{ address, reason: i % 2 === 0 ? 'Bounce' : 'Complaint', detail: `d${i}` }], t0 + i * 1000);
      }
    };

    it('pages the list newest first by default, with the total and 25 per page', async () => {
      await seed();
      const r = await search();
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(5);
      expect(r.body.data.map((s) => s.emailAddress)).toEqual([
        'erin@three.example',
        'bob@two.example',
        'dave_x@one.example',
        'alice@two.example',
        'carol@one.example',
      ]);
      expect(r.body.data[0]).toEqual({
        emailAddress: 'erin@three.example',
        reason: 'Bounce',
        detail: 'd4',
        createdOn: '2023-11-14T22:13:24.000Z',
        lastUpdate: '2023-11-14T22:13:24.000Z',
      });
      const many = Array.from({ length: 30 }, (_, i) => ({ address: `p${String(i).padStart(2, '0')}@page.example`, reason: 'Bounce' as const }));
      await t.store.suppressions.add(serverId, many, Date.now());
      expect((await search()).body.data).toHaveLength(25);
    });

    it('sorts by emailAddress or suppressionLastUpdate in either direction (dsc and desc alike) and pages without overlap', async () => {
      await seed();
      const names = async (q: Record<string, string | number>) => (await search(q)).body.data.map((s) => s.emailAddress.split('@')[0]);
      expect(await names({ sortField: 'emailAddress', sortDirection: 'asc' })).toEqual(['alice', 'bob', 'carol', 'dave_x', 'erin']);
      expect(await names({ sortField: 'emailAddress', sortDirection: 'dsc' })).toEqual(['erin', 'dave_x', 'carol', 'bob', 'alice']);
      expect(await names({ sortField: 'emailAddress', sortDirection: 'desc' })).toEqual(['erin', 'dave_x', 'carol', 'bob', 'alice']);
      expect(await names({ sortField: 'suppressionLastUpdate', sortDirection: 'asc' })).toEqual(['carol', 'alice', 'dave_x', 'bob', 'erin']);
      const pages = [];
      for (let pageNumber = 0; pageNumber < 3; pageNumber++)
        pages.push(await names({ sortField: 'emailAddress', sortDirection: 'asc', pageSize: 2, pageNumber }));
      expect(pages).toEqual([['alice', 'bob'], ['carol', 'dave_x'], ['erin']]);
      const past = await search({ pageSize: 2, pageNumber: 9 });
      expect(past.body).toEqual({ data: [], total: 5 });
    });

    it('filters by startsWith and contains, case-insensitively and literally (no wildcards)', async () => {
      await seed();
      const names = async (q: Record<string, string | number>) => {
        const r = await search({ sortField: 'emailAddress', sortDirection: 'asc', ...q });
        return { names: r.body.data.map((s) => s.emailAddress), total: r.body.total };
      };
      expect(await names({ contains: 'TWO.example' })).toEqual({ names: ['alice@two.example', 'bob@two.example'], total: 2 });
      expect(await names({ startsWith: 'Ca' })).toEqual({ names: ['carol@one.example'], total: 1 });
      expect(await names({ contains: '_' })).toEqual({ names: ['dave_x@one.example'], total: 1 });
      expect(await names({ contains: '%' })).toEqual({ names: [], total: 0 });
      expect(await names({ startsWith: 'e', contains: 'three' })).toEqual({ names: ['erin@three.example'], total: 1 });
      const empty = await search({ contains: '' });
      expect(empty.status).toBe(400);
      expect(empty.body.error).toMatchObject({ code: 'validation_failed', field: 'contains' });
    });
  });

  describe('download', () => {
    it('streams a CSV with a header row, RFC 4180 quoting and formula cells defused', async () => {
      const t0 = 1_700_000_000_000;
      await t.store.suppressions.add(serverId, [{ address: 'plain@example.com', reason: 'Bounce', detail: 'FailureCode 2001: 550 5.1.1 User unknown' }], t0);
      await t.store.suppressions.add(serverId, [{ address: 'quoted@example.com', reason: 'Complaint', detail: 'said "stop", twice\r\nand again' }], t0 + 1);
      await t.store.suppressions.add(
        serverId,
        [{ address: 'formula@example.com', reason: 'Failure', detail: '=HYPERLINK("http://evil.example","x")' }],
        t0 + 2,
      );
      await t.store.suppressions.add(serverId, [{ address: '-minus@example.com', reason: 'CustomerRequest', detail: null }], t0 + 3);
      await t.store.suppressions.add(serverId, [{ address: 'at@example.com', reason: 'Unsubscribe', detail: '@SUM(1,2)' }], t0 + 4);
      const r = await download({ sortField: 'suppressionLastUpdate', sortDirection: 'asc' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(r.headers.get('content-disposition')).toBe(`attachment; filename="suppressions-${serverId}.csv"`);
      const ts = (ms: number) => new Date(ms).toISOString();
      expect(r.text).toBe(
        [
          'emailAddress,reason,detail,createdOn,lastUpdate',
          `plain@example.com,Bounce,FailureCode 2001: 550 5.1.1 User unknown,${ts(t0)},${ts(t0)}`,
          `quoted@example.com,Complaint,"said ""stop"", twice\r\nand again",${ts(t0 + 1)},${ts(t0 + 1)}`,
          `formula@example.com,Failure,"'=HYPERLINK(""http://evil.example"",""x"")",${ts(t0 + 2)},${ts(t0 + 2)}`,
          `'-minus@example.com,CustomerRequest,,${ts(t0 + 3)},${ts(t0 + 3)}`,
          `at@example.com,Unsubscribe,"'@SUM(1,2)",${ts(t0 + 4)},${ts(t0 + 4)}`,
          '',
        ].join('\r\n'),
      );
    });

    it('covers a list longer than one store batch, in order, each address once; filters and an empty list work', async () => {
      const rows = Array.from({ length: 2_345 }, (_, i) => ({ address: `u${String(i).padStart(5, '0')}@bulk.example`, reason: 'Bounce' as const }));
      // Several batches share one update time: keyset paging must not skip or repeat within a tie.
      for (let i = 0; i < rows.length; i += 500) await t.store.suppressions.add(serverId, rows.slice(i, i + 500), 1_700_000_000_000 + i);
      const r = await download({ sortField: 'suppressionLastUpdate', sortDirection: 'dsc' });
      const lines = r.text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('emailAddress,reason,detail,createdOn,lastUpdate');
      const got = lines.slice(1).map((l) => l.split(',')[0]!);
      expect(got).toHaveLength(rows.length);
      expect(new Set(got).size).toBe(rows.length);
      const expected = [...rows]
        .map((x, i) => ({ a: x.address, u: Math.floor(i / 500) }))
        .sort((x, y) => y.u - x.u || (x.a < y.a ? 1 : -1))
        .map((x) => x.a);
      expect(got).toEqual(expected);
      const byAddress = (await download({ sortField: 'emailAddress', sortDirection: 'asc', startsWith: 'U001' })).text.trimEnd().split('\r\n').slice(1);
      expect(byAddress.map((l) => l.split(',')[0])).toEqual(Array.from({ length: 100 }, (_, i) => `u${String(100 + i).padStart(5, '0')}@bulk.example`));
      await t.store.suppressions.remove(
        serverId,
        rows.map((x) => x.address),
      );
      expect((await download()).text).toBe('emailAddress,reason,detail,createdOn,lastUpdate\r\n');
      const unknown = await v2<V2Error>(t, 'GET', `${base}/download`, { key, query: { pageSize: 10 } });
      expect(unknown.body.error).toMatchObject({ code: 'unknown_field', field: 'pageSize' });
    });
  });

  describe('bulk-remove', () => {
    it('removes many addresses in one request and answers how many were listed', async () => {
      await t.store.suppressions.add(
        serverId,
        ['a', 'b', 'c', 'd'].map((n) => ({ address: `${n}@bulk.example`, reason: 'Bounce' as const })),
        Date.now(),
      );
      const r = await v2<{ data: { requested: number; removed: number } }>(t, 'POST', `${base}/bulk-remove`, {
        key,
        body: { emailAddresses: ['A@bulk.example', 'b@bulk.example', 'b@BULK.example', 'never@bulk.example'] },
      });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ data: { requested: 3, removed: 2 } });
      expect((await all()).map((s) => s.address)).toEqual(['c@bulk.example', 'd@bulk.example']);
    });

    it('accepts 1,000 addresses; refuses 1,001 (too_many_items) or any invalid one, removing nothing', async () => {
      const list = Array.from({ length: 1_001 }, (_, i) => `r${i}@bulk.example`);
      await t.store.suppressions.add(
        serverId,
        list.map((address) => ({ address, reason: 'Bounce' as const })),
        Date.now(),
      );
      const tooMany = await v2<V2Error>(t, 'POST', `${base}/bulk-remove`, { key, body: { emailAddresses: list } });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error).toEqual({
        code: 'too_many_items',
        message: 'emailAddresses has more than 1000 items; nothing was changed',
        field: 'emailAddresses',
      });
      const oneBad = await v2<V2Error>(t, 'POST', `${base}/bulk-remove`, { key, body: { emailAddresses: ['r0@bulk.example', 'r1@bulk.example', 'oops'] } });
      expect(oneBad.status).toBe(400);
      expect(oneBad.body.error).toEqual({ code: 'validation_failed', message: 'emailAddresses[2] is not a valid email address', field: 'emailAddresses[2]' });
      const empty = await v2<V2Error>(t, 'POST', `${base}/bulk-remove`, { key, body: { emailAddresses: [] } });
      expect(empty.body.error).toMatchObject({ code: 'validation_failed', field: 'emailAddresses' });
      const notList = await v2<V2Error>(t, 'POST', `${base}/bulk-remove`, { key, body: { emailAddresses: 'r0@bulk.example', also: 1 } });
      expect(notList.status).toBe(400);
      expect((await all()).length).toBe(1_001);
      const ok = await v2<{ data: { requested: number; removed: number } }>(t, 'POST', `${base}/bulk-remove`, {
        key,
        body: { emailAddresses: list.slice(0, 1_000) },
      });
      expect(ok.body).toEqual({ data: { requested: 1_000, removed: 1_000 } });
      expect((await all()).map((s) => s.address)).toEqual(['r1000@bulk.example']);
    });
  });
});
