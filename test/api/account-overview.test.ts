import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createAccountKey, createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { hashPassword } from '../../src/accept/passwords.js';
import type { DeliveryOutcomeRecord } from '../../src/store/store.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field against the contract
type Loose = any;

const PASSWORD = 'correct horse battery';

/**
 * What the control panel's Overview and Users pages need from the management API, over real
 * HTTP on the run's store: statistics summed over an account's servers
 * (`/account/reports/statistics`), the queue now per server and per account (`/queue`), the audit
 * log's filters, and the rule that an account keeps an active admin (409 last_active_admin).
 */
describe(`account overview: statistics, queue depth, audit filters, last admin (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let accountId: number;
  let s1: number;
  let s2: number;
  let accountKey: string;
  let s1Key: string;
  let other: Awaited<ReturnType<typeof createTenant>>;
  const today = new Date().toISOString().slice(0, 10);
  const range = { startDate: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), endDate: today };

  /** Sends `n` recipients (r0@..., r1@...) in one message through the Injection API. */
  async function send(serverId: number, apiKey: string, n: number, tag: string): Promise<void> {
    const r = await inject(t, {
      ServerId: serverId,
      ApiKey: apiKey,
      Messages: [
        {
          To: Array.from({ length: n }, (_, i) => ({ EmailAddress: `${tag}${i}@example.net` })),
          From: { EmailAddress: 'shop@example.com' },
          Subject: `overview ${tag}`,
          TextBody: 'hello',
        },
      ],
    });
    expect(r.body.ErrorCode, r.text).toBe('Success');
  }

  /** Claims every queued recipient and records: the first `delivered` delivered, the next `failed` failed for good, the rest deferred. */
  async function settle(delivered: number, failed: number): Promise<void> {
    const now = Date.now();
    const claimed = (await t.store.queue.claim('overview-test', 1000, now, now - 1)).sort((a, b) => a.address.localeCompare(b.address));
    const outcomes: DeliveryOutcomeRecord[] = claimed.map((r, i) =>
      i < delivered
        ? {
            recipientId: r.id,
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: null,
            reply: '250 ok',
            mx: 'mx.example.net',
            failureCode: null,
            event: { type: 'Delivered', data: { Response: '250 ok' } },
          }
        : i < delivered + failed
          ? {
              recipientId: r.id,
              status: 'failed',
              attempts: 1,
              nextAttemptAt: null,
              reply: '550 5.1.1 no such user',
              mx: 'mx.example.net',
              failureCode: 5001,
              event: { type: 'Failed', data: { FailureType: 1, FailureCode: 5001, Reason: '550 5.1.1 no such user' } },
            }
          : {
              recipientId: r.id,
              status: 'deferred',
              attempts: 1,
              nextAttemptAt: now + 3_600_000,
              reply: '451 try later',
              mx: 'mx.example.net',
              failureCode: 4001,
              event: { type: 'Deferred', data: { FailureCode: 4001, Attempts: 1 } },
            },
    );
    await t.store.queue.recordOutcomes('overview-test', outcomes, now);
  }

  async function signIn(email: string): Promise<{ cookie: string; csrf: string; userId: number }> {
    const r = await fetch(`${t.url}/api/v2/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Loose;
    return { cookie: /^(postline_session=[^;]+)/.exec(r.headers.get('set-cookie')!)![1]!, csrf: body.data.csrfToken, userId: body.data.user.id };
  }

  /** A request with a session cookie (and its CSRF token on changes). */
  async function asUser(b: { cookie: string; csrf: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: Loose }> {
    const headers: Record<string, string> = { cookie: b.cookie, 'x-csrf-token': b.csrf };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${t.url}/api/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, body: text === '' ? null : JSON.parse(text) };
  }

  async function addUser(email: string, role: 'admin' | 'member' | 'viewer'): Promise<number> {
    const u = await t.store.users.create({ accountId, email, role, passwordHash: await hashPassword(PASSWORD) }, Date.now());
    if ('duplicate' in u) throw new Error('duplicate');
    return u.id;
  }

  beforeAll(async () => {
    t = await startTestApp();
    s1 = t.credentials.serverId;
    accountId = (await t.store.tenancy.getServer(s1))!.accountId;
    s2 = (await t.store.tenancy.createServer({ accountId, name: 'Second' }, Date.now())).id;
    accountKey = (await createAccountKey(t.store, accountId)).key;
    s1Key = (await createKey(t.store, s1, 'management')).key;
    other = await createTenant(t.store, 'Stranger');

    await send(s1, t.credentials.apiKey, 6, 'a');
    await settle(3, 2); // s1: 3 delivered, 2 failed, 1 deferred
    await send(s2, (await createKey(t.store, s2, 'injection')).key, 4, 'b'); // s2: 4 queued
    await send(other.serverId, (await createKey(t.store, other.serverId, 'injection')).key, 5, 'c'); // another account: never counted
  });
  afterAll(async () => {
    await t?.close();
  });

  it("sums the statistics of every server of the account, and of no other account's", async () => {
    const account = await v2<{ data: Loose } & V2Error>(t, 'GET', '/account/reports/statistics', { key: accountKey, query: { ...range, bucket: 'hour' } });
    expect(account.status, account.text).toBe(200);
    const one = await v2<{ data: Loose }>(t, 'GET', `/servers/${s1}/reports/statistics`, { key: accountKey, query: { ...range, bucket: 'hour' } });
    const two = await v2<{ data: Loose }>(t, 'GET', `/servers/${s2}/reports/statistics`, { key: accountKey, query: { ...range, bucket: 'hour' } });
    const a = account.body.data;
    expect(a.totals).toMatchObject({ queued: 10, delivered: 3, failed: 2, failedPermanent: 2, deferred: 1 });
    expect(one.body.data.totals).toMatchObject({ queued: 6, delivered: 3, failed: 2, deferred: 1 });
    expect(two.body.data.totals).toMatchObject({ queued: 4, delivered: 0 });
    expect(a.rates).toEqual({ delivery: 0.6, bounce: 0.4, complaint: 0, open: 0, click: 0 });
    // Same buckets as a server's answer, each the sum of the servers' buckets.
    expect(a.buckets.map((b: Loose) => b.label)).toEqual(one.body.data.buckets.map((b: Loose) => b.label));
    for (const [i, b] of (a.buckets as Loose[]).entries()) expect(b.queued).toBe(one.body.data.buckets[i].queued + two.body.data.buckets[i].queued);
    expect(a).toMatchObject({ bucket: 'hour', timeZone: 'UTC', filter: null });

    // Day buckets in a zone, and CSV, as on the per-server route.
    const days = await v2<{ data: Loose }>(t, 'GET', '/account/reports/statistics', { key: accountKey, query: { ...range, timeZone: 'Europe/Paris' } });
    expect(days.body.data.bucket).toBe('day');
    expect(days.body.data.totals.queued).toBe(10);
    const csv = await v2(t, 'GET', '/account/reports/statistics', { key: accountKey, query: { ...range, format: 'csv' } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.text.split('\n')[0]).toMatch(/^start,label,queued,delivered/);

    // The other account's key sees its own 5 only; a server's management key its own server.
    const theirs = await v2<{ data: Loose }>(t, 'GET', '/account/reports/statistics', { key: other.accountKey, query: range });
    expect(theirs.body.data.totals.queued).toBe(5);
    const byServerKey = await v2<{ data: Loose }>(t, 'GET', '/account/reports/statistics', { key: s1Key, query: range });
    expect(byServerKey.body.data.totals.queued).toBe(6);
  });

  it('refuses a bad statistics query naming the parameter, as the per-server route does', async () => {
    const bad = async (query: Record<string, string>, field: string) => {
      const r = await v2<V2Error>(t, 'GET', '/account/reports/statistics', { key: accountKey, query });
      expect(r.status, r.text).toBe(400);
      expect(r.body.error.field).toBe(field);
    };
    await bad({ ...range, startDate: 'yesterday' }, 'startDate');
    await bad({ startDate: today, endDate: '2000-01-01' }, 'endDate');
    await bad({ ...range, timeZone: 'Mars/Olympus' }, 'timeZone');
    await bad({ startDate: '2020-01-01', endDate: today, bucket: 'hour' }, 'bucket');
    expect((await v2(t, 'GET', '/account/reports/statistics', { key: null, query: range })).status).toBe(401);
  });

  it('counts the queue now per server and per account', async () => {
    const q = async (path: string, key: string) => {
      const r = await v2<{ data: Loose }>(t, 'GET', path, { key });
      expect(r.status, r.text).toBe(200);
      return r.body.data;
    };
    expect(await q(`/servers/${s1}/queue`, accountKey)).toEqual({ queued: 0, deferred: 1, delivering: 0, total: 1 });
    expect(await q(`/servers/${s2}/queue`, accountKey)).toEqual({ queued: 4, deferred: 0, delivering: 0, total: 4 });
    expect(await q('/account/queue', accountKey)).toEqual({ queued: 4, deferred: 1, delivering: 0, total: 5 });
    expect(await q('/account/queue', s1Key)).toEqual({ queued: 0, deferred: 1, delivering: 0, total: 1 });
    expect(await q('/account/queue', other.accountKey)).toEqual({ queued: 5, deferred: 0, delivering: 0, total: 5 });
    expect((await v2<V2Error>(t, 'GET', `/servers/${other.serverId}/queue`, { key: accountKey })).status).toBe(403);
  });

  it('lets a viewer read the overview (statistics and queue) with a session', async () => {
    await addUser('viewer@overview.test', 'viewer');
    const viewer = await signIn('viewer@overview.test');
    expect((await asUser(viewer, 'GET', `/account/reports/statistics?startDate=${range.startDate}&endDate=${today}`)).body.data.totals.queued).toBe(10);
    expect((await asUser(viewer, 'GET', '/account/queue')).body.data.total).toBe(5);
  });

  it('refuses to disable or demote the last active admin (409 last_active_admin), and allows it once another admin exists', async () => {
    const adminId = await addUser('admin@overview.test', 'admin');
    const admin = await signIn('admin@overview.test');
    const before = await countRows(t.db, 'audit_log');
    for (const [body, field] of [
      [{ status: 'disabled' }, 'status'],
      [{ role: 'member' }, 'role'],
      [{ role: 'viewer', status: 'disabled' }, 'status'],
    ] as const) {
      const r = await asUser(admin, 'PATCH', `/account/users/${adminId}`, body);
      expect(r.status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'last_active_admin', field });
      expect(r.body.error.message).toMatch(/admin@overview\.test is the account's last active admin.*make another user an admin first; nothing was changed/);
    }
    // An account key is held to the same rule.
    expect((await v2<V2Error>(t, 'PATCH', `/account/users/${adminId}`, { key: accountKey, body: { status: 'disabled' } })).body.error.code).toBe(
      'last_active_admin',
    );
    expect(await t.store.users.get(adminId)).toMatchObject({ role: 'admin', status: 'active' });
    // Still signed in: nothing ended the session.
    expect((await asUser(admin, 'GET', '/session')).status).toBe(200);
    // Only the refused requests were audited (action "request", status 409), no user.updated.
    const log = await asUser(admin, 'GET', '/account/audit-log?limit=10');
    expect(log.body.data.filter((e: Loose) => e.action === 'user.updated')).toEqual([]);
    expect(await countRows(t.db, 'audit_log')).toBe(before + 3);

    // Other changes to the last admin pass: a new password, "admin" again, "active" again.
    expect((await asUser(admin, 'PATCH', `/account/users/${adminId}`, { role: 'admin', status: 'active' })).status).toBe(200);

    // With a second active admin, the first may step down, and then the second is the last.
    const secondId = await addUser('second@overview.test', 'admin');
    const demoted = await asUser(admin, 'PATCH', `/account/users/${adminId}`, { role: 'member' });
    expect(demoted.status).toBe(200);
    expect(demoted.body.data.role).toBe('member');
    const second = await signIn('second@overview.test');
    expect((await asUser(second, 'PATCH', `/account/users/${secondId}`, { status: 'disabled' })).body.error.code).toBe('last_active_admin');
    // A disabled admin does not count as one: disabling the active one is still refused.
    const third = await addUser('third@overview.test', 'admin');
    await t.store.users.update(accountId, third, { status: 'disabled' }, Date.now());
    expect((await asUser(second, 'PATCH', `/account/users/${secondId}`, { role: 'viewer' })).status).toBe(409);
    // Changing a member in an account with one admin is not affected.
    expect((await asUser(second, 'PATCH', `/account/users/${adminId}`, { role: 'viewer' })).status).toBe(200);
  });

  it('filters the audit log by action and by user, the total counting the filtered entries', async () => {
    const admin = await signIn('second@overview.test');
    const created = await asUser(admin, 'POST', '/account/users', { email: 'audited@overview.test', role: 'member', password: PASSWORD });
    expect(created.status).toBe(201);
    const byAction = await asUser(admin, 'GET', '/account/audit-log?action=user.created&limit=50');
    expect(byAction.status).toBe(200);
    expect(byAction.body.data.length).toBeGreaterThan(0);
    expect(byAction.body.data.every((e: Loose) => e.action === 'user.created')).toBe(true);
    expect(byAction.body.total).toBe(byAction.body.data.length);
    expect(byAction.body.data[0]).toMatchObject({ userId: admin.userId, email: 'second@overview.test', target: `user:${created.body.data.id}` });
    const byUser = await asUser(admin, 'GET', `/account/audit-log?userId=${admin.userId}&limit=1`);
    expect(byUser.body.data).toHaveLength(1);
    expect(byUser.body.data[0].userId).toBe(admin.userId);
    expect(byUser.body.total).toBeGreaterThan(1);
    const both = await asUser(admin, 'GET', `/account/audit-log?userId=${admin.userId}&action=session.signed_in`);
    expect(both.body.data.every((e: Loose) => e.userId === admin.userId && e.action === 'session.signed_in')).toBe(true);
    expect((await asUser(admin, 'GET', '/account/audit-log?action=nothing.like.this')).body).toEqual({ data: [], total: 0 });
    expect((await asUser(admin, 'GET', '/account/audit-log?userId=0')).body.error).toMatchObject({ code: 'validation_failed', field: 'userId' });
  });

  it('lists the new routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Loose>> };
    expect(doc.paths['/api/v2/account/reports/statistics']).toHaveProperty('get');
    expect(doc.paths['/api/v2/account/queue']).toHaveProperty('get');
    expect(doc.paths['/api/v2/servers/{serverId}/queue']).toHaveProperty('get');
    const params = (doc.paths['/api/v2/account/audit-log']!.get.parameters as { name: string }[]).map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(['limit', 'offset', 'action', 'userId']));
  });
});
