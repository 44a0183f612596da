import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { countRows } from '../helpers/webhooks.js';
import { hashPassword } from '../../src/accept/passwords.js';
import { sessionIdOf, SIGN_IN_FAILURES_PER_EMAIL, SIGN_IN_FAILURES_PER_IP } from '../../src/accept/sessions.js';
import type { UserRole } from '../../src/core/users.js';

/** What the tests read from answers: the contract's shapes, checked by value (toEqual, toMatchObject). */
// biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field; typing each shape would repeat the contract
type Loose = any;

interface Answer<T = Loose> {
  status: number;
  headers: Headers;
  body: T;
}

/** A browser's view of one signed-in person: the cookie and the CSRF token. */
interface Browser {
  cookie: string;
  csrf: string;
  userId: number;
}

const PASSWORD = 'correct horse battery';

/**
 * The control panel's half of the management API over real HTTP (a listening server, the run's
 * store): sign-in, sessions, CSRF, roles, user management and the audit log.
 */
describe(`panel sign-in, sessions, CSRF, roles and audit (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let clock = Date.now();
  let accountId: number;
  let serverId: number;
  let otherServerId: number;
  let admin: Browser;
  let member: Browser;
  let viewer: Browser;

  async function call<T = Loose>(
    method: string,
    path: string,
    opts: { cookie?: string; csrf?: string; body?: unknown; origin?: string; key?: string; query?: string; ip?: string } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.csrf !== undefined) headers['x-csrf-token'] = opts.csrf;
    if (opts.origin) headers.origin = opts.origin;
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${t.url}/api/v2${path}${opts.query ?? ''}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
  }

  async function addUser(email: string, role: UserRole, account = accountId): Promise<number> {
    const u = await t.store.users.create({ accountId: account, email, role, passwordHash: await hashPassword(PASSWORD) }, clock);
    if ('duplicate' in u) throw new Error('duplicate');
    return u.id;
  }

  async function signIn(email: string, password = PASSWORD): Promise<Browser> {
    const r = await call('POST', '/session', { body: { email, password } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const cookie = /^(postline_session=[^;]+)/.exec(r.headers.get('set-cookie')!)![1]!;
    return { cookie, csrf: r.body.data.csrfToken, userId: r.body.data.user.id };
  }

  /** Signs the three people in again (after a test moved the clock past their sessions' idle time). */
  async function refresh(): Promise<void> {
    admin = await signIn('Admin@Example.com');
    member = await signIn('member@example.com');
    viewer = await signIn('viewer@example.com');
  }

  const auditRows = async () => (await t.store.audit.list(accountId, { limit: 1000, offset: 0 })).rows;

  beforeAll(async () => {
    t = await startTestApp({ now: () => clock });
    serverId = t.credentials.serverId;
    accountId = (await t.store.tenancy.getServer(serverId))!.accountId;
    const other = await t.store.tenancy.createAccount('Other', clock);
    otherServerId = (await t.store.tenancy.createServer({ accountId: other.id, name: 'Other server' }, clock)).id;
    await addUser('admin@example.com', 'admin');
    await addUser('member@example.com', 'member');
    await addUser('viewer@example.com', 'viewer');
    await refresh();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signs in: the cookie as the contract says, the user and a CSRF token; GET /session answers the same', async () => {
    const r = await call('POST', '/session', { body: { email: 'admin@example.com', password: PASSWORD } });
    expect(r.status).toBe(200);
    const setCookie = r.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^postline_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(r.body.data.user).toEqual({
      id: admin.userId,
      accountId,
      email: 'admin@example.com',
      role: 'admin',
      status: 'active',
      createdAt: new Date(clock).toISOString(),
      lastSignInAt: new Date(clock).toISOString(),
    });
    expect(r.body.data.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The store keeps the token's SHA-256, never the token.
    const token = /postline_session=([^;]+)/.exec(setCookie)![1]!;
    const found = await t.store.users.findSession(sessionIdOf(token));
    expect(found?.session.id).toBe(sessionIdOf(token));
    expect(await t.store.users.findSession(token)).toBeUndefined();
    const me = await call('GET', '/session', { cookie: `postline_session=${token}` });
    expect(me.status).toBe(200);
    expect(me.body.data).toEqual(r.body.data);
  });

  it('answers a wrong password, an unknown email and a disabled user alike: 401 invalid_credentials, no cookie', async () => {
    const before = await countRows(t.db, 'sessions');
    const disabled = await addUser('gone@example.com', 'member');
    await t.store.users.update(accountId, disabled, { status: 'disabled' }, clock);
    const answers = await Promise.all([
      call('POST', '/session', { body: { email: 'admin@example.com', password: 'not the password' } }),
      call('POST', '/session', { body: { email: 'nobody@example.com', password: PASSWORD } }),
      call('POST', '/session', { body: { email: 'gone@example.com', password: PASSWORD } }),
    ]);
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.headers.get('set-cookie')).toBeNull();
      expect(a.body).toEqual({ error: { code: 'invalid_credentials', message: 'wrong email or password' } });
    }
    expect(await countRows(t.db, 'sessions')).toBe(before);
    // The known users' failures are audited; the unknown email is not (it names no account).
    const failed = (await auditRows()).filter((r) => r.action === 'session.sign_in_failed');
    expect(failed.map((r) => r.email).sort()).toEqual(['admin@example.com', 'gone@example.com']);
  });

  it('refuses a missing field or an unknown one with the v2 error shape, signing no one in', async () => {
    const before = await countRows(t.db, 'sessions');
    expect((await call('POST', '/session', { body: { email: 'admin@example.com' } })).body.error).toMatchObject({
      code: 'validation_failed',
      field: 'password',
    });
    expect((await call('POST', '/session', { body: { email: 'a', password: 'b', remember: true } })).body.error.code).toBe('unknown_field');
    expect(await countRows(t.db, 'sessions')).toBe(before);
  });

  it('throttles failed sign-ins per email: 429 too_many_requests, even with the right password, until the window passes', async () => {
    await addUser('target@example.com', 'member');
    for (let i = 0; i < SIGN_IN_FAILURES_PER_EMAIL; i++) {
      expect((await call('POST', '/session', { body: { email: 'target@example.com', password: `wrong password ${i}` } })).status).toBe(401);
    }
    const blocked = await call('POST', '/session', { body: { email: 'TARGET@example.com', password: PASSWORD } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    expect(blocked.headers.get('set-cookie')).toBeNull();
    clock += 16 * 60_000;
    await signIn('target@example.com');
    await refresh();
  });

  it('throttles failed sign-ins per client address across emails', async () => {
    clock += 16 * 60_000; // a fresh window: earlier tests' failures are forgotten
    for (let i = 0; i < SIGN_IN_FAILURES_PER_IP; i++) {
      expect((await call('POST', '/session', { body: { email: `guess${i}@example.com`, password: 'not it at all' } })).status).toBe(401);
    }
    const blocked = await call('POST', '/session', { body: { email: 'member@example.com', password: PASSWORD } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    clock += 16 * 60_000;
    await refresh();
  });

  it('ends a session after the idle time and at the absolute expiry, renewing last use at most once a minute', async () => {
    await addUser('clock@example.com', 'viewer');
    const b = await signIn('clock@example.com');
    const id = sessionIdOf(b.cookie.slice('postline_session='.length));
    const seen = async () => (await t.store.users.findSession(id))?.session.lastSeenAt;
    const start = clock;
    clock += 30_000;
    expect((await call('GET', '/servers', { cookie: b.cookie })).status).toBe(200);
    expect(await seen()).toBe(start); // under a minute: not written
    // Busy every 11 hours: the 12-hour idle limit never hits, the 7-day absolute one does.
    for (let h = 11; h < 7 * 24; h += 11) {
      clock = start + h * 3_600_000;
      expect((await call('GET', '/session', { cookie: b.cookie })).status, `after ${h} h`).toBe(200);
      expect(await seen()).toBe(clock);
    }
    clock = start + 7 * 24 * 3_600_000;
    expect((await call('GET', '/session', { cookie: b.cookie })).status).toBe(401);
    expect(await seen()).toBeUndefined(); // the expired row is deleted

    const idle = await signIn('clock@example.com');
    clock += 12 * 3_600_000;
    const r = await call('GET', '/servers', { cookie: idle.cookie });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
    await refresh();
  });

  it('signs out: 204, the row deleted, the cookie cleared, the session refused afterwards; sign-out needs the CSRF header', async () => {
    const b = await signIn('member@example.com');
    const refused = await call('DELETE', '/session', { cookie: b.cookie });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('csrf_failed');
    expect((await call('GET', '/session', { cookie: b.cookie })).status).toBe(200);
    const out = await call('DELETE', '/session', { cookie: b.cookie, csrf: b.csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toBe('postline_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
    expect(await t.store.users.findSession(sessionIdOf(b.cookie.slice('postline_session='.length)))).toBeUndefined();
    expect((await call('GET', '/session', { cookie: b.cookie })).status).toBe(401);
    expect((await call('GET', `/servers/${serverId}`, { cookie: b.cookie })).status).toBe(401);
    expect((await auditRows()).some((r) => r.action === 'session.signed_out' && r.userId === b.userId)).toBe(true);
  });

  it("a session acts for its account: reads and changes its servers, not another account's", async () => {
    expect((await call('GET', `/servers/${serverId}`, { cookie: member.cookie })).status).toBe(200);
    const list = await call('GET', '/servers', { cookie: viewer.cookie });
    expect(list.status).toBe(200);
    expect(list.body.data.map((s: { serverId: number }) => s.serverId)).not.toContain(otherServerId);
    const other = await call('GET', `/servers/${otherServerId}`, { cookie: admin.cookie });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('wrong_server');
    const changed = await call('POST', `/servers/${serverId}/suppressions`, {
      cookie: member.cookie,
      csrf: member.csrf,
      body: { emailAddress: 'member-added@example.com' },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBeLessThan(300);
  });

  it('refuses a viewer every change with 403 insufficient_role, and nothing changes', async () => {
    const template = await t.store.templates.create(serverId, { name: 'keep me', subject: 's', htmlBody: null, textBody: 'x', ampBody: null }, clock);
    const counts = async () => ({
      servers: await countRows(t.db, 'servers'),
      suppressions: await countRows(t.db, 'suppressions'),
      templates: await countRows(t.db, 'templates'),
      keys: await countRows(t.db, 'api_keys'),
      name: (await t.store.tenancy.getServer(serverId))!.name,
    });
    const before = await counts();
    const attempts: [string, string, unknown][] = [
      ['POST', '/servers', { name: 'by viewer' }],
      ['PATCH', `/servers/${serverId}`, { name: 'renamed by viewer' }],
      ['POST', `/servers/${serverId}/suppressions`, { emailAddress: 'viewer-added@example.com' }],
      ['POST', `/servers/${serverId}/templates`, { name: 'by viewer', textBody: 'x' }],
      ['DELETE', `/servers/${serverId}/templates/${template.id}`, undefined],
      ['POST', '/account/api-keys', { name: 'by viewer', scope: 'account' }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await call(method, path, { cookie: viewer.cookie, csrf: viewer.csrf, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code, `${method} ${path}`).toBe('insufficient_role');
    }
    expect(await counts()).toEqual(before);
    expect(await t.store.templates.get(serverId, template.id)).toBeDefined();
  });

  it('refuses a state-changing request with the cookie but a missing or wrong X-CSRF-Token: 403 csrf_failed, nothing changed', async () => {
    const before = { servers: await countRows(t.db, 'servers'), suppressions: await countRows(t.db, 'suppressions') };
    for (const csrf of [undefined, '', 'x'.repeat(43), viewer.csrf]) {
      const a = await call('POST', '/servers', { cookie: admin.cookie, csrf, body: { name: 'forged' } });
      expect(a.status).toBe(403);
      expect(a.body.error.code).toBe('csrf_failed');
      const b = await call('POST', `/servers/${serverId}/suppressions`, { cookie: member.cookie, csrf, body: { emailAddress: 'forged@example.com' } });
      expect(b.body.error.code).toBe('csrf_failed');
    }
    // A cross-origin HTML form: no custom header can be sent, and the body is not JSON.
    const form = await fetch(`${t.url}/api/v2/servers`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'name=forged',
    });
    expect(form.status).toBe(403);
    expect(((await form.json()) as Loose).error.code).toBe('csrf_failed');
    expect({ servers: await countRows(t.db, 'servers'), suppressions: await countRows(t.db, 'suppressions') }).toEqual(before);
  });

  it('refuses a cookie-authenticated change from another origin even with the right token; its own origin is accepted', async () => {
    const before = await countRows(t.db, 'servers');
    const r = await call('POST', '/servers', { cookie: admin.cookie, csrf: admin.csrf, origin: 'https://evil.example', body: { name: 'cross origin' } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('csrf_failed');
    expect((await call('POST', '/session', { origin: 'https://evil.example', body: { email: 'admin@example.com', password: PASSWORD } })).body.error.code).toBe(
      'csrf_failed',
    );
    expect(await countRows(t.db, 'servers')).toBe(before);
    const ok = await call('POST', '/servers', { cookie: admin.cookie, csrf: admin.csrf, origin: t.url, body: { name: 'same origin' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(await countRows(t.db, 'servers')).toBe(before + 1);
  });

  it('leaves API-key requests alone: a key wins over a cookie, and needs no CSRF header', async () => {
    const r = await call('POST', '/servers', { key: t.credentials.accountKey, cookie: viewer.cookie, body: { name: 'by key' } });
    expect(r.status).toBe(201);
    expect((await call('GET', '/account/users', { key: t.credentials.accountKey })).status).toBe(200);
    // No key and a cookie of no session: 401 as before.
    expect((await call('GET', '/servers', { cookie: 'postline_session=nonsense' })).body.error.code).toBe('unauthorized');
    expect((await call('GET', '/servers')).body.error.code).toBe('unauthorized');
  });

  it('stops a disabled user at once, and a new password ends every session', async () => {
    const id = await addUser('soon-off@example.com', 'member');
    const b = await signIn('soon-off@example.com');
    const r = await call('PATCH', `/account/users/${id}`, { cookie: admin.cookie, csrf: admin.csrf, body: { status: 'disabled' } });
    expect(r.status).toBe(200);
    expect(r.body.data.status).toBe('disabled');
    expect((await call('GET', '/servers', { cookie: b.cookie })).status).toBe(401);
    expect(await t.store.users.countSessions(id)).toBe(0);
    await call('PATCH', `/account/users/${id}`, { cookie: admin.cookie, csrf: admin.csrf, body: { status: 'active' } });
    const again = await signIn('soon-off@example.com');
    expect((await call('PATCH', `/account/users/${id}`, { cookie: admin.cookie, csrf: admin.csrf, body: { password: 'a brand new password' } })).status).toBe(
      200,
    );
    expect((await call('GET', '/session', { cookie: again.cookie })).status).toBe(401);
    await signIn('soon-off@example.com', 'a brand new password');
  });

  it('lets admins manage people; a member or viewer gets 403 insufficient_role and nothing changes', async () => {
    const before = await countRows(t.db, 'users');
    for (const b of [member, viewer]) {
      for (const [method, path, body] of [
        ['GET', '/account/users', undefined],
        ['POST', '/account/users', { email: 'new@example.com', role: 'admin', password: PASSWORD }],
        ['PATCH', `/account/users/${b.userId}`, { role: 'admin' }],
        ['GET', '/account/audit-log', undefined],
      ] as const) {
        const r = await call(method, path, { cookie: b.cookie, csrf: b.csrf, body });
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(r.body.error.code).toBe('insufficient_role');
      }
    }
    expect(await countRows(t.db, 'users')).toBe(before);
    expect((await t.store.users.get(member.userId))!.role).toBe('member');

    const created = await call('POST', '/account/users', {
      cookie: admin.cookie,
      csrf: admin.csrf,
      body: { email: 'New@Example.com', role: 'viewer', password: PASSWORD },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ email: 'new@example.com', role: 'viewer', status: 'active', lastSignInAt: null, accountId });
    expect(JSON.stringify(created.body)).not.toMatch(/scrypt/);
    const list = await call('GET', '/account/users', { cookie: admin.cookie });
    expect(list.body.total).toBe(list.body.data.length);
    expect(list.body.data.map((u: { email: string }) => u.email)).toContain('new@example.com');
    const changed = await call('PATCH', `/account/users/${created.body.data.id}`, { cookie: admin.cookie, csrf: admin.csrf, body: { role: 'member' } });
    expect(changed.body.data.role).toBe('member');
  });

  it('refuses bad user input with a clear error, writing nothing', async () => {
    const before = await countRows(t.db, 'users');
    const post = (body: unknown) => call('POST', '/account/users', { cookie: admin.cookie, csrf: admin.csrf, body });
    expect((await post({ email: 'not an email', role: 'viewer', password: PASSWORD })).body.error).toMatchObject({ code: 'validation_failed', field: 'email' });
    expect((await post({ email: 'x@example.com', role: 'owner', password: PASSWORD })).body.error).toMatchObject({ code: 'validation_failed', field: 'role' });
    const short = (await post({ email: 'x@example.com', role: 'viewer', password: 'short' })).body.error;
    expect(short).toMatchObject({ code: 'validation_failed', field: 'password' });
    expect(short.message).toMatch(/at least 12 characters/);
    const dup = await post({ email: 'ADMIN@example.com', role: 'viewer', password: PASSWORD });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'already_exists', field: 'email' });
    expect(await countRows(t.db, 'users')).toBe(before);
    const patch = (id: number | string, body: unknown) => call('PATCH', `/account/users/${id}`, { cookie: admin.cookie, csrf: admin.csrf, body });
    expect((await patch(member.userId, {})).body.error.code).toBe('validation_failed');
    expect((await patch(member.userId, { password: 'short' })).body.error.field).toBe('password');
    expect((await patch(member.userId, { role: 'root' })).body.error.field).toBe('role');
    expect((await patch(999_999, { role: 'viewer' })).status).toBe(404);
    // Another account's user is not found either.
    const stranger = await addUser('stranger@example.com', 'admin', (await t.store.tenancy.getServer(otherServerId))!.accountId);
    expect((await patch(stranger, { role: 'viewer' })).status).toBe(404);
    expect((await t.store.users.get(stranger))!.role).toBe('admin');
    expect((await t.store.users.get(member.userId))!.role).toBe('member');
  });

  it('writes the audit log: sign-ins, user changes and every state-changing session request with its route and status', async () => {
    const r = await call('POST', `/servers/${serverId}/suppressions`, {
      cookie: member.cookie,
      csrf: member.csrf,
      body: { emailAddress: 'audited@example.com' },
    });
    const refused = await call('POST', '/servers', { cookie: viewer.cookie, csrf: viewer.csrf, body: { name: 'refused' } });
    await call('GET', '/servers', { cookie: member.cookie }); // reads are not audited
    const log = await call('GET', '/account/audit-log', { cookie: admin.cookie, query: '?limit=5&offset=0' });
    expect(log.status).toBe(200);
    expect(log.body.data).toHaveLength(5);
    const [newest, previous] = log.body.data;
    expect(previous).toMatchObject({
      userId: member.userId,
      email: 'member@example.com',
      action: 'request',
      target: 'POST /api/v2/servers/:serverId/suppressions',
      detail: { status: r.status, path: `/api/v2/servers/${serverId}/suppressions` },
    });
    expect(newest).toMatchObject({ userId: viewer.userId, action: 'request', target: 'POST /api/v2/servers', detail: { status: 403 } });
    expect(refused.status).toBe(403);
    expect(log.body.total).toBeGreaterThan(5);
    const all = await auditRows();
    const actions = new Set(all.map((a) => a.action));
    for (const a of ['session.signed_in', 'session.sign_in_failed', 'session.signed_out', 'user.created', 'user.updated', 'request'])
      expect(actions).toContain(a);
    expect(all.every((a, i) => i === 0 || a.id < all[i - 1]!.id)).toBe(true);
    expect((await call('GET', '/account/audit-log', { cookie: admin.cookie, query: '?limit=0' })).body.error.code).toBe('validation_failed');
  });

  it('lists the session, users and audit-log routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v2/session']!).sort()).toEqual(['delete', 'get', 'post']);
    expect(doc.paths['/api/v2/account/users']).toHaveProperty('post');
    expect(doc.paths['/api/v2/account/users/{userId}']).toHaveProperty('patch');
    expect(doc.paths['/api/v2/account/audit-log']).toHaveProperty('get');
  });
});
