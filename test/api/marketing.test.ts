import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, setServerStatus } from '../helpers/api-v2.js';
import { countRows, queryRows } from '../helpers/webhooks.js';

interface ListWire {
  listId: number;
  serverId: number;
  name: string;
  contactCount: number;
  createdOn: string;
  updatedOn: string;
}
interface ContactWire {
  contactId: number;
  serverId: number;
  emailAddress: string;
  firstName: string | null;
  lastName: string | null;
  unsubscribed: boolean;
  unsubscribedOn: string | null;
  customFields: Record<string, string>;
  createdOn: string;
  updatedOn: string;
}
interface FieldWire {
  customFieldNameId: number;
  name: string;
  serverId: number;
  customFieldType: string;
}
interface Res<T> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** Who calls: [user, password] as Basic credentials, a raw Authorization header, or no header (null). */
type Auth = [string | number, string] | { header: string } | null;

describe(`Marketing API v1, /marketing/v1 (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let key: string;
  let other: { serverId: number; managementKey: string; accountKey: string };

  async function call<T = unknown>(
    method: string,
    path: string,
    opts: { auth?: Auth; body?: unknown; query?: Record<string, string | number> } = {},
  ): Promise<Res<T>> {
    const url = new URL(`${t.url}/marketing/v1${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.append(k, String(v));
    const auth = opts.auth === undefined ? ([serverId, key] as const) : opts.auth;
    const headers: Record<string, string> = {};
    if (Array.isArray(auth)) headers.authorization = `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`;
    else if (auth) headers.authorization = (auth as { header: string }).header;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }
  const asOther = (): Auth => [other.serverId, other.managementKey];
  const message = (r: Res<unknown>) => [r.status, (r.body as { message?: string }).message];

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    other = await createTenant(t.store);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('authentication', () => {
    it('refuses a missing, malformed or wrong credential with 401 {message}, and stores nothing', async () => {
      const injection = (await createKey(t.store, serverId, 'injection')).key;
      const cases: Auth[] = [
        null,
        { header: `Bearer ${key}` },
        ['not-a-server', key],
        [serverId, 'wrong'],
        [serverId, other.managementKey],
        [other.serverId, key],
        [serverId, injection],
      ];
      for (const auth of cases) {
        const r = await call('POST', '/lists', { auth, body: { name: 'Refused' } });
        expect([JSON.stringify(auth), r.status, r.headers.get('content-type')]).toEqual([JSON.stringify(auth), 401, 'application/json; charset=utf-8']);
        expect(Object.keys(r.body as object)).toEqual(['message']);
        expect((r.body as { message: string }).message).toMatch(/ServerId as the user name/);
      }
      expect(await countRows(t.db, 'contact_lists')).toBe(0);
    });

    it('takes a management key of the server, or an account key of its account', async () => {
      expect((await call('GET', '/lists')).status).toBe(200);
      expect((await call('GET', '/lists', { auth: [serverId, t.credentials.accountKey] })).status).toBe(200);
      // The other tenant's account key does not reach this server.
      expect((await call('GET', '/lists', { auth: [serverId, other.accountKey] })).status).toBe(401);
    });

    it('answers 403 {message} for a disabled server, with nothing stored', async () => {
      const off = await createTenant(t.store, 'Disabled tenant');
      await setServerStatus(t.db, off.serverId, 'disabled');
      const r = await call('POST', '/lists', { auth: [off.serverId, off.managementKey], body: { name: 'Off' } });
      expect(message(r)).toEqual([403, 'the server or its account is disabled']);
      expect(await queryRows(t.db, `SELECT id FROM contact_lists WHERE server_id = ${off.serverId}`)).toEqual([]);
    });
  });

  describe('lists', () => {
    it('creates, lists with contact counts, renames and deletes', async () => {
      const created = await call<ListWire>('POST', '/lists', { body: { name: '  Newsletter ' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ serverId, name: 'Newsletter', contactCount: 0 });
      const id = created.body.listId;
      await call('PUT', `/lists/${id}/contacts`, { body: { emailAddress: 'one@example.com' } });
      await call('PUT', `/lists/${id}/contacts`, { body: { emailAddress: 'two@example.com' } });
      const listed = await call<ListWire[]>('GET', '/lists');
      expect(listed.body.find((l) => l.listId === id)).toMatchObject({ name: 'Newsletter', contactCount: 2 });

      const renamed = await call<ListWire>('PATCH', `/lists/${id}`, { body: { name: 'Weekly' } });
      expect([renamed.status, renamed.body.name, renamed.body.contactCount]).toEqual([200, 'Weekly', 2]);

      const del = await call('DELETE', `/lists/${id}`);
      expect([del.status, del.text]).toEqual([204, '']);
      expect((await call<ListWire[]>('GET', '/lists')).body.some((l) => l.listId === id)).toBe(false);
      // The contacts stay; only the memberships went.
      expect(await queryRows(t.db, `SELECT * FROM contact_list_members WHERE list_id = ${id}`)).toEqual([]);
      expect((await call<{ total: number }>('GET', '/contacts', { query: { emailAddress: 'one@example.com' } })).body.total).toBe(1);
      expect(message(await call('DELETE', `/lists/${id}`))).toEqual([404, `no list ${id}`]);
    });

    it('refuses a duplicate, blank or missing name and unknown fields; nothing stored or changed', async () => {
      const a = (await call<ListWire>('POST', '/lists', { body: { name: 'Dup A' } })).body;
      await call('POST', '/lists', { body: { name: 'Dup B' } });
      const before = await countRows(t.db, 'contact_lists');
      expect(message(await call('POST', '/lists', { body: { name: 'Dup A' } }))).toEqual([409, 'a list named "Dup A" already exists']);
      expect(message(await call('POST', '/lists', { body: { name: '   ' } }))).toEqual([400, 'name must not be blank']);
      expect(message(await call('POST', '/lists', { body: {} }))).toEqual([400, 'body field "name" is required']);
      expect(message(await call('POST', '/lists', { body: { name: 'X', colour: 'red' } }))).toEqual([400, 'unknown body field "colour"']);
      expect(message(await call('POST', '/lists', { body: { name: 'x'.repeat(101) } }))).toEqual([400, 'name must NOT have more than 100 characters']);
      expect(await countRows(t.db, 'contact_lists')).toBe(before);
      expect(message(await call('PATCH', `/lists/${a.listId}`, { body: { name: 'Dup B' } }))).toEqual([409, 'a list named "Dup B" already exists']);
      expect((await call<ListWire[]>('GET', '/lists')).body.find((l) => l.listId === a.listId)!.name).toBe('Dup A');
      expect((await call('PATCH', '/lists/999999', { body: { name: 'Z' } })).status).toBe(404);
      expect((await call('PATCH', '/lists/abc', { body: { name: 'Z' } })).status).toBe(400);
    });
  });

  describe('list members', () => {
    it("PUT /lists/{id}/contacts upserts by address, keeps an existing contact's names, and is idempotent", async () => {
      const list = (await call<ListWire>('POST', '/lists', { body: { name: 'Members' } })).body;
      const first = await call<ContactWire>('PUT', `/lists/${list.listId}/contacts`, {
        body: { emailAddress: 'Ann@Example.COM', firstName: 'Ann', lastName: 'Lee' },
      });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ serverId, emailAddress: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', unsubscribed: false });
      const again = await call<ContactWire>('PUT', `/lists/${list.listId}/contacts`, {
        body: { emailAddress: 'ann@example.com', firstName: 'Other', lastName: 'Name' },
      });
      expect([again.status, again.body.contactId, again.body.firstName, again.body.lastName]).toEqual([200, first.body.contactId, 'Ann', 'Lee']);
      expect(await queryRows(t.db, `SELECT contact_id FROM contact_list_members WHERE list_id = ${list.listId}`)).toHaveLength(1);
      expect(await queryRows(t.db, `SELECT id FROM contacts WHERE email = 'ann@example.com'`)).toHaveLength(1);
    });

    it('refuses a bad address (400) and an unknown list (404) without creating a contact', async () => {
      const list = (await call<ListWire>('POST', '/lists', { body: { name: 'Strict' } })).body;
      const before = await countRows(t.db, 'contacts');
      expect(message(await call('PUT', `/lists/${list.listId}/contacts`, { body: { emailAddress: 'not an address' } }))).toEqual([
        400,
        'emailAddress "not an address" is not a valid email address',
      ]);
      expect(message(await call('PUT', `/lists/${list.listId}/contacts`, { body: { emailAddress: 'x@example.com', age: 3 } }))).toEqual([
        400,
        'unknown body field "age"',
      ]);
      expect(message(await call('PUT', '/lists/999999/contacts', { body: { emailAddress: 'nolist@example.com' } }))).toEqual([404, 'no list 999999']);
      expect(await countRows(t.db, 'contacts')).toBe(before);
    });

    it('PUT /lists/{id}/contacts/{contactId} adds an existing contact; DELETE ?emailAddress= removes it', async () => {
      const list = (await call<ListWire>('POST', '/lists', { body: { name: 'ById' } })).body;
      const c = (await call<ContactWire>('POST', '/contacts', { body: { emailAddress: 'byid@example.com' } })).body;
      expect((await call('PUT', `/lists/${list.listId}/contacts/${c.contactId}`)).status).toBe(204);
      expect((await call('PUT', `/lists/${list.listId}/contacts/${c.contactId}`)).status).toBe(204);
      expect((await call<ListWire[]>('GET', '/lists')).body.find((l) => l.listId === list.listId)!.contactCount).toBe(1);
      expect(message(await call('PUT', `/lists/${list.listId}/contacts/999999`))).toEqual([404, 'no contact 999999']);
      expect(message(await call('PUT', `/lists/999999/contacts/${c.contactId}`))).toEqual([404, 'no list 999999']);

      expect((await call('DELETE', `/lists/${list.listId}/contacts`, { query: { emailAddress: 'BYID@example.com' } })).status).toBe(204);
      expect((await call<ListWire[]>('GET', '/lists')).body.find((l) => l.listId === list.listId)!.contactCount).toBe(0);
      expect(message(await call('DELETE', `/lists/${list.listId}/contacts`, { query: { emailAddress: 'byid@example.com' } }))).toEqual([
        404,
        `byid@example.com is not on list ${list.listId}`,
      ]);
      // SocketLabs' spelling, with the trailing slash.
      await call('PUT', `/lists/${list.listId}/contacts/${c.contactId}`);
      expect((await call('DELETE', `/lists/${list.listId}/contacts/`, { query: { emailAddress: 'byid@example.com' } })).status).toBe(204);
      expect((await call('DELETE', `/lists/${list.listId}/contacts`)).status).toBe(400);
      // The contact itself stays.
      expect((await call('GET', `/contacts/${c.contactId}`)).status).toBe(200);
    });
  });

  describe('contacts', () => {
    it('creates with custom fields, reads, changes, searches and deletes', async () => {
      expect((await call('POST', '/customfields/FavoriteTeam')).status).toBe(201);
      const created = await call<ContactWire>('POST', '/contacts', {
        body: { emailAddress: 'Fan@Example.com', firstName: 'Fan', customFields: { favoriteteam: 'Reds' } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ emailAddress: 'fan@example.com', firstName: 'Fan', lastName: null, customFields: { FavoriteTeam: 'Reds' } });
      const id = created.body.contactId;
      expect((await call<ContactWire>('GET', `/contacts/${id}`)).body).toEqual(created.body);

      const changed = await call<ContactWire>('PATCH', `/contacts/${id}`, { body: { lastName: 'Club', customFields: { FavoriteTeam: 'Blues' } } });
      expect([changed.status, changed.body.firstName, changed.body.lastName, changed.body.customFields]).toEqual([
        200,
        'Fan',
        'Club',
        { FavoriteTeam: 'Blues' },
      ]);

      for (const e of ['fanb@example.com', 'fanc@example.com', 'other@example.com']) await call('POST', '/contacts', { body: { emailAddress: e } });
      const page0 = await call<{ total: number; contacts: ContactWire[] }>('GET', '/contacts', { query: { startsWith: 'FAN', pageSize: 2, pageNumber: 0 } });
      const page1 = await call<{ total: number; contacts: ContactWire[] }>('GET', '/contacts', { query: { startsWith: 'fan', pageSize: 2, pageNumber: 1 } });
      expect([page0.body.total, page1.body.total]).toEqual([3, 3]);
      expect([...page0.body.contacts, ...page1.body.contacts].map((c) => c.emailAddress)).toEqual(['fan@example.com', 'fanb@example.com', 'fanc@example.com']);
      const exact = await call<{ total: number; contacts: ContactWire[] }>('GET', '/contacts', { query: { emailAddress: 'FAN@example.com' } });
      expect([exact.body.total, exact.body.contacts[0]!.contactId]).toEqual([1, id]);

      expect((await call('DELETE', `/contacts/${id}`)).status).toBe(204);
      expect(message(await call('GET', `/contacts/${id}`))).toEqual([404, `no contact ${id}`]);
      expect(await queryRows(t.db, `SELECT * FROM contact_field_values WHERE contact_id = ${id}`)).toEqual([]);
      expect((await call('DELETE', `/contacts/${id}`)).status).toBe(404);
    });

    it('refuses an existing address (409), a bad address, an unknown custom field and unknown fields; nothing stored', async () => {
      await call('POST', '/contacts', { body: { emailAddress: 'taken@example.com', firstName: 'First' } });
      const before = await countRows(t.db, 'contacts');
      const values = await countRows(t.db, 'contact_field_values');
      expect(message(await call('POST', '/contacts', { body: { emailAddress: 'TAKEN@example.com', firstName: 'Second' } }))).toEqual([
        409,
        'a contact with the address taken@example.com already exists',
      ]);
      expect(message(await call('POST', '/contacts', { body: { emailAddress: 'a@b' } }))).toEqual([400, 'emailAddress "a@b" is not a valid email address']);
      expect(message(await call('POST', '/contacts', { body: { emailAddress: 'new@example.com', customFields: { NoSuchField: 'x' } } }))).toEqual([
        400,
        'there is no custom field "NoSuchField"; create it first with POST /customfields/NoSuchField',
      ]);
      expect(message(await call('POST', '/contacts', { body: { emailAddress: 'new@example.com', nickname: 'x' } }))).toEqual([
        400,
        'unknown body field "nickname"',
      ]);
      expect(await countRows(t.db, 'contacts')).toBe(before);
      expect(await countRows(t.db, 'contact_field_values')).toBe(values);
      const [row] = await queryRows<{ first_name: string }>(t.db, `SELECT first_name FROM contacts WHERE email = 'taken@example.com'`);
      expect(row!.first_name).toBe('First');

      const c = (await call<{ contacts: ContactWire[] }>('GET', '/contacts', { query: { emailAddress: 'taken@example.com' } })).body.contacts[0]!;
      // A PATCH naming an unknown field changes nothing, names included.
      expect((await call('PATCH', `/contacts/${c.contactId}`, { body: { firstName: 'Changed', customFields: { Nope: 'x' } } })).status).toBe(400);
      expect((await call('PATCH', `/contacts/${c.contactId}`, { body: { emailAddress: 'new@example.com' } })).status).toBe(400);
      expect((await call('PATCH', `/contacts/${c.contactId}`, { body: {} })).status).toBe(400);
      expect((await call<ContactWire>('GET', `/contacts/${c.contactId}`)).body.firstName).toBe('First');
      expect((await call('GET', '/contacts', { query: { pageSize: 0 } })).status).toBe(400);
    });

    it('POST /contacts/unsubscribe marks the contact unsubscribed once', async () => {
      const c = (await call<ContactWire>('POST', '/contacts', { body: { emailAddress: 'leaving@example.com' } })).body;
      const r = await call<ContactWire>('POST', '/contacts/unsubscribe', { body: { emailAddress: 'Leaving@example.com' } });
      expect([r.status, r.body.contactId, r.body.unsubscribed]).toEqual([200, c.contactId, true]);
      const again = await call<ContactWire>('POST', '/contacts/unsubscribe/', { body: { emailAddress: 'leaving@example.com' } });
      expect([again.status, again.body.unsubscribedOn]).toEqual([200, r.body.unsubscribedOn]);
      expect(message(await call('POST', '/contacts/unsubscribe', { body: { emailAddress: 'nobody@example.com' } }))).toEqual([
        404,
        'no contact with the address nobody@example.com',
      ]);
      expect((await call('POST', '/contacts/unsubscribe', { body: { emailAddress: 'bad' } })).status).toBe(400);
      expect(await queryRows(t.db, `SELECT id FROM contacts WHERE email IN ('nobody@example.com', 'bad')`)).toEqual([]);
    });
  });

  describe('custom fields', () => {
    it('creates string fields as SocketLabs answers them, lists and deletes them (with their values)', async () => {
      const r = await call<FieldWire>('POST', '/customfields/Region');
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ customFieldNameId: r.body.customFieldNameId, name: 'Region', serverId, customFieldType: 'String' });
      expect(r.body.customFieldNameId).toBeGreaterThan(0);
      expect((await call<FieldWire[]>('GET', '/customfields')).body.map((f) => f.name)).toContain('Region');
      const c = (await call<ContactWire>('POST', '/contacts', { body: { emailAddress: 'region@example.com', customFields: { Region: 'North' } } })).body;
      expect((await call('DELETE', '/customfields/region')).status).toBe(204);
      expect((await call<ContactWire>('GET', `/contacts/${c.contactId}`)).body.customFields).toEqual({});
      expect((await call<FieldWire[]>('GET', '/customfields')).body.map((f) => f.name)).not.toContain('Region');
      expect(message(await call('DELETE', '/customfields/Region'))).toEqual([404, 'no custom field "Region"']);
    });

    it('refuses reserved and duplicate names (409), bad names (400) and a 21st field (403); nothing stored', async () => {
      await call('POST', '/customfields/Plan');
      const before = await countRows(t.db, 'custom_fields');
      for (const name of ['EmailAddress', 'contactid', 'ID']) {
        const r = await call('POST', `/customfields/${name}`);
        expect(message(r)).toEqual([409, `"${name}" is a reserved name (EmailAddress, ContactId and Id are)`]);
      }
      expect(message(await call('POST', '/customfields/PLAN'))).toEqual([
        409,
        'a custom field named "PLAN" already exists (names are compared case-insensitively)',
      ]);
      expect((await call('POST', `/customfields/${'x'.repeat(51)}`)).status).toBe(400);
      expect((await call('POST', '/customfields/has%20space')).status).toBe(400);
      expect(await countRows(t.db, 'custom_fields')).toBe(before);

      const [{ n }] = (await queryRows<{ n: number | string }>(t.db, `SELECT COUNT(*) AS n FROM custom_fields WHERE server_id = ${serverId}`)) as [
        { n: number | string },
      ];
      for (let i = Number(n); i < 20; i++) expect((await call('POST', `/customfields/Field${i}`)).status).toBe(201);
      expect(message(await call('POST', '/customfields/OneTooMany'))).toEqual([403, 'the server already has 20 custom fields, the most it may have']);
      expect((await call<FieldWire[]>('GET', '/customfields')).body).toHaveLength(20);
      // Another server has its own 20.
      expect((await call('POST', '/customfields/Plan', { auth: asOther() })).status).toBe(201);
    });
  });

  describe('tenant isolation', () => {
    it("another server's key reaches none of this server's lists, contacts or fields (404, nothing changed)", async () => {
      const list = (await call<ListWire>('POST', '/lists', { body: { name: 'Private' } })).body;
      const c = (await call<ContactWire>('PUT', `/lists/${list.listId}/contacts`, { body: { emailAddress: 'private@example.com', firstName: 'P' } })).body;
      const auth = asOther();

      expect((await call<ListWire[]>('GET', '/lists', { auth })).body.some((l) => l.listId === list.listId)).toBe(false);
      expect(message(await call('PATCH', `/lists/${list.listId}`, { auth, body: { name: 'Stolen' } }))).toEqual([404, `no list ${list.listId}`]);
      expect((await call('DELETE', `/lists/${list.listId}`, { auth })).status).toBe(404);
      expect((await call('PUT', `/lists/${list.listId}/contacts`, { auth, body: { emailAddress: 'intruder@example.com' } })).status).toBe(404);
      expect((await call('DELETE', `/lists/${list.listId}/contacts`, { auth, query: { emailAddress: 'private@example.com' } })).status).toBe(404);
      expect((await call('GET', `/contacts/${c.contactId}`, { auth })).status).toBe(404);
      expect((await call('PATCH', `/contacts/${c.contactId}`, { auth, body: { firstName: 'Stolen' } })).status).toBe(404);
      expect((await call('DELETE', `/contacts/${c.contactId}`, { auth })).status).toBe(404);
      expect((await call('POST', '/contacts/unsubscribe', { auth, body: { emailAddress: 'private@example.com' } })).status).toBe(404);
      expect((await call<{ total: number }>('GET', '/contacts', { auth, query: { emailAddress: 'private@example.com' } })).body.total).toBe(0);

      // Field names are per server: deleting this server's field from the other server finds nothing.
      expect(message(await call('DELETE', '/customfields/FavoriteTeam', { auth }))).toEqual([404, 'no custom field "FavoriteTeam"']);
      expect((await call<FieldWire[]>('GET', '/customfields', { auth })).body.map((f) => f.name)).toEqual(['Plan']);
      expect((await call<FieldWire[]>('GET', '/customfields')).body.map((f) => f.name)).toContain('FavoriteTeam');

      // The other server's own list cannot take this server's contact.
      const theirs = (await call<ListWire>('POST', '/lists', { auth, body: { name: 'Theirs' } })).body;
      expect(message(await call('PUT', `/lists/${theirs.listId}/contacts/${c.contactId}`, { auth }))).toEqual([404, `no contact ${c.contactId}`]);
      expect(message(await call('PUT', `/lists/${list.listId}/contacts/${c.contactId}`, { auth }))).toEqual([404, `no list ${list.listId}`]);

      const mine = await call<ListWire[]>('GET', '/lists');
      expect(mine.body.find((l) => l.listId === list.listId)).toMatchObject({ name: 'Private', contactCount: 1 });
      expect((await call<ContactWire>('GET', `/contacts/${c.contactId}`)).body).toMatchObject({ firstName: 'P', unsubscribed: false });
      expect(await queryRows(t.db, `SELECT id FROM contacts WHERE email = 'intruder@example.com'`)).toEqual([]);
      expect(await queryRows(t.db, `SELECT list_id FROM contact_list_members WHERE list_id = ${theirs.listId}`)).toEqual([]);
    });
  });

  it('is in the OpenAPI document: every route tagged marketing, with Basic security and its refusals; the trailing-slash spellings hidden', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags: string[]; security: unknown; responses: Record<string, unknown> }>>;
    };
    const ops = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/marketing/v1/'))
      .flatMap(([path, o]) => Object.entries(o).map(([m, op]) => ({ name: `${m} ${path}`, op })));
    expect(ops.map((o) => o.name).sort()).toEqual([
      'delete /marketing/v1/contacts/{contactId}',
      'delete /marketing/v1/customfields/{name}',
      'delete /marketing/v1/lists/{listId}',
      'delete /marketing/v1/lists/{listId}/contacts',
      'get /marketing/v1/contacts',
      'get /marketing/v1/contacts/{contactId}',
      'get /marketing/v1/customfields',
      'get /marketing/v1/lists',
      'get /marketing/v1/lists/{listId}/imports/{importId}',
      'get /marketing/v1/lists/{listId}/sends/{sendId}',
      'patch /marketing/v1/contacts/{contactId}',
      'patch /marketing/v1/lists/{listId}',
      'post /marketing/v1/contacts',
      'post /marketing/v1/contacts/unsubscribe',
      'post /marketing/v1/customfields/{name}',
      'post /marketing/v1/lists',
      'post /marketing/v1/lists/{listId}/imports',
      'post /marketing/v1/lists/{listId}/send',
      'post /marketing/v1/lists/{listId}/send/preview',
      'put /marketing/v1/lists/{listId}/contacts',
      'put /marketing/v1/lists/{listId}/contacts/{contactId}',
    ]);
    for (const { name, op } of ops) {
      expect([name, op.tags, op.security, '401' in op.responses, '404' in op.responses]).toEqual([name, ['marketing'], [{ basic: [] }], true, true]);
    }
  });
});
