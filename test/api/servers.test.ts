import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';

interface ServerWire {
  serverId: number;
  accountId: number;
  name: string;
  status: string;
  sandbox: boolean;
  requireVerifiedDomain: boolean;
  tracking: { opens: boolean; clicks: boolean; unsubscribes: boolean; domain: string | null };
  createdOn: string;
}
type One = { data: ServerWire } & V2Error;
type Page = { data: ServerWire[]; total: number } & V2Error;

describe(`servers, /api/v2/servers (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let accountId: number;
  let accountKey: string;
  let managementKey: string;
  /** A second server of the same account, with its own management key. */
  let sibling: { id: number; key: string };
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  const servers = () => countRows(t.db, 'servers');
  const message = (id: number, key: string) => ({
    serverId: id,
    apiKey: key,
    messages: [{ to: [{ emailAddress: 'a@example.com' }], from: { emailAddress: 'b@example.com' }, subject: 's', textBody: 't' }],
  });

  beforeAll(async () => {
    t = await startTestApp({ roles: ['api', 'smtp'], config: { smtpHost: '127.0.0.1', submissionPort: 0, allowInsecureAuth: true } });
    serverId = t.credentials.serverId;
    accountKey = t.credentials.accountKey;
    accountId = (await t.store.tenancy.getServer(serverId))!.accountId;
    managementKey = (await createKey(t.store, serverId, 'management')).key;
    const s = await t.store.tenancy.createServer({ accountId, name: 'Sibling' }, Date.now());
    sibling = { id: s.id, key: (await createKey(t.store, s.id, 'management')).key };
    tenant = await createTenant(t.store);
  });
  afterAll(async () => {
    await t.close();
  });

  it('every route refuses a missing key (401), an injection key (403) and keys of other servers or accounts (403 wrong_server), changing nothing', async () => {
    const base = `/servers/${serverId}`;
    const before = await t.store.tenancy.getServer(serverId);
    const count = await servers();
    const perServer = [
      ['GET', base, {}],
      ['PATCH', base, { body: { name: 'Hijacked' } }],
      ['POST', `${base}/disable`, {}],
      ['POST', `${base}/enable`, {}],
    ] as const;
    for (const [method, path, opts] of perServer) {
      for (const [key, status, code] of [
        [null, 401, 'unauthorized'],
        [t.credentials.apiKey, 403, 'insufficient_scope'],
        [sibling.key, 403, 'wrong_server'],
        [tenant.managementKey, 403, 'wrong_server'],
        [tenant.accountKey, 403, 'wrong_server'],
      ] as const) {
        const r = await v2<V2Error>(t, method, path, { ...opts, key });
        expect([method, path, key === null ? 'none' : key.slice(0, 4), r.status, r.body.error?.code]).toEqual([
          method,
          path,
          key === null ? 'none' : key.slice(0, 4),
          status,
          code,
        ]);
      }
    }
    // A server that does not exist answers the same as another tenant's: ServerIds cannot be probed.
    expect((await v2<V2Error>(t, 'GET', '/servers/999999', { key: accountKey })).body.error.code).toBe('wrong_server');
    for (const [method, opts] of [
      ['GET', {}],
      ['POST', { body: { name: 'New' } }],
    ] as const) {
      expect((await v2<V2Error>(t, method, '/servers', { ...opts, key: null })).status).toBe(401);
      const inj = await v2<V2Error>(t, method, '/servers', { ...opts, key: t.credentials.apiKey });
      expect([inj.status, inj.body.error.code]).toEqual([403, 'insufficient_scope']);
    }
    // Creating a server needs an account key.
    const byManager = await v2<V2Error>(t, 'POST', '/servers', { key: managementKey, body: { name: 'New' } });
    expect([byManager.status, byManager.body.error.code]).toEqual([403, 'insufficient_scope']);
    expect(byManager.body.error.message).toMatch(/account key/);
    expect(await t.store.tenancy.getServer(serverId)).toEqual(before);
    expect(await servers()).toBe(count);
  });

  it("creates a server in the account key's account, requiring verified domains by default", async () => {
    const r = await v2<One>(t, 'POST', '/servers', { key: accountKey, body: { name: '  Billing  ', trackOpens: true, sandbox: true } });
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({
      accountId,
      name: 'Billing',
      status: 'active',
      sandbox: true,
      requireVerifiedDomain: true,
      tracking: { opens: true, clicks: false, unsubscribes: false, domain: null },
    });
    expect(new Date(r.body.data.createdOn).toISOString()).toBe(r.body.data.createdOn);
    const stored = await t.store.tenancy.getServer(r.body.data.serverId);
    expect(stored).toMatchObject({ accountId, name: 'Billing', sandbox: true, requireVerifiedDomain: true, tracking: { opens: true } });
    const off = await v2<One>(t, 'POST', '/servers', { key: accountKey, body: { name: 'Trial', requireVerifiedDomain: false } });
    expect(off.body.data.requireVerifiedDomain).toBe(false);
    // Another account's key creates in its own account, and cannot reach this one's new server.
    const theirs = await v2<One>(t, 'POST', '/servers', { key: tenant.accountKey, body: { name: 'Theirs' } });
    expect(theirs.body.data.accountId).toBe(tenant.accountId);
    expect((await v2<V2Error>(t, 'GET', `/servers/${r.body.data.serverId}`, { key: tenant.accountKey })).body.error.code).toBe('wrong_server');
    expect((await v2<One>(t, 'GET', `/servers/${r.body.data.serverId}`, { key: accountKey })).body.data).toEqual(r.body.data);
  });

  it.each([
    [{}, 'validation_failed', 'name', /"name" is required/],
    [{ name: '' }, 'validation_failed', 'name', /fewer than 1/],
    [{ name: '   ' }, 'validation_failed', 'name', /pattern/],
    [{ name: 'x'.repeat(201) }, 'validation_failed', 'name', /more than 200/],
    [{ name: 'x', sandbox: 'yes' }, 'validation_failed', 'sandbox', /boolean/],
    [{ name: 'x', status: 'disabled' }, 'unknown_field', 'status', /unknown body field/],
    [{ name: 'x', accountId: 1 }, 'unknown_field', 'accountId', /unknown body field/],
  ] as const)('refuses to create %j with %s and stores nothing', async (body, code, field, message) => {
    const count = await servers();
    const r = await v2<V2Error>(t, 'POST', '/servers', { key: accountKey, body });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code, field });
    expect(r.body.error.message).toMatch(message);
    expect(await servers()).toBe(count);
  });

  it("lists the account's servers for an account key (paged, sorted), only its own server for a management key", async () => {
    const mine = (await t.store.tenancy.listServers()).filter((s) => s.accountId === accountId);
    const all = await v2<Page>(t, 'GET', '/servers', { key: accountKey, query: { pageSize: 100 } });
    expect(all.body.total).toBe(mine.length);
    expect(all.body.data.map((s) => s.serverId)).toEqual(mine.map((s) => s.id));
    expect(all.body.data.every((s) => s.accountId === accountId)).toBe(true);
    const byName = await v2<Page>(t, 'GET', '/servers', { key: accountKey, query: { sortField: 'name', sortDirection: 'dsc', pageSize: 2, pageNumber: 1 } });
    const names = mine
      .map((s) => s.name)
      .sort()
      .reverse();
    expect(byName.body.data.map((s) => s.name)).toEqual(names.slice(2, 4));
    expect(byName.body.total).toBe(mine.length);
    const own = await v2<Page>(t, 'GET', '/servers', { key: sibling.key });
    expect(own.body).toEqual({ data: [expect.objectContaining({ serverId: sibling.id })], total: 1 });
    const theirs = await v2<Page>(t, 'GET', '/servers', { key: tenant.accountKey, query: { pageSize: 100 } });
    expect(theirs.body.data.every((s) => s.accountId === tenant.accountId)).toBe(true);
    expect(theirs.body.data.map((s) => s.serverId)).toContain(tenant.serverId);
    const bad = await v2<V2Error>(t, 'GET', '/servers', { key: accountKey, query: { sortField: 'status' } });
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', field: 'sortField' });
  });

  it('gets and updates a server with its management key or the account key', async () => {
    const got = await v2<One>(t, 'GET', `/servers/${serverId}`, { key: managementKey });
    expect(got.body.data).toMatchObject({ serverId, accountId, name: 'Default server', status: 'active', requireVerifiedDomain: false });
    const r = await v2<One>(t, 'PATCH', `/servers/${serverId}`, { key: managementKey, body: { name: 'Main', trackClicks: true, trackUnsubscribes: true } });
    expect(r.body.data).toMatchObject({ name: 'Main', tracking: { opens: false, clicks: true, unsubscribes: true }, sandbox: false });
    const s = await v2<One>(t, 'PATCH', `/servers/${serverId}`, { key: accountKey, body: { requireVerifiedDomain: true, sandbox: true, trackClicks: false } });
    expect(s.body.data).toMatchObject({ name: 'Main', requireVerifiedDomain: true, sandbox: true, tracking: { clicks: false, unsubscribes: true } });
    expect(await t.store.tenancy.getServer(serverId)).toMatchObject({
      name: 'Main',
      requireVerifiedDomain: true,
      sandbox: true,
      tracking: { clicks: false, unsubscribes: true },
    });
    await t.store.tenancy.updateServer(serverId, { name: 'Default server', sandbox: false, requireVerifiedDomain: false, tracking: { unsubscribes: false } });
  });

  it.each([
    [{}, 'validation_failed', undefined, /at least 1/],
    [{ name: '' }, 'validation_failed', 'name', /fewer than 1/],
    [{ trackOpens: 'maybe' }, 'validation_failed', 'trackOpens', /boolean/],
    [{ status: 'disabled' }, 'unknown_field', 'status', /unknown body field/],
    [{ name: 'x', serverId: 5 }, 'unknown_field', 'serverId', /unknown body field/],
  ] as const)('refuses to update with %j (%s) and changes nothing', async (body, code, field, message) => {
    const before = await t.store.tenancy.getServer(serverId);
    const r = await v2<V2Error>(t, 'PATCH', `/servers/${serverId}`, { key: accountKey, body });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.field).toBe(field);
    expect(r.body.error.message).toMatch(message);
    expect(await t.store.tenancy.getServer(serverId)).toEqual(before);
  });

  it("disabling stops the server's keys at once (Injection API, SMTP AUTH, v2); only the account key can enable it again", async () => {
    const created = await v2<One>(t, 'POST', '/servers', { key: accountKey, body: { name: 'Disposable', requireVerifiedDomain: false } });
    const id = created.body.data.serverId;
    const injection = (await createKey(t.store, id, 'injection')).key;
    const manager = (await createKey(t.store, id, 'management')).key;
    const smtp = () =>
      createTransport({ host: '127.0.0.1', port: t.app.smtpPort!, secure: false, ignoreTLS: true, auth: { user: String(id), pass: injection } }).sendMail({
        from: 'b@example.com',
        to: 'a@example.com',
        subject: 's',
        text: 't',
      });
    expect((await inject(t, message(id, injection))).body.ErrorCode).toBe('Success');
    await smtp();

    const off = await v2<One>(t, 'POST', `/servers/${id}/disable`, { key: manager });
    expect(off.status).toBe(200);
    expect(off.body.data.status).toBe('disabled');
    expect((await inject(t, message(id, injection))).body.ErrorCode).toBe('AccountDisabled');
    await expect(smtp()).rejects.toMatchObject({ responseCode: 535, response: expect.stringMatching(/disabled/) });
    const v2Refused = await v2<V2Error>(t, 'GET', `/servers/${id}`, { key: manager });
    expect([v2Refused.status, v2Refused.body.error.code]).toEqual([403, 'server_disabled']);
    // Its own keys cannot enable it; another server's management key is not the account's key.
    expect((await v2<V2Error>(t, 'POST', `/servers/${id}/enable`, { key: manager })).body.error.code).toBe('server_disabled');
    const bySibling = await v2<V2Error>(t, 'POST', `/servers/${sibling.id}/enable`, { key: sibling.key });
    expect([bySibling.status, bySibling.body.error.code]).toEqual([403, 'insufficient_scope']);
    expect((await t.store.tenancy.getServer(id))!.status).toBe('disabled');
    // The account key still reaches the disabled server.
    expect((await v2<One>(t, 'GET', `/servers/${id}`, { key: accountKey })).body.data.status).toBe('disabled');

    const on = await v2<One>(t, 'POST', `/servers/${id}/enable`, { key: accountKey });
    expect(on.body.data.status).toBe('active');
    expect((await inject(t, message(id, injection))).body.ErrorCode).toBe('Success');
    await smtp();
    expect((await v2<One>(t, 'GET', `/servers/${id}`, { key: manager })).status).toBe(200);
    // The account key may disable too.
    expect((await v2<One>(t, 'POST', `/servers/${id}/disable`, { key: accountKey })).body.data.status).toBe('disabled');
  });

  it('refuses query parameters on single-server routes', async () => {
    const r = await v2<V2Error>(t, 'GET', `/servers/${serverId}`, { key: accountKey, query: { verbose: 1 } });
    expect(r.body.error).toMatchObject({ code: 'unknown_field', field: 'verbose' });
  });
});
