/**
 * The Marketing API's additions for the control panel, over real HTTP against the run's store:
 * the panel's session cookie (with X-Postline-Server, CSRF, viewer read-only, the account's
 * servers only), a list's members with search and paging, CSV import jobs with their progress and
 * refused rows, the merge preview of a send, and field names on refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { hashPassword } from '../../src/accept/passwords.js';
import type { UserRole } from '../../src/core/users.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
type Loose = any;

const PASSWORD = 'correct horse battery';

interface Browser {
  cookie: string;
  csrf: string;
}

describe(`Marketing API with the panel's session (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let otherServerId: number;
  let admin: Browser;
  let viewer: Browser;

  async function http(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Loose }> {
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
  }

  /** A Marketing API call as the panel makes it: cookie, X-Postline-Server and (for changes) the CSRF token. */
  function m(
    method: string,
    path: string,
    opts: { as?: Browser | null; server?: number | null; csrf?: string | null; json?: unknown; csv?: string; origin?: string } = {},
  ): Promise<{ status: number; body: Loose }> {
    const who = opts.as === undefined ? admin : opts.as;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (who) headers.cookie = who.cookie;
    const server = opts.server === undefined ? serverId : opts.server;
    if (server !== null) headers['x-postline-server'] = String(server);
    const csrf = opts.csrf === undefined ? who?.csrf : opts.csrf;
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
    if (opts.origin) headers.origin = opts.origin;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.csv !== undefined) {
      headers['content-type'] = 'text/csv';
      body = opts.csv;
    }
    return http(method, `${t.url}/marketing/v1${path}`, headers, body);
  }

  async function signIn(email: string, role: UserRole): Promise<Browser> {
    const accountId = (await t.store.tenancy.getServer(serverId))!.accountId;
    await t.store.users.create({ accountId, email, role, passwordHash: await hashPassword(PASSWORD) }, Date.now());
    const res = await fetch(`${t.url}/api/v2/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    const cookie = /^(postline_session=[^;]+)/.exec(res.headers.get('set-cookie')!)![1]!;
    return { cookie, csrf: ((await res.json()) as Loose).data.csrfToken };
  }

  const waitForImport = async (listId: number, importId: number): Promise<Loose> => {
    let job: Loose;
    await expect
      .poll(
        async () => {
          job = (await m('GET', `/lists/${listId}/imports/${importId}`)).body;
          return job.state;
        },
        { timeout: 60_000, interval: 50 },
      )
      .not.toBe('running');
    return job;
  };

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    const other = await t.store.tenancy.createAccount('Other', Date.now());
    otherServerId = (await t.store.tenancy.createServer({ accountId: other.id, name: 'Other server' }, Date.now())).id;
    admin = await signIn('admin@example.com', 'admin');
    viewer = await signIn('viewer@example.com', 'viewer');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('accepts the session cookie with X-Postline-Server and refuses what the v2 rules refuse', async () => {
    const made = await m('POST', '/lists', { json: { name: 'Panel list' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ serverId, name: 'Panel list', contactCount: 0 });
    expect((await m('GET', '/lists')).body.map((l: Loose) => l.name)).toEqual(['Panel list']);

    // No server named; a server of another account; a cookie of no session.
    expect(await m('GET', '/lists', { server: null })).toMatchObject({ status: 400, body: { message: expect.stringContaining('x-postline-server') } });
    expect(await m('GET', '/lists', { server: otherServerId })).toMatchObject({ status: 403, body: { message: `you cannot reach server ${otherServerId}` } });
    expect((await m('GET', '/lists', { as: { cookie: 'postline_session=nope', csrf: 'x' } })).status).toBe(401);
    // A change without the CSRF token, or from another origin: 403, nothing made.
    expect(await m('POST', '/lists', { json: { name: 'No token' }, csrf: null })).toMatchObject({
      status: 403,
      body: { message: expect.stringContaining('X-CSRF-Token') },
    });
    expect((await m('POST', '/lists', { json: { name: 'Foreign' }, origin: 'http://evil.test' })).status).toBe(403);
    // A viewer reads but cannot change.
    expect((await m('GET', '/lists', { as: viewer })).status).toBe(200);
    expect(await m('POST', '/lists', { as: viewer, json: { name: 'Viewer list' } })).toMatchObject({
      status: 403,
      body: { message: 'a viewer can look but not change anything' },
    });
    expect((await m('GET', '/lists')).body.map((l: Loose) => l.name)).toEqual(['Panel list']);
    // A key still works as before, and a key wins over a cookie.
    const basic = `Basic ${Buffer.from(`${serverId}:${t.credentials.accountKey}`).toString('base64')}`;
    const keyed = await http('GET', `${t.url}/marketing/v1/lists`, { authorization: basic, cookie: viewer.cookie });
    expect(keyed.status).toBe(200);
    // The session's changes are in the audit log.
    const accountId = (await t.store.tenancy.getServer(serverId))!.accountId;
    const rows = (await t.store.audit.list(accountId, { limit: 100, offset: 0 })).rows;
    expect(
      rows.map((r) => r.target),
      JSON.stringify(rows),
    ).toContain('POST /marketing/v1/lists');
  });

  it('names the refused field: a blank list name, a bad address', async () => {
    expect(await m('POST', '/lists', { json: { name: '   ' } })).toMatchObject({ status: 400, body: { message: 'name must not be blank', field: 'name' } });
    expect(await m('POST', '/lists', { json: { name: '' } })).toMatchObject({ status: 400, body: { field: 'name' } });
    const list = (await m('POST', '/lists', { json: { name: 'Fields' } })).body;
    expect(await m('PUT', `/lists/${list.listId}/contacts`, { json: { emailAddress: 'not an address' } })).toMatchObject({
      status: 400,
      body: { field: 'emailAddress' },
    });
    expect((await m('GET', '/contacts', { server: serverId })).body.total).toBe(0);
  });

  it('imports a CSV as a job: progress, refused rows with their reasons, the good rows on the list', async () => {
    const list = (await m('POST', '/lists', { json: { name: 'Imported' } })).body;
    const lines = ['emailAddress,firstName,lastName'];
    for (let i = 0; i < 2500; i++) lines.push(`person${i}@example.com,First${i},"Last, ${i}"`);
    lines.splice(11, 0, 'not-an-address,Bad,Row'); // row 12
    lines.splice(101, 0, 'x@example.com,Too,Many,Cells'); // row 102
    lines.splice(1001, 0, ',No,Address'); // row 1002
    const started = await m('POST', `/lists/${list.listId}/imports`, { csv: `${lines.join('\r\n')}\r\n` });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ listId: list.listId, serverId, totalRows: 2503, rejectedNotListed: 0, error: null });
    const done = await waitForImport(list.listId, started.body.importId);
    expect(done).toMatchObject({ state: 'done', totalRows: 2503, rowsDone: 2503, imported: 2500, updated: 0, rejected: 3, finishedOn: expect.any(String) });
    expect(done.rejectedRows).toEqual([
      { row: 12, reason: 'not a valid email address: "not-an-address"' },
      { row: 102, reason: 'too many columns (4, the header has 3)' },
      { row: 1002, reason: 'no email address' },
    ]);
    expect((await m('GET', '/lists')).body.find((l: Loose) => l.listId === list.listId).contactCount).toBe(2500);

    // The list's members, searched by prefix and paged.
    const page = await m('GET', `/contacts?listId=${list.listId}&startsWith=person12&pageSize=5&pageNumber=1`);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(111); // person12, person120-129, person1200-1299
    expect(page.body.contacts.map((c: Loose) => c.emailAddress)).toEqual([
      'person124@example.com',
      'person125@example.com',
      'person126@example.com',
      'person127@example.com',
      'person128@example.com',
    ]);
    expect((await m('GET', `/contacts?listId=${list.listId}&pageSize=1`)).body.total).toBe(2500);
    expect((await m('GET', `/contacts?listId=999999`)).status).toBe(404);

    // Importing the same file again updates instead of creating.
    const again = await m('POST', `/lists/${list.listId}/imports`, { csv: lines.slice(0, 20).join('\n') });
    expect(await waitForImport(list.listId, again.body.importId)).toMatchObject({ state: 'done', imported: 0, updated: 18, rejected: 1 });
  });

  it('refuses a bad file whole, with the field "file", and writes nothing', async () => {
    const list = (await m('POST', '/lists', { json: { name: 'Refused import' } })).body;
    expect(await m('POST', `/lists/${list.listId}/imports`, { csv: 'emailAddress,Shoe\na@example.com,42\n' })).toMatchObject({
      status: 400,
      body: { field: 'file', message: expect.stringContaining('unknown column "Shoe"') },
    });
    expect(await m('POST', `/lists/${list.listId}/imports`, { csv: '' })).toMatchObject({ status: 400, body: { field: 'file' } });
    expect(await m('POST', `/lists/${list.listId}/imports`, { csv: 'firstName\nAnn\n' })).toMatchObject({
      status: 400,
      body: { message: 'the header has no emailAddress column; nothing was imported' },
    });
    expect((await m('POST', `/lists/999999/imports`, { csv: 'emailAddress\na@example.com\n' })).status).toBe(404);
    expect((await m('GET', `/lists/${list.listId}/imports/999`)).status).toBe(404);
    expect((await m('POST', `/lists/${list.listId}/imports`, { as: viewer, csv: 'emailAddress\nv@example.com\n' })).status).toBe(403);
    expect((await m('GET', `/contacts?listId=${list.listId}`)).body.total).toBe(0);
    expect((await m('GET', '/contacts?emailAddress=v@example.com')).body.total).toBe(0);
  });

  it('previews a send merged for one contact, as the send would, and sends nothing', async () => {
    const list = (await m('POST', '/lists', { json: { name: 'Preview' } })).body;
    expect((await m('POST', '/customfields/Plan')).status).toBe(201);
    const c = (await m('POST', '/contacts', { json: { emailAddress: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', customFields: { Plan: 'Gold' } } }))
      .body;
    expect((await m('PUT', `/lists/${list.listId}/contacts/${c.contactId}`)).status).toBe(204);
    const message = {
      From: { EmailAddress: 'news@example.com', FriendlyName: 'News' },
      Subject: 'Hello %%FirstName%%',
      HtmlBody: '<p>Dear %%RecipientName%%, plan %%Plan%%</p>',
      TextBody: 'Dear %%FirstName%% (%%EmailAddress%%)',
    };
    const p = await m('POST', `/lists/${list.listId}/send/preview?contactId=${c.contactId}`, { json: message });
    expect(p.status).toBe(200);
    expect(p.body).toEqual({
      listId: list.listId,
      contactId: c.contactId,
      unsubscribed: false,
      from: { emailAddress: 'news@example.com', friendlyName: 'News' },
      to: { emailAddress: 'ann@example.com', friendlyName: 'Ann Lee' },
      subject: 'Hello Ann',
      textBody: 'Dear Ann (ann@example.com)',
      htmlBody: '<p>Dear Ann Lee, plan Gold</p>',
    });
    // The send's own checks, and an unknown contact named as the field.
    expect(await m('POST', `/lists/${list.listId}/send/preview?contactId=${c.contactId}`, { json: { ...message, Subject: '' } })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^EmptySubject/) },
    });
    expect(await m('POST', `/lists/${list.listId}/send/preview?contactId=999999`, { json: message })).toMatchObject({
      status: 404,
      body: { field: 'contactId' },
    });
    // A viewer may not preview (a POST), as the API treats every change-shaped request.
    expect((await m('POST', `/lists/${list.listId}/send/preview?contactId=${c.contactId}`, { as: viewer, json: message })).status).toBe(403);
    expect(await t.store.listSends.get(serverId, list.listId, 1)).toBeUndefined();
    // The send itself through the session, and its progress.
    const sent = await m('POST', `/lists/${list.listId}/send`, { json: message });
    expect(sent.status).toBe(202);
    expect((await m('GET', `/lists/${list.listId}/sends/${sent.body.sendId}`)).body).toMatchObject({ sendId: sent.body.sendId, listId: list.listId });
    expect((await m('POST', `/lists/${list.listId}/send`, { as: viewer, json: message })).status).toBe(403);
  });
});
