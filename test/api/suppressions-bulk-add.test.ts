import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';

interface BulkAdd {
  data: { received: number; added: number; updated: number; duplicates: number; refused: { index: number; emailAddress: string; message: string }[] };
}

/** POST /api/v2/servers/:serverId/suppressions/bulk-add: the control panel's file upload, in requests of up to 1,000. */
describe(`suppression bulk-add, /api/v2/servers/:serverId/suppressions/bulk-add (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let key: string;
  let path: string;
  const all = async () => (await t.store.suppressions.search(serverId, { sort: 'address', direction: 'asc', limit: 10_000, offset: 0 })).rows;
  const bulkAdd = (body: unknown, k: string | null = key) => v2<BulkAdd & V2Error>(t, 'POST', path, { key: k, body });

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    path = `/servers/${serverId}/suppressions/bulk-add`;
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

  it('needs a management key of the server: none, an injection key or a foreign key add nothing', async () => {
    const account = (await t.store.tenancy.listAccounts())[0]!;
    const other = await t.store.tenancy.createServer({ accountId: account.id, name: 'Other' }, Date.now());
    const foreign = await createKey(t.store, other.id, 'management');
    for (const [k, status, code] of [
      [null, 401, 'unauthorized'],
      [t.credentials.apiKey, 403, 'insufficient_scope'],
      [foreign.key, 403, 'wrong_server'],
    ] as const) {
      const r = await bulkAdd({ emailAddresses: ['a@bulk.example'] }, k);
      expect([r.status, r.body.error?.code]).toEqual([status, code]);
    }
    expect(await all()).toEqual([]);
  });

  it('adds the valid addresses (CustomerRequest by default), refuses each invalid one with its index and why, and counts every item', async () => {
    const r = await bulkAdd({
      emailAddresses: [
        'One@Bulk.example',
        'two@bulk.example',
        'not-an-address',
        '',
        'one@bulk.example',
        ' spaced@bulk.example ',
        'bad@@bulk.example',
        `${'x'.repeat(400)}@bulk.example`,
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({
      received: 8,
      added: 2,
      updated: 0,
      duplicates: 1,
      refused: [
        { index: 2, emailAddress: 'not-an-address', message: 'not an email address (no @)' },
        { index: 3, emailAddress: '', message: 'empty' },
        { index: 5, emailAddress: ' spaced@bulk.example ', message: 'has spaces around it' },
        { index: 6, emailAddress: 'bad@@bulk.example', message: 'not a valid email address' },
        { index: 7, emailAddress: `${'x'.repeat(320)}…`, message: 'longer than 320 characters' },
      ],
    });
    const { added, updated, duplicates, refused, received } = r.body.data;
    expect(added + updated + duplicates + refused.length).toBe(received);
    expect((await all()).map((s) => [s.address, s.reason, s.detail])).toEqual([
      ['one@bulk.example', 'CustomerRequest', null],
      ['two@bulk.example', 'CustomerRequest', null],
    ]);
  });

  it('takes a reason; a listed address counts as updated and takes the new reason, keeping its creation time', async () => {
    const t0 = Date.now() - 60_000;
    await t.store.suppressions.add(serverId, [{ address: 'held@bulk.example', reason: 'Bounce', detail: 'FailureCode 2001: 550 5.1.1' }], t0);
    const r = await bulkAdd({ emailAddresses: ['HELD@bulk.example', 'new@bulk.example'], reason: 'Unsubscribe' });
    expect(r.body.data).toEqual({ received: 2, added: 1, updated: 1, duplicates: 0, refused: [] });
    const rows = await all();
    expect(rows.map((s) => [s.address, s.reason])).toEqual([
      ['held@bulk.example', 'Unsubscribe'],
      ['new@bulk.example', 'Unsubscribe'],
    ]);
    expect(rows[0]!.createdAt).toBe(t0);
    expect(rows[0]!.updatedAt).toBeGreaterThan(t0);
  });

  it('answers all-refused without writing anything', async () => {
    const r = await bulkAdd({ emailAddresses: ['nope', 'also nope'] });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ received: 2, added: 0, updated: 0, duplicates: 0 });
    expect(r.body.data.refused.map((x) => x.index)).toEqual([0, 1]);
    expect(await all()).toEqual([]);
  });

  it('accepts 1,000 items; refuses 1,001 (too_many_items), an empty list, a bad reason or an object item whole, adding nothing', async () => {
    const list = Array.from({ length: 1_001 }, (_, i) => `m${i}@bulk.example`);
    const tooMany = await bulkAdd({ emailAddresses: list });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toEqual({
      code: 'too_many_items',
      message: 'emailAddresses has more than 1000 items; nothing was changed',
      field: 'emailAddresses',
    });
    const empty = await bulkAdd({ emailAddresses: [] });
    expect(empty.body.error).toMatchObject({ code: 'validation_failed', field: 'emailAddresses' });
    const badReason = await bulkAdd({ emailAddresses: ['a@bulk.example'], reason: 'Spite' });
    expect(badReason.body.error).toMatchObject({ code: 'validation_failed', field: 'reason' });
    const notString = await bulkAdd({ emailAddresses: ['a@bulk.example', { address: 'b@bulk.example' }] });
    expect(notString.body.error).toMatchObject({ code: 'validation_failed', field: 'emailAddresses[1]' });
    const unknown = await bulkAdd({ emailAddresses: ['a@bulk.example'], detail: 'x' });
    expect(unknown.body.error).toMatchObject({ code: 'unknown_field', field: 'detail' });
    expect(await all()).toEqual([]);
    const ok = await bulkAdd({ emailAddresses: list.slice(0, 1_000) });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ received: 1_000, added: 1_000, refused: [] });
    expect((await all()).length).toBe(1_000);
  });
});
