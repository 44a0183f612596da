/**
 * What the panel's Servers pages rely on, against the real store: the template preview routes
 * (`GET .../templates/:id/preview` and `.../preview/html`) with the project's merge code, and a
 * member's session managing servers, keys and templates as an account key would (a viewer may
 * preview but change nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { hashPassword } from '../../src/accept/passwords.js';
import { PREVIEW_CSP, MAX_PREVIEW_MERGE_CHARS } from '../../src/api/v2/templates/preview.js';

interface Preview {
  templateId: number;
  version: number;
  fields: string[];
  subject: string | null;
  htmlBody: string | null;
  textBody: string | null;
  ampBody: string | null;
}
type PreviewAnswer = { data: Preview } & V2Error;
// biome-ignore lint/suspicious/noExplicitAny: answers of many shapes, read field by field
type Loose = any;

const PASSWORD = 'correct horse battery';

describe(`template preview, GET /api/v2/servers/:serverId/templates/:id/preview (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let key: string;
  let base: string;
  let templateId: number;

  beforeAll(async () => {
    t = await startTestApp();
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    base = `/servers/${t.credentials.serverId}/templates`;
    const made = await v2<Loose>(t, 'POST', base, {
      key,
      body: {
        name: 'Shipped',
        subject: 'Order %%OrderId%% for %%FirstName%%',
        htmlBody: '<p style="color:#123">Dear %%firstname%%, order %%OrderId%% ships %%When%%.</p>',
        textBody: 'Dear %%FirstName%%, order %%OrderId%% ships %%When%%.',
      },
    });
    expect(made.status).toBe(200);
    templateId = made.body.data.templateId;
    await v2(t, 'PATCH', `${base}/${templateId}`, { key, body: { textBody: 'v2: %%FirstName%%' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('renders subject, HTML and text with the merge values (case-insensitive names); an unknown placeholder stays as written', async () => {
    const r = await v2<PreviewAnswer>(t, 'GET', `${base}/${templateId}/preview`, {
      key,
      query: { mergeData: JSON.stringify({ FirstName: 'Ann <b>', OrderId: '42' }) },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.data).toEqual({
      templateId,
      version: 2,
      fields: ['OrderId', 'FirstName', 'When'],
      subject: 'Order 42 for Ann <b>',
      // As a send would: the values are put in as they are (no escaping), never re-scanned.
      htmlBody: '<p style="color:#123">Dear Ann <b>, order 42 ships %%When%%.</p>',
      textBody: 'v2: Ann <b>',
      ampBody: null,
    });
  });

  it('renders an older version, and without merge data lists the fields and leaves the placeholders', async () => {
    const r = await v2<PreviewAnswer>(t, 'GET', `${base}/${templateId}/preview`, { key, query: { version: 1 } });
    expect(r.status).toBe(200);
    expect(r.body.data.version).toBe(1);
    expect(r.body.data.textBody).toBe('Dear %%FirstName%%, order %%OrderId%% ships %%When%%.');
    expect(r.body.data.fields).toEqual(['OrderId', 'FirstName', 'When']);
  });

  it('a merge value with a line break cannot break the subject into two lines', async () => {
    const r = await v2<PreviewAnswer>(t, 'GET', `${base}/${templateId}/preview`, { key, query: { mergeData: JSON.stringify({ OrderId: '1\r\nBcc: x@y' }) } });
    expect(r.body.data.subject).toBe('Order 1 Bcc: x@y for %%FirstName%%');
  });

  it('answers the HTML body alone as a sandboxed page', async () => {
    const r = await v2(t, 'GET', `${base}/${templateId}/preview/html`, { key, query: { mergeData: JSON.stringify({ FirstName: 'Ann' }) } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(PREVIEW_CSP);
    expect(PREVIEW_CSP).toMatch(/^sandbox; default-src 'none'/);
    expect(PREVIEW_CSP).not.toMatch(/script-src|allow-scripts/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.text).toBe('<p style="color:#123">Dear Ann, order %%OrderId%% ships %%When%%.</p>');
  });

  it('refuses bad merge data naming mergeData, an unknown template or version, and a template without HTML for /html', async () => {
    for (const bad of ['not json', '[1,2]', '"x"', '{"FirstName":3}', 'x'.repeat(MAX_PREVIEW_MERGE_CHARS + 1)]) {
      const r = await v2<PreviewAnswer>(t, 'GET', `${base}/${templateId}/preview`, { key, query: { mergeData: bad } });
      expect(r.status, bad.slice(0, 20)).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'validation_failed', field: 'mergeData' });
    }
    expect((await v2<PreviewAnswer>(t, 'GET', `${base}/999999/preview`, { key })).body.error.code).toBe('not_found');
    expect((await v2<PreviewAnswer>(t, 'GET', `${base}/${templateId}/preview`, { key, query: { version: 9 } })).status).toBe(404);
    const textOnly = await v2<Loose>(t, 'POST', base, { key, body: { name: 'Plain', textBody: 'hi' } });
    const r = await v2<PreviewAnswer>(t, 'GET', `${base}/${textOnly.body.data.templateId}/preview/html`, { key });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-security-policy')).toBeNull();
  });

  it("is not reached through another server's key, nor without a key", async () => {
    const other = await createTenant(t.store);
    const r = await v2<PreviewAnswer>(t, 'GET', `${base}/${templateId}/preview`, { key: other.managementKey });
    expect(r.body.error.code).toBe('wrong_server');
    expect((await v2(t, 'GET', `${base}/${templateId}/preview/html`, { key: null })).status).toBe(401);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/v2/servers/{serverId}/templates/{templateId}/preview']?.get).toBeDefined();
    expect(doc.paths['/api/v2/servers/{serverId}/templates/{templateId}/preview/html']?.get).toBeDefined();
  });
});

describe(`the panel's server management with a session (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  const clock = Date.now();

  async function call(method: string, path: string, opts: { cookie: string; csrf?: string; body?: unknown; query?: string }) {
    const headers: Record<string, string> = { cookie: opts.cookie };
    if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${t.url}/api/v2${path}${opts.query ?? ''}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, body: text && (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Loose) : (text as Loose) };
  }
  async function signIn(email: string, role: 'admin' | 'member' | 'viewer') {
    const accountId = (await t.store.tenancy.getServer(t.credentials.serverId))!.accountId;
    await t.store.users.create({ accountId, email, role, passwordHash: await hashPassword(PASSWORD) }, clock);
    const res = await fetch(`${t.url}/api/v2/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    const cookie = /^(postline_session=[^;]+)/.exec(res.headers.get('set-cookie')!)![1]!;
    return { cookie, csrf: ((await res.json()) as Loose).data.csrfToken as string };
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('a member creates a server, changes its settings, creates, rotates and revokes a key; a viewer previews but changes nothing', async () => {
    const member = await signIn('member@servers.test', 'member');
    const made = await call('POST', '/servers', { ...member, body: { name: 'Member made', trackOpens: true } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const serverId = made.body.data.serverId as number;
    expect(made.body.data).toMatchObject({ name: 'Member made', sandbox: false, requireVerifiedDomain: true, tracking: { opens: true, clicks: false } });
    const tooLong = await call('POST', '/servers', { ...member, body: { name: 'x'.repeat(201) } });
    expect(tooLong.body.error).toMatchObject({ code: 'validation_failed', field: 'name' });

    const patched = await call('PATCH', `/servers/${serverId}`, { ...member, body: { sandbox: true, trackClicks: true } });
    expect(patched.body.data).toMatchObject({ sandbox: true, tracking: { opens: true, clicks: true } });

    const k = await call('POST', `/servers/${serverId}/api-keys`, { ...member, body: { name: 'sender', scope: 'injection' } });
    expect(k.status).toBe(201);
    expect(k.body.data.apiKey).toMatch(/\./);
    const rotated = await call('POST', `/servers/${serverId}/api-keys/${k.body.data.keyId}/rotate`, { ...member });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.apiKey).not.toBe(k.body.data.apiKey);
    const revoked = await call('DELETE', `/servers/${serverId}/api-keys/${k.body.data.keyId}`, { ...member });
    expect(revoked.body.data.status).toBe('revoked');

    const tpl = await call('POST', `/servers/${serverId}/templates`, { ...member, body: { name: 'Hi', htmlBody: '<p>Hi %%Name%%</p>' } });
    const viewer = await signIn('viewer@servers.test', 'viewer');
    const preview = await call('GET', `/servers/${serverId}/templates/${tpl.body.data.templateId}/preview`, {
      ...viewer,
      query: `?mergeData=${encodeURIComponent('{"Name":"Bo"}')}`,
    });
    expect(preview.body.data.htmlBody).toBe('<p>Hi Bo</p>');
    const html = await call('GET', `/servers/${serverId}/templates/${tpl.body.data.templateId}/preview/html`, { ...viewer });
    expect(html.status).toBe(200);
    const keysBefore = await countRows(t.db, 'api_keys');
    for (const [method, path, body] of [
      ['POST', `/servers/${serverId}/api-keys`, { name: 'no', scope: 'injection' }],
      ['POST', `/servers/${serverId}/api-keys/${k.body.data.keyId}/rotate`, undefined],
      ['PATCH', `/servers/${serverId}`, { name: 'viewer was here' }],
    ] as const) {
      const r = await call(method, path, { ...viewer, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('insufficient_role');
    }
    expect(await countRows(t.db, 'api_keys')).toBe(keysBefore);
    expect((await t.store.tenancy.getServer(serverId))!.name).toBe('Member made');
  });
});
