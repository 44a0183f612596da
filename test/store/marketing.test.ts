import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Contact, ImportContactRow, Store } from '../../src/store/store.js';

/** The marketing area of the Store (lists, contacts, custom fields, imports), the same assertions on SQLite and PostgreSQL. */
describe(`marketing in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let accountId: number;
  const now = 1_700_000_000_000;

  /** A fresh server per test: counts and listings then hold only what the test wrote. */
  const newServer = async (name: string) => (await store.tenancy.createServer({ accountId, name }, now)).id;
  const all = async (serverId: number) => (await store.marketing.searchContacts(serverId, {}, { limit: 1_000, offset: 0 })).rows;
  const byEmail = async (serverId: number, email: string) => (await store.marketing.searchContacts(serverId, { email }, { limit: 10, offset: 0 })).rows[0];
  const members = async (serverId: number, listId: number) => {
    const out: string[] = [];
    for await (const batch of store.marketing.streamContacts(serverId, listId, 100)) out.push(...batch.map((c) => c.email));
    return out;
  };
  const created = (r: Awaited<ReturnType<Store['marketing']['createContact']>>): Contact => {
    if (typeof r === 'string' || 'unknownField' in r) throw new Error(`not created: ${JSON.stringify(r)}`);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    accountId = (await store.tenancy.createAccount('A', now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('creates lists with unique names per server (a duplicate is null), counts their members, and lists them in creation order', async () => {
    const a = await newServer('lists-a');
    const b = await newServer('lists-b');
    const news = (await store.marketing.createList(a, 'News', now))!;
    expect(news).toEqual({ id: expect.any(Number), serverId: a, name: 'News', contactCount: 0, createdAt: now, updatedAt: now });
    expect(await store.marketing.createList(a, 'News', now + 1)).toBeNull();
    // Names are per server, and exact: another server, or another case, is another name.
    const theirs = (await store.marketing.createList(b, 'News', now))!;
    const lower = (await store.marketing.createList(a, 'news', now))!;
    for (const email of ['x@m.example', 'y@m.example']) await store.marketing.addContactToListByEmail(a, news.id, { email }, now);
    expect(await store.marketing.listLists(a)).toEqual([
      { ...news, contactCount: 2 },
      { ...lower, contactCount: 0 },
    ]);
    expect(await store.marketing.getList(a, news.id)).toEqual({ ...news, contactCount: 2 });
    expect(await store.marketing.getList(a, theirs.id)).toBeUndefined();
    expect(await store.marketing.getList(b, news.id)).toBeUndefined();
    expect(await store.marketing.listLists(b)).toEqual([theirs]);
  });

  it("renames a list unless another list has the name ('duplicate', nothing changed); another server's list is not found", async () => {
    const a = await newServer('rename-a');
    const b = await newServer('rename-b');
    const one = (await store.marketing.createList(a, 'One', now))!;
    const two = (await store.marketing.createList(a, 'Two', now))!;
    const theirs = (await store.marketing.createList(b, 'Theirs', now))!;
    expect(await store.marketing.renameList(a, one.id, 'Two', now + 1)).toBe('duplicate');
    expect(await store.marketing.getList(a, one.id)).toEqual(one);
    // Its own name again changes nothing, not even the update time.
    expect(await store.marketing.renameList(a, one.id, 'One', now + 2)).toEqual(one);
    expect(await store.marketing.renameList(a, one.id, 'Uno', now + 3)).toEqual({ ...one, name: 'Uno', updatedAt: now + 3 });
    // The old name is free again.
    expect(await store.marketing.renameList(a, two.id, 'One', now + 4)).toMatchObject({ id: two.id, name: 'One' });
    expect(await store.marketing.renameList(a, theirs.id, 'Mine', now + 5)).toBeUndefined();
    expect(await store.marketing.renameList(b, one.id, 'Mine', now + 5)).toBeUndefined();
    expect(await store.marketing.renameList(a, 987_654, 'Mine', now + 5)).toBeUndefined();
    expect(await store.marketing.listLists(b)).toEqual([theirs]);
    expect((await store.marketing.listLists(a)).map((l) => l.name)).toEqual(['Uno', 'One']);
  });

  it('deletes a list with its memberships and keeps its contacts; another server cannot delete it', async () => {
    const a = await newServer('delete-list-a');
    const b = await newServer('delete-list-b');
    const list = (await store.marketing.createList(a, 'Doomed', now))!;
    const other = (await store.marketing.createList(a, 'Other', now))!;
    for (const id of [list.id, other.id]) await store.marketing.addContactToListByEmail(a, id, { email: 'kept@m.example', firstName: 'K' }, now);
    expect(await store.marketing.deleteList(b, list.id)).toBe(false);
    expect(await store.marketing.getList(a, list.id)).toMatchObject({ contactCount: 1 });
    expect(await store.marketing.deleteList(a, list.id)).toBe(true);
    expect(await store.marketing.getList(a, list.id)).toBeUndefined();
    expect(await store.marketing.deleteList(a, list.id)).toBe(false);
    expect((await all(a)).map((c) => [c.email, c.firstName])).toEqual([['kept@m.example', 'K']]);
    expect(await members(a, other.id)).toEqual(['kept@m.example']);
    // The name can be used again, and the new list starts empty.
    const again = (await store.marketing.createList(a, 'Doomed', now + 1))!;
    expect(again.contactCount).toBe(0);
    expect(await members(a, again.id)).toEqual([]);
  });

  it("creates contacts once per address and server ('exists' changes nothing); an unknown custom field writes nothing", async () => {
    const a = await newServer('contacts-a');
    const b = await newServer('contacts-b');
    await store.marketing.createCustomField(a, 'Plan', 20, now);
    const c = created(
      await store.marketing.createContact(a, { email: 'ann@m.example', firstName: 'Ann', lastName: null, customFields: { plan: 'gold' } }, now),
    );
    // A field named in another case is the field as it was created.
    expect(c).toEqual({
      id: expect.any(Number),
      serverId: a,
      email: 'ann@m.example',
      firstName: 'Ann',
      lastName: null,
      unsubscribedAt: null,
      createdAt: now,
      updatedAt: now,
      customFields: { Plan: 'gold' },
    });
    expect(await store.marketing.getContact(a, c.id)).toEqual(c);
    expect(await store.marketing.createContact(a, { email: 'ann@m.example', firstName: 'Other', customFields: { Plan: 'tin' } }, now + 1)).toBe('exists');
    expect(await store.marketing.getContact(a, c.id)).toEqual(c);
    // Another server has its own contacts (and no field Plan).
    expect(await store.marketing.getContact(b, c.id)).toBeUndefined();
    expect(await store.marketing.createContact(b, { email: 'ann@m.example', customFields: { Plan: 'x' } }, now)).toEqual({ unknownField: 'Plan' });
    expect(await all(b)).toEqual([]);
    const theirs = created(await store.marketing.createContact(b, { email: 'ann@m.example' }, now));
    expect(theirs).toMatchObject({ serverId: b, firstName: null, customFields: {} });
    expect(theirs.id).not.toBe(c.id);
    // The refused create left no row behind: the address can still be created.
    expect(await store.marketing.createContact(a, { email: 'bob@m.example', customFields: { Plan: 'x', Color: 'red' } }, now)).toEqual({
      unknownField: 'Color',
    });
    expect(await byEmail(a, 'bob@m.example')).toBeUndefined();
    expect(created(await store.marketing.createContact(a, { email: 'bob@m.example' }, now)).customFields).toEqual({});
  });

  it('updates only what the patch names; an unknown field refuses the whole patch; deleting takes memberships and values with it', async () => {
    const a = await newServer('update-a');
    const b = await newServer('update-b');
    await store.marketing.createCustomField(a, 'Plan', 20, now);
    await store.marketing.createCustomField(a, 'City', 20, now);
    const list = (await store.marketing.createList(a, 'L', now))!;
    const c = created(
      await store.marketing.createContact(
        a,
        { email: 'cat@m.example', firstName: 'Cat', lastName: 'Stevens', customFields: { Plan: 'gold', City: 'Oslo' } },
        now,
      ),
    );
    expect(await store.marketing.updateContact(a, c.id, { lastName: null, customFields: { city: 'Bergen' } }, now + 1)).toEqual({
      ...c,
      lastName: null,
      updatedAt: now + 1,
      customFields: { Plan: 'gold', City: 'Bergen' },
    });
    expect(await store.marketing.updateContact(a, c.id, { firstName: 'Kit', customFields: { Plan: 'tin', Nope: 'x' } }, now + 2)).toEqual({
      unknownField: 'Nope',
    });
    expect(await store.marketing.getContact(a, c.id)).toMatchObject({ firstName: 'Cat', updatedAt: now + 1, customFields: { Plan: 'gold', City: 'Bergen' } });
    expect(await store.marketing.updateContact(b, c.id, { firstName: 'Evil' }, now + 3)).toBeUndefined();
    expect(await store.marketing.updateContact(a, 987_654, { firstName: 'Ghost' }, now + 3)).toBeUndefined();
    expect((await store.marketing.getContact(a, c.id))!.firstName).toBe('Cat');

    await store.marketing.addContactToList(a, list.id, c.id, now);
    expect(await store.marketing.deleteContact(b, c.id)).toBe(false);
    expect(await store.marketing.deleteContact(a, c.id)).toBe(true);
    expect(await store.marketing.getContact(a, c.id)).toBeUndefined();
    expect(await store.marketing.deleteContact(a, c.id)).toBe(false);
    expect(await store.marketing.getList(a, list.id)).toMatchObject({ contactCount: 0 });
    // A new contact of the same address starts without the old one's values.
    expect(created(await store.marketing.createContact(a, { email: 'cat@m.example' }, now + 4)).customFields).toEqual({});
  });

  it('searches by exact address or by prefix (a range: _ and % are plain characters), oldest first, with paging and a total', async () => {
    const a = await newServer('search-a');
    const b = await newServer('search-b');
    const emails = ['ab@s.example', 'a_b@s.example', 'a%b@s.example', 'abc@s.example', 'b@s.example', 'a@t.example'];
    const ids: number[] = [];
    for (const email of emails) ids.push(created(await store.marketing.createContact(a, { email }, now)).id);
    await store.marketing.createContact(b, { email: 'ab@s.example' }, now);
    const search = async (q: { email?: string; startsWith?: string }, limit = 100, offset = 0, serverId = a) => {
      const r = await store.marketing.searchContacts(serverId, q, { limit, offset });
      return [r.rows.map((c) => c.email), r.total];
    };
    expect(await search({})).toEqual([emails, 6]);
    expect(await search({}, 2, 3)).toEqual([emails.slice(3, 5), 6]);
    expect(await search({}, 2, 6)).toEqual([[], 6]);
    expect(await search({ email: 'ab@s.example' })).toEqual([['ab@s.example'], 1]);
    expect(await search({ email: 'nobody@s.example' })).toEqual([[], 0]);
    expect(await search({ startsWith: 'ab' })).toEqual([['ab@s.example', 'abc@s.example'], 2]);
    expect(await search({ startsWith: 'a_' })).toEqual([['a_b@s.example'], 1]);
    expect(await search({ startsWith: 'a%' })).toEqual([['a%b@s.example'], 1]);
    expect(await search({ startsWith: 'a' }, 3, 1)).toEqual([['a_b@s.example', 'a%b@s.example', 'abc@s.example'], 5]);
    expect(await search({ startsWith: 'ab', email: 'abc@s.example' })).toEqual([['abc@s.example'], 1]);
    expect(await search({}, 100, 0, b)).toEqual([['ab@s.example'], 1]);
    expect((await store.marketing.searchContacts(a, {}, { limit: 100, offset: 0 })).rows.map((c) => c.id)).toEqual(ids);
  });

  it("adds to lists by id ('no-list', 'no-contact', added once) or by address (creating the contact or reusing it), and removes", async () => {
    const a = await newServer('members-a');
    const b = await newServer('members-b');
    const list = (await store.marketing.createList(a, 'L', now))!;
    const theirList = (await store.marketing.createList(b, 'L', now))!;
    const c = created(await store.marketing.createContact(a, { email: 'dan@m.example', firstName: 'Dan' }, now));
    const theirs = created(await store.marketing.createContact(b, { email: 'eve@m.example' }, now));
    expect(await store.marketing.addContactToList(a, theirList.id, c.id, now)).toBe('no-list');
    expect(await store.marketing.addContactToList(a, list.id, theirs.id, now)).toBe('no-contact');
    expect(await store.marketing.addContactToList(a, list.id, c.id, now)).toEqual({ added: true });
    expect(await store.marketing.addContactToList(a, list.id, c.id, now + 1)).toEqual({ added: false });

    // By address: an existing contact keeps its names; a new one is created with the given ones.
    expect(await store.marketing.addContactToListByEmail(a, list.id, { email: 'dan@m.example', firstName: 'Daniel' }, now + 2)).toEqual({
      contact: c,
      added: false,
    });
    const fay = await store.marketing.addContactToListByEmail(a, list.id, { email: 'fay@m.example', firstName: 'Fay', lastName: 'Wray' }, now + 3);
    expect(fay).toEqual({
      contact: {
        id: expect.any(Number),
        serverId: a,
        email: 'fay@m.example',
        firstName: 'Fay',
        lastName: 'Wray',
        unsubscribedAt: null,
        createdAt: now + 3,
        updatedAt: now + 3,
        customFields: {},
      },
      added: true,
    });
    // An unknown list (or another server's) creates no contact.
    expect(await store.marketing.addContactToListByEmail(a, theirList.id, { email: 'ghost@m.example' }, now)).toBeUndefined();
    expect(await byEmail(a, 'ghost@m.example')).toBeUndefined();
    expect(await members(b, theirList.id)).toEqual([]);
    expect(await members(a, list.id)).toEqual(['dan@m.example', 'fay@m.example']);

    expect(await store.marketing.removeContactFromList(a, theirList.id, 'dan@m.example')).toBe('no-list');
    expect(await store.marketing.removeContactFromList(a, list.id, 'nobody@m.example')).toBe(false);
    expect(await store.marketing.removeContactFromList(a, list.id, 'dan@m.example')).toBe(true);
    expect(await store.marketing.removeContactFromList(a, list.id, 'dan@m.example')).toBe(false);
    expect(await members(a, list.id)).toEqual(['fay@m.example']);
    expect(await store.marketing.getContact(a, c.id)).toEqual(c);
  });

  it("creates custom fields unique whatever their case ('duplicate') up to a limit ('limit'); deleting one takes every contact's value", async () => {
    const a = await newServer('fields-a');
    const b = await newServer('fields-b');
    const plan = await store.marketing.createCustomField(a, 'Plan', 2, now);
    expect(plan).toEqual({ id: expect.any(Number), serverId: a, name: 'Plan', createdAt: now });
    expect(await store.marketing.createCustomField(a, 'PLAN', 2, now)).toBe('duplicate');
    const city = await store.marketing.createCustomField(a, 'City', 2, now + 1);
    expect(await store.marketing.createCustomField(a, 'Zip', 2, now)).toBe('limit');
    // The name check comes first: a duplicate is a duplicate also at the limit.
    expect(await store.marketing.createCustomField(a, 'city', 2, now)).toBe('duplicate');
    expect(await store.marketing.createCustomField(b, 'Plan', 2, now)).toMatchObject({ serverId: b, name: 'Plan' });
    expect(await store.marketing.listCustomFields(a)).toEqual([plan, city]);

    const c = created(await store.marketing.createContact(a, { email: 'gil@m.example', customFields: { Plan: 'gold', City: 'Rome' } }, now));
    expect(await store.marketing.deleteCustomField(b, 'City')).toBe(false);
    expect(await store.marketing.deleteCustomField(a, 'cITY')).toBe(true);
    expect(await store.marketing.deleteCustomField(a, 'City')).toBe(false);
    expect((await store.marketing.getContact(a, c.id))!.customFields).toEqual({ Plan: 'gold' });
    expect(await store.marketing.listCustomFields(a)).toEqual([plan]);
    // The deleted name is free again, and the new field has no old values.
    expect(await store.marketing.createCustomField(a, 'City', 2, now + 2)).toMatchObject({ name: 'City' });
    expect((await store.marketing.getContact(a, c.id))!.customFields).toEqual({ Plan: 'gold' });
  });

  it('unsubscribes a contact once (the first time is kept); an unknown address, or another server’s, is undefined', async () => {
    const a = await newServer('unsub-a');
    const b = await newServer('unsub-b');
    const c = created(await store.marketing.createContact(a, { email: 'hal@m.example' }, now));
    const theirs = created(await store.marketing.createContact(b, { email: 'hal@m.example' }, now));
    expect(await store.marketing.unsubscribeContact(a, 'hal@m.example', now + 5)).toEqual({ ...c, unsubscribedAt: now + 5, updatedAt: now + 5 });
    expect(await store.marketing.unsubscribeContact(a, 'hal@m.example', now + 9)).toEqual({ ...c, unsubscribedAt: now + 5, updatedAt: now + 5 });
    expect(await store.marketing.unsubscribeContact(a, 'nobody@m.example', now)).toBeUndefined();
    expect(await store.marketing.getContact(b, theirs.id)).toEqual(theirs);
  });

  it('imports a batch: created and updated counted by distinct address, the last row of an address wins, empty values remove', async () => {
    const a = await newServer('import-a');
    const b = await newServer('import-b');
    await store.marketing.createCustomField(a, 'Plan', 20, now);
    await store.marketing.createCustomField(a, 'City', 20, now);
    const list = (await store.marketing.createList(a, 'Imported', now))!;
    const old = created(
      await store.marketing.createContact(
        a,
        { email: 'old@m.example', firstName: 'Old', lastName: 'Timer', customFields: { Plan: 'gold', City: 'Oslo' } },
        now,
      ),
    );
    const rows: ImportContactRow[] = [
      { email: 'new1@m.example', firstName: 'First', lastName: null, customFields: { plan: 'tin' } },
      { email: 'old@m.example', firstName: 'Renamed', lastName: 'Timer', customFields: { City: '' } },
      { email: 'new2@m.example', firstName: 'Second', lastName: 'Try', customFields: {} },
      { email: 'new1@m.example', firstName: 'Later', lastName: 'Row', customFields: { Plan: 'iron' } },
    ];
    expect(await store.marketing.importContacts(a, list.id, rows, now + 1)).toEqual({ created: 2, updated: 1 });
    const got = await all(a);
    expect(got.map((c) => [c.email, c.firstName, c.lastName, c.customFields])).toEqual([
      ['old@m.example', 'Renamed', 'Timer', { Plan: 'gold' }],
      ['new1@m.example', 'Later', 'Row', { Plan: 'iron' }],
      ['new2@m.example', 'Second', 'Try', {}],
    ]);
    expect(got[0]).toMatchObject({ id: old.id, createdAt: now, updatedAt: now + 1 });
    expect(got[1]).toMatchObject({ createdAt: now + 1, updatedAt: now + 1 });
    expect(await members(a, list.id)).toEqual(['old@m.example', 'new1@m.example', 'new2@m.example']);
    // Importing the same rows again creates nothing and adds no membership twice.
    expect(await store.marketing.importContacts(a, list.id, rows, now + 2)).toEqual({ created: 0, updated: 3 });
    expect(await store.marketing.getList(a, list.id)).toMatchObject({ contactCount: 3 });
    expect(await store.marketing.importContacts(a, list.id, [], now)).toEqual({ created: 0, updated: 0 });
    expect(await all(b)).toEqual([]);
  });

  it('keeps the stored names of a row that leaves them undefined, also beside rows that set them', async () => {
    const a = await newServer('import-names');
    const list = (await store.marketing.createList(a, 'L', now))!;
    for (const email of ['keep@m.example', 'set@m.example']) await store.marketing.createContact(a, { email, firstName: 'Stored', lastName: 'Name' }, now);
    // A batch whose rows name different columns: each row keeps what it does not name.
    const rows: ImportContactRow[] = [{ email: 'keep@m.example' }, { email: 'set@m.example', firstName: 'Given', lastName: null }];
    expect(await store.marketing.importContacts(a, list.id, rows, now + 1)).toEqual({ created: 0, updated: 2 });
    expect((await all(a)).map((c) => [c.email, c.firstName, c.lastName])).toEqual([
      ['keep@m.example', 'Stored', 'Name'],
      ['set@m.example', 'Given', null],
    ]);
    expect(await store.marketing.importContacts(a, list.id, [{ email: 'keep@m.example', lastName: 'Only' }], now + 2)).toEqual({ created: 0, updated: 1 });
    expect((await byEmail(a, 'keep@m.example'))!).toMatchObject({ firstName: 'Stored', lastName: 'Only' });
  });

  it("refuses an import to a missing or another server's list ('no-list') or with an unknown field, writing nothing of the batch", async () => {
    const a = await newServer('import-refused-a');
    const b = await newServer('import-refused-b');
    await store.marketing.createCustomField(a, 'Plan', 20, now);
    const list = (await store.marketing.createList(a, 'L', now))!;
    const theirList = (await store.marketing.createList(b, 'L', now))!;
    const before = created(await store.marketing.createContact(a, { email: 'old@m.example', firstName: 'Old', customFields: { Plan: 'gold' } }, now));
    const rows: ImportContactRow[] = [
      { email: 'old@m.example', firstName: 'Changed', customFields: { Plan: 'tin' } },
      { email: 'new@m.example', firstName: 'New' },
    ];
    expect(await store.marketing.importContacts(a, theirList.id, rows, now + 1)).toBe('no-list');
    expect(await store.marketing.importContacts(a, 987_654, rows, now + 1)).toBe('no-list');
    expect(await store.marketing.importContacts(a, list.id, [...rows, { email: 'x@m.example', customFields: { Colour: 'red' } }], now + 1)).toEqual({
      unknownField: 'Colour',
    });
    expect(await all(a)).toEqual([before]);
    expect(await store.marketing.getList(a, list.id)).toMatchObject({ contactCount: 0 });
    expect(await all(b)).toEqual([]);
  });

  it('streams every contact of the server (or of one list) exactly once, oldest first, in batches of at most the size asked', async () => {
    const a = await newServer('stream-a');
    const b = await newServer('stream-b');
    await store.marketing.createCustomField(a, 'Plan', 20, now);
    const list = (await store.marketing.createList(a, 'Half', now))!;
    const rows: ImportContactRow[] = Array.from({ length: 23 }, (_, i) => ({
      email: `s${String(i).padStart(2, '0')}@m.example`,
      customFields: { Plan: `p${i}` },
    }));
    await store.marketing.importContacts(a, list.id, rows.slice(0, 12), now);
    for (const r of rows.slice(12)) await store.marketing.createContact(a, r, now);
    await store.marketing.createContact(b, { email: 'theirs@m.example' }, now);
    const expected = await all(a);
    expect(expected).toHaveLength(23);
    for (const size of [1, 5, 23, 100]) {
      const batches: Contact[][] = [];
      for await (const batch of store.marketing.streamContacts(a, undefined, size)) batches.push(batch);
      expect(batches.every((x) => x.length >= 1 && x.length <= size)).toBe(true);
      expect(batches.flat()).toEqual(expected);
    }
    const onList: Contact[] = [];
    for await (const batch of store.marketing.streamContacts(a, list.id, 5)) onList.push(...batch);
    expect(onList).toEqual(expected.slice(0, 12));
    expect(onList[3]!.customFields).toEqual({ Plan: 'p3' });
    const none: Contact[][] = [];
    for await (const batch of store.marketing.streamContacts(b, list.id, 5)) none.push(batch);
    expect(none).toEqual([]);
    await expect(store.marketing.streamContacts(a, undefined, 0).next()).rejects.toThrow('batchSize');
  });
});
