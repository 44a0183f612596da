import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { MAX_TEMPLATE_NAME_LENGTH } from '../../src/templates/content.js';

interface Wire {
  templateId: number;
  name: string;
  subject: string | null;
  version: number;
  currentVersion: number;
  createdOn: string;
  updatedOn: string;
  versionCreatedOn: string;
  htmlBody?: string | null;
  textBody?: string | null;
  ampBody?: string | null;
}
type One = { data: Wire } & V2Error;
type Many = { data: Wire[]; total: number } & V2Error;

describe(`stored templates, /api/v2/servers/:serverId/templates (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let key: string;
  let base: string;
  let other: Awaited<ReturnType<typeof createTenant>>;
  const tables = async () => [await countRows(t.db, 'templates'), await countRows(t.db, 'template_versions')];
  const create = (body: unknown) => v2<One>(t, 'POST', base, { key, body });

  beforeAll(async () => {
    t = await startTestApp();
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    base = `/servers/${t.credentials.serverId}/templates`;
    other = await createTenant(t.store);
  });
  beforeEach(async () => {
    for (const s of [t.credentials.serverId, other.serverId]) {
      for (const x of (await t.store.templates.list(s, { limit: 100, offset: 0, direction: 'asc', sort: 'createdAt' })).rows)
        await t.store.templates.delete(s, x.id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates, gets, lists, updates into a new version (the old one stays readable) and deletes', async () => {
    const c = await create({ name: ' Welcome ', subject: 'Hi %%FirstName%%', htmlBody: '<p>Hello %%FirstName%%</p>', textBody: 'Hello %%FirstName%%' });
    expect(c.status).toBe(200);
    expect(c.body.data).toMatchObject({
      name: 'Welcome',
      subject: 'Hi %%FirstName%%',
      version: 1,
      currentVersion: 1,
      htmlBody: '<p>Hello %%FirstName%%</p>',
      textBody: 'Hello %%FirstName%%',
      ampBody: null,
    });
    const id = c.body.data.templateId;

    const got = await v2<One>(t, 'GET', `${base}/${id}`, { key });
    expect(got.body.data).toEqual(c.body.data);

    const up = await v2<One>(t, 'PATCH', `${base}/${id}`, { key, body: { htmlBody: '<p>Welcome, %%FirstName%%</p>', subject: null } });
    expect(up.status).toBe(200);
    expect(up.body.data).toMatchObject({
      templateId: id,
      name: 'Welcome',
      subject: null,
      version: 2,
      currentVersion: 2,
      htmlBody: '<p>Welcome, %%FirstName%%</p>',
      textBody: 'Hello %%FirstName%%',
    });

    const v1 = await v2<One>(t, 'GET', `${base}/${id}`, { key, query: { version: 1 } });
    expect(v1.body.data).toMatchObject({ version: 1, currentVersion: 2, subject: 'Hi %%FirstName%%', htmlBody: '<p>Hello %%FirstName%%</p>' });
    const versions = await v2<Many>(t, 'GET', `${base}/${id}/versions`, { key });
    expect(versions.body.total).toBe(2);
    expect(versions.body.data.map((v) => [v.version, v.subject])).toEqual([
      [2, null],
      [1, 'Hi %%FirstName%%'],
    ]);
    expect(versions.body.data[0]).not.toHaveProperty('htmlBody');

    await create({ name: 'Another', textBody: 'x' });
    const list = await v2<Many>(t, 'GET', base, { key, query: { sortField: 'name', sortDirection: 'asc' } });
    expect(list.body.total).toBe(2);
    expect(list.body.data.map((x) => [x.name, x.currentVersion])).toEqual([
      ['Another', 1],
      ['Welcome', 2],
    ]);
    const page = await v2<Many>(t, 'GET', base, { key, query: { pageSize: 1, pageNumber: 1, sortField: 'name' } });
    expect(page.body.data.map((x) => x.name)).toEqual(['Welcome']);

    const del = await v2<{ data: { templateId: number; deleted: boolean } }>(t, 'DELETE', `${base}/${id}`, { key });
    expect(del.body.data).toEqual({ templateId: id, deleted: true });
    expect((await v2<One>(t, 'GET', `${base}/${id}`, { key })).body.error.code).toBe('not_found');
    expect((await v2<One>(t, 'GET', `${base}/${id}/versions`, { key })).body.error.code).toBe('not_found');
    expect(await tables()).toEqual([1, 1]);
  });

  it('refuses bad content with the field at fault and writes nothing', async () => {
    const cases: [unknown, string, string][] = [
      [{ name: '', textBody: 'x' }, 'validation_failed', 'name'],
      [{ name: '   ', textBody: 'x' }, 'validation_failed', 'name'],
      [{ textBody: 'x' }, 'validation_failed', 'name'],
      [{ name: 'x'.repeat(MAX_TEMPLATE_NAME_LENGTH + 1), textBody: 'x' }, 'validation_failed', 'name'],
      [{ name: 'two\nlines', textBody: 'x' }, 'validation_failed', 'name'],
      [{ name: 'No body' }, 'validation_failed', 'htmlBody'],
      [{ name: 'Only AMP', ampBody: '<html amp4email></html>' }, 'validation_failed', 'htmlBody'],
      [{ name: 'Bad subject', subject: 'a\r\nBcc: x@example.com', textBody: 'x' }, 'validation_failed', 'subject'],
      [{ name: 'Typo', textbody: 'x' }, 'unknown_field', 'textbody'],
      [{ name: 'Wrong type', textBody: { html: 'x' } }, 'validation_failed', 'textBody'],
    ];
    for (const [body, code, field] of cases) {
      const r = await create(body);
      expect([r.status, r.body.error?.code, r.body.error?.field], JSON.stringify(body)).toEqual([400, code, field]);
    }
    const big = await create({ name: 'Too big', htmlBody: 'x'.repeat(1_100_000) });
    expect([big.status, big.body.error.code]).toEqual([413, 'payload_too_large']);
    expect(await tables()).toEqual([0, 0]);
  });

  it('an update that would leave no body is refused and keeps the current version', async () => {
    const id = (await create({ name: 'Keep', textBody: 'kept' })).body.data.templateId;
    const r = await v2<One>(t, 'PATCH', `${base}/${id}`, { key, body: { textBody: null } });
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'validation_failed', 'htmlBody']);
    const empty = await v2<One>(t, 'PATCH', `${base}/${id}`, { key, body: {} });
    expect(empty.status).toBe(400);
    expect((await v2<One>(t, 'GET', `${base}/${id}`, { key })).body.data).toMatchObject({ version: 1, currentVersion: 1, textBody: 'kept' });
    expect(await tables()).toEqual([1, 1]);
  });

  it("another server's template is not found through this server, and its key cannot reach this server's", async () => {
    const mine = (await create({ name: 'Mine', textBody: 'mine' })).body.data.templateId;
    const theirs = (
      await v2<One>(t, 'POST', `/servers/${other.serverId}/templates`, { key: other.managementKey, body: { name: 'Theirs', textBody: 'theirs' } })
    ).body.data.templateId;
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'Taken' }],
      ['DELETE', undefined],
    ] as const) {
      const r = await v2<One>(t, method, `${base}/${theirs}`, { key, body });
      expect([r.status, r.body.error.code], method).toEqual([404, 'not_found']);
    }
    expect((await v2<One>(t, 'GET', `${base}/${theirs}/versions`, { key })).status).toBe(404);
    const wrong = await v2<One>(t, 'GET', `${base}/${mine}`, { key: other.managementKey });
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'wrong_server']);
    expect(await t.store.templates.get(other.serverId, theirs)).toMatchObject({ name: 'Theirs', version: 1 });
    expect((await v2<Many>(t, 'GET', base, { key })).body.data.map((x) => x.name)).toEqual(['Mine']);
  });

  it('an injection key is refused', async () => {
    const r = await v2<One>(t, 'GET', base, { key: t.credentials.apiKey });
    expect([r.status, r.body.error.code]).toEqual([403, 'insufficient_scope']);
  });
});
