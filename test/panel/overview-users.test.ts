/**
 * The Overview, Users and audit-log pages in a real browser: mail sent through the Injection API
 * and delivered to an SMTP sink (accepted, refused for good, deferred), its counts, rates, queue
 * and chart on the Overview for the account and for one server over each period; an admin adding,
 * changing, disabling and resetting people through the forms (bad input refused next to the field,
 * nothing written), the last active admin kept, the audit log of those changes with its filters and
 * pages; a member and a viewer without the Users page, and the API refusing them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Response } from 'playwright-core';
import { inject, type TestApp } from '../helpers/app.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitForRecipients } from '../helpers/wait.js';
import { createKey } from '../helpers/api-v2.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';

requireBrowser('test/panel/overview-users.test.ts');

const ADMIN = 'admin@panel.test';
const MEMBER = 'member@panel.test';
const VIEWER = 'viewer@panel.test';
const NEW_PASSWORD = 'a fresh password for you 7';

// biome-ignore lint/suspicious/noExplicitAny: API answers are asserted field by field
type Loose = any;

describe.runIf(HAVE_BROWSER)('Overview, Users and the audit log in a browser', { timeout: 120_000 }, () => {
  let panel: PanelSession;
  let sink: SmtpSink;
  let t: TestApp;
  let page: Page;
  let second: number;

  /** The page's next answer from a statistics route, as JSON (what the page shows must equal it). */
  const nextStats = (p: Page = page): Promise<Response> => p.waitForResponse((r) => /\/reports\/statistics\?/.test(r.url()) && r.status() === 200);
  const text = async (sel: string) => (await page.locator(sel).textContent())?.trim();
  const api = async (path: string): Promise<Loose> => (await page.request.get(`${t.url}/api/v2${path}`)).json();
  const userByEmail = async (email: string) => ((await api('/account/users')).data as Loose[]).find((u) => u.email === email);
  const signInStatus = async (email: string, password: string) =>
    (await fetch(`${t.url}/api/v2/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) }))
      .status;

  beforeAll(async () => {
    sink = await startSmtpSink();
    panel = await startPanel({
      users: [
        { email: ADMIN, role: 'admin' },
        { email: MEMBER, role: 'member' },
        { email: VIEWER, role: 'viewer' },
      ],
      app: {
        roles: ['api', 'delivery'],
        config: { outboundPort: sink.port },
        dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
        // tempfail@ is deferred and waits an hour for its retry: the queue keeps one recipient.
        delivery: { pollMs: 50, retrySchedule: [3_600_000], lifetimeMs: 7_200_000 },
      },
      // The sign-in page asking for a session (401), refused form input (400) and the last admin's refused change (409) are logged by Chromium as failed loads.
      allowConsole: /status of (400|401|409)/,
    });
    t = panel.t;
    page = panel.page;
    const accountId = (await t.store.tenancy.getServer(t.credentials.serverId))!.accountId;
    second = (await t.store.tenancy.createServer({ accountId, name: 'Receipts' }, Date.now())).id;
    const sends = [
      { serverId: t.credentials.serverId, apiKey: t.credentials.apiKey, to: ['ok1', 'ok2', 'ok3', 'permfail-1', 'tempfail-1'] },
      { serverId: second, apiKey: (await createKey(t.store, second, 'injection')).key, to: ['ok4', 'permfail-2'] },
    ];
    for (const s of sends) {
      const r = await inject(t, {
        ServerId: s.serverId,
        ApiKey: s.apiKey,
        Messages: [
          { To: s.to.map((l) => ({ EmailAddress: `${l}@sink.test` })), From: { EmailAddress: 'shop@example.com' }, Subject: 'Overview', TextBody: 'hi' },
        ],
      });
      expect(r.body.ErrorCode, r.text).toBe('Success');
    }
    // Every recipient has its outcome: delivered, failed, or deferred (tempfail).
    const ids = (await t.store.events.list({ limit: 1000 })).filter((e) => e.type === 'Queued').map((e) => e.messageId);
    for (const id of new Set(ids))
      await waitForRecipients(t.store, id, (rs) => rs.every((r) => ['delivered', 'failed', 'deferred'].includes(r.status)), 120_000);
    // Three users made with the real CLI and real delivery: slow on a busy machine, so more than the default hook time.
  }, 240_000);

  afterAll(async () => {
    await panel?.close();
    await sink?.close();
  });

  it("shows the account's counts, rates, queue and chart, equal to the API's answer", async () => {
    await page.goto(`${t.url}/login`);
    const answer = nextStats();
    await panel.signIn(ADMIN, PANEL_PASSWORD);
    await page.getByText(`Signed in as ${ADMIN}`).waitFor();
    const stats = ((await (await answer).json()) as Loose).data;
    expect(stats.bucket).toBe('hour');
    expect(stats.totals).toMatchObject({ delivered: 4, failed: 2, deferred: 1, queued: 7 });
    await page.locator('#stat-delivered').waitFor();
    for (const k of ['delivered', 'deferred', 'failed', 'complaints', 'opens', 'clicks', 'unsubscribes'])
      expect(await text(`#stat-${k}`), k).toBe(String(stats.totals[k]));
    // 4 delivered of 6 attempted; 2 bounced.
    expect(await text('#rate-delivery')).toBe('66.7 %');
    expect(await text('#rate-bounce')).toBe('33.3 %');
    expect(await text('#rate-open')).toBe('0.0 %');
    await expect.poll(() => text('#queue-total')).toBe('1');
    expect(await text('#queue-deferred')).toBe('1');
    expect(await api('/account/queue')).toEqual({ data: { queued: 0, deferred: 1, delivering: 0, total: 1 } });

    const chart = page.getByRole('img', { name: /^Line chart of delivered, deferred and failed recipients per hour for all servers/ });
    expect(await chart.getAttribute('aria-label')).toContain('4 delivered, 1 deferred and 2 failed in all');
    expect(await page.locator('.chart-svg polyline').count()).toBe(3);
    // The numbers behind the chart, one row per hour, on request.
    await page.getByText('Show the numbers').click();
    const table = page.getByRole('table', { name: /Recipients per hour for all servers/ });
    await table.waitFor();
    const rows = table.locator('tbody tr');
    expect(await rows.count()).toBe(24);
    const delivered = (await rows.locator('td[data-label="Delivered"]').allTextContents()).reduce((s, x) => s + Number(x), 0);
    expect(delivered).toBe(4);
    await panel.shot('overview-account-24h');
    expect(await panel.axe()).toEqual([]);
  });

  it('switches the period (7 and 30 days, by day) and the server', async () => {
    let answer = nextStats();
    await page.getByText('7 days', { exact: true }).click();
    await page.waitForURL(`${t.url}/?period=7d`);
    let stats = ((await (await answer).json()) as Loose).data;
    expect(stats.bucket).toBe('day');
    expect(stats.buckets).toHaveLength(7);
    await expect
      .poll(() =>
        page
          .getByRole('table', { name: /Recipients per day/ })
          .locator('tbody tr')
          .count(),
      )
      .toBe(7);
    expect(await text('#stat-delivered')).toBe('4');
    await panel.shot('overview-account-7d');

    answer = nextStats();
    await page.getByText('30 days', { exact: true }).click();
    stats = ((await (await answer).json()) as Loose).data;
    expect(stats.buckets).toHaveLength(30);
    await expect
      .poll(() =>
        page
          .getByRole('table', { name: /Recipients per day/ })
          .locator('tbody tr')
          .count(),
      )
      .toBe(30);

    // One server: its own numbers and queue.
    answer = nextStats();
    await page.getByLabel('Show', { exact: true }).selectOption(String(second));
    await page.waitForURL(`${t.url}/?server=${second}&period=30d`);
    stats = ((await (await answer).json()) as Loose).data;
    expect((await answer).url()).toContain(`/api/v2/servers/${second}/reports/statistics`);
    expect(stats.totals).toMatchObject({ delivered: 1, failed: 1, deferred: 0 });
    await expect.poll(() => text('#stat-delivered')).toBe('1');
    expect(await text('#stat-failed')).toBe('1');
    expect(await text('#rate-delivery')).toBe('50.0 %');
    await expect.poll(() => text('#queue-total')).toBe('0');
    await page.getByRole('heading', { name: 'Mail of Receipts over the last 30 days' }).waitFor();
    await panel.shot('overview-server-30d');
    expect(await panel.axe()).toEqual([]);

    // A phone's width: nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.locator('#stat-delivered').waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('lists the users and adds a member and a viewer through the form; bad input is refused next to its field', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.waitForURL(`${t.url}/users`);
    const table = page.getByRole('table', { name: /Users of account/ });
    await table.waitFor();
    const cells = await table.getByRole('row').filter({ hasText: ADMIN }).getByRole('cell').allTextContents();
    expect(cells.slice(0, 3)).toEqual([`${ADMIN}you`, 'admin', 'active']);
    expect(cells[4]).not.toBe('never');
    expect(await table.getByRole('row').filter({ hasText: MEMBER }).getByRole('cell').nth(4).textContent()).toBe('never');
    await panel.shot('users-list');
    expect(await panel.axe()).toEqual([]);
    const before = (await api('/account/users')).total;

    // A bad email: the error next to Email, nothing created.
    await page.getByLabel('Email').fill('not an email');
    await page.getByLabel('Initial password').fill(PANEL_PASSWORD);
    await page.getByRole('button', { name: 'Add user' }).click();
    const emailError = page.locator('#new-user-email-error');
    await emailError.waitFor();
    expect(await emailError.getAttribute('role')).toBe('alert');
    expect(await emailError.textContent()).toMatch(/email/i);
    expect(await page.getByLabel('Email').getAttribute('aria-describedby')).toContain('new-user-email-error');
    await panel.shot('users-add-bad-email');
    expect(await panel.axe()).toEqual([]);
    // A short password: the error next to the password.
    await page.getByLabel('Email').fill('newmember@panel.test');
    await page.getByLabel('Initial password').fill('short');
    await page.getByRole('button', { name: 'Add user' }).click();
    const passwordError = page.locator('#new-user-password-error');
    await passwordError.waitFor();
    expect(await passwordError.textContent()).toMatch(/at least 12 characters/);
    expect(await emailError.count()).toBe(0);
    expect((await api('/account/users')).total).toBe(before);
    await panel.shot('users-add-short-password');

    for (const [email, role] of [
      ['newmember@panel.test', 'member'],
      ['newviewer@panel.test', 'viewer'],
    ] as const) {
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Role', { exact: true }).selectOption(role);
      await page.getByLabel('Initial password').fill(PANEL_PASSWORD);
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByText(`Added ${email} as ${role}.`).waitFor();
      await table.getByRole('row').filter({ hasText: email }).waitFor();
      expect(await userByEmail(email)).toMatchObject({ email, role, status: 'active', lastSignInAt: null });
    }
    expect((await api('/account/users')).total).toBe(before + 2);
    expect(await signInStatus('newviewer@panel.test', PANEL_PASSWORD)).toBe(200);
  });

  it('changes a role, disables a user (after a confirmation) who then cannot sign in, and resets a password', async () => {
    const table = page.getByRole('table', { name: /Users of account/ });
    await page.getByRole('button', { name: 'Manage newviewer@panel.test' }).click();
    await page.getByRole('heading', { name: 'Manage newviewer@panel.test' }).waitFor();
    const manage = page.locator('.manage-user');
    await manage.getByLabel('Role').selectOption('member');
    await manage.getByRole('button', { name: 'Change role' }).click();
    await page.getByText('newviewer@panel.test is now member.').waitFor();
    expect((await userByEmail('newviewer@panel.test')).role).toBe('member');
    await expect.poll(() => table.getByRole('row').filter({ hasText: 'newviewer@panel.test' }).getByRole('cell').nth(1).textContent()).toBe('member');

    // A new password: too short first (refused next to the field), then a good one after the confirmation.
    await manage.getByLabel('New password').fill('short');
    await manage.getByRole('button', { name: 'Reset password' }).click();
    await manage.getByRole('button', { name: 'Yes, reset the password' }).click();
    const pwError = page.locator('#manage-password-error');
    await pwError.waitFor();
    expect(await pwError.textContent()).toMatch(/at least 12 characters/);
    expect(await signInStatus('newviewer@panel.test', PANEL_PASSWORD)).toBe(200);
    await manage.getByLabel('New password').fill(NEW_PASSWORD);
    await manage.getByRole('button', { name: 'Reset password' }).click();
    await manage.getByText('Give newviewer@panel.test this new password?').waitFor();
    await panel.shot('users-reset-confirm');
    expect(await panel.axe()).toEqual([]);
    await manage.getByRole('button', { name: 'Yes, reset the password' }).click();
    await page.getByText('newviewer@panel.test has a new password.').waitFor();
    expect(await signInStatus('newviewer@panel.test', PANEL_PASSWORD)).toBe(401);
    expect(await signInStatus('newviewer@panel.test', NEW_PASSWORD)).toBe(200);

    // Disable: the first click only asks; Cancel leaves the user as they were.
    await page.getByRole('button', { name: 'Manage newmember@panel.test' }).click();
    await page.getByRole('heading', { name: 'Manage newmember@panel.test' }).waitFor();
    await manage.getByRole('button', { name: 'Disable user' }).click();
    await manage.getByRole('button', { name: 'Cancel' }).click();
    expect((await userByEmail('newmember@panel.test')).status).toBe('active');
    await manage.getByRole('button', { name: 'Disable user' }).click();
    await manage.getByText(/Disable newmember@panel.test\? They are signed out at once/).waitFor();
    await panel.shot('users-disable-confirm');
    expect(await panel.axe()).toEqual([]);
    await manage.getByRole('button', { name: 'Yes, disable newmember@panel.test' }).click();
    await page.getByText('newmember@panel.test is disabled.').waitFor();
    expect((await userByEmail('newmember@panel.test')).status).toBe('disabled');
    await expect.poll(() => table.getByRole('row').filter({ hasText: 'newmember@panel.test' }).getByRole('cell').nth(2).textContent()).toBe('disabled');
    expect(await signInStatus('newmember@panel.test', PANEL_PASSWORD)).toBe(401);
    await manage.getByRole('button', { name: 'Enable user' }).waitFor();
    await panel.shot('users-disabled');
  });

  it('keeps the last active admin: disabling or demoting yourself is refused next to the control, nothing changed', async () => {
    const manage = page.locator('.manage-user');
    await page.getByRole('button', { name: `Manage ${ADMIN}` }).click();
    await page.getByRole('heading', { name: `Manage ${ADMIN}` }).waitFor();
    await manage.getByText('This is you.').waitFor();
    await manage.getByRole('button', { name: 'Disable user' }).click();
    await manage.getByRole('button', { name: `Yes, disable ${ADMIN}` }).click();
    const refused = manage.locator('#manage-status .field-error');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/last active admin.*make another user an admin first; nothing was changed/);
    await manage.getByLabel('Role').selectOption('viewer');
    await manage.getByRole('button', { name: 'Change role' }).click();
    const roleError = page.locator('#manage-role-error');
    await roleError.waitFor();
    expect(await roleError.textContent()).toMatch(/last active admin/);
    await panel.shot('users-last-admin');
    expect(await panel.axe()).toEqual([]);
    expect(await userByEmail(ADMIN)).toMatchObject({ role: 'admin', status: 'active' });
    // Still signed in.
    expect((await page.request.get(`${t.url}/api/v2/session`)).status()).toBe(200);

    await page.setViewportSize({ width: 375, height: 740 });
    await page.getByRole('table', { name: /Users of account/ }).waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('users-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows the audit log of those changes, filtered by action and user, a page at a time', async () => {
    // Enough sign-ins for a second page of 25.
    for (let i = 0; i < 26; i++) expect(await signInStatus(MEMBER, PANEL_PASSWORD)).toBe(200);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(`${t.url}/users/audit`);
    const table = page.getByRole('table', { name: /Audit log/ });
    await table.waitFor();
    // The Users entry of the navigation stays current.
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).getAttribute('aria-current')).toBe('page');
    const total = (await api('/account/audit-log?limit=1')).total as number;
    await page.getByText(`Showing 1–25 of ${total} entries.`).waitFor();
    await panel.shot('audit-all');
    expect(await panel.axe()).toEqual([]);
    await page.getByRole('button', { name: 'Older' }).click();
    await page.waitForURL(`${t.url}/users/audit?page=2`);
    await page.getByText(`Showing 26–${Math.min(50, total)} of ${total} entries.`).waitFor();
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.waitForURL(`${t.url}/users/audit`);

    await page.getByLabel('Action', { exact: true }).selectOption('user.created');
    await page.waitForURL(`${t.url}/users/audit?action=user.created`);
    await page.getByText('Showing 1–2 of 2 entries.').waitFor();
    const created = await table.locator('tbody tr').allTextContents();
    expect(created.join('\n')).toContain('email: newviewer@panel.test');
    expect(created.join('\n')).toContain('email: newmember@panel.test');
    const newmember = await userByEmail('newmember@panel.test');
    const newviewer = await userByEmail('newviewer@panel.test');

    await page.getByLabel('Action', { exact: true }).selectOption('user.updated');
    await page.getByText('Showing 1–3 of 3 entries.').waitFor();
    const updated = await table.locator('tbody tr').allTextContents();
    expect(updated.every((r) => r.includes(ADMIN))).toBe(true);
    expect(updated.some((r) => r.includes(`user:${newmember.id}`) && r.includes('status: disabled'))).toBe(true);
    expect(updated.some((r) => r.includes(`user:${newviewer.id}`) && r.includes('role: member'))).toBe(true);
    expect(updated.some((r) => r.includes(`user:${newviewer.id}`) && r.includes('passwordChanged: true'))).toBe(true);
    await panel.shot('audit-user-updated');

    // Only the member's entries: its sign-ins.
    const member = await userByEmail(MEMBER);
    await page.getByLabel('Action', { exact: true }).selectOption('session.signed_in');
    await page.getByLabel('User', { exact: true }).selectOption(String(member.id));
    await page.waitForURL(`${t.url}/users/audit?action=session.signed_in&user=${member.id}`);
    await page.getByText('Showing 1–25 of 26 entries.').waitFor();
    expect((await table.locator('tbody td[data-label="User"]').allTextContents()).every((x) => x === MEMBER)).toBe(true);
    expect(await panel.axe()).toEqual([]);

    await page.setViewportSize({ width: 375, height: 740 });
    await table.waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('audit-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('gives a member and a viewer no Users page, and the API refuses them', async () => {
    for (const [email, role] of [
      [MEMBER, 'member'],
      [VIEWER, 'viewer'],
    ] as const) {
      const context = await panel.browser.newContext({ viewport: { width: 1280, height: 800 } });
      const p = await context.newPage();
      p.on('pageerror', (e) => panel.problems.push(`pageerror (${role}): ${e.message}`));
      await p.goto(`${t.url}/login`);
      await panel.signIn(email, PANEL_PASSWORD, p);
      const nav = p.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Overview' }).waitFor();
      expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
      // The Overview reads with any role.
      await p.locator('#stat-delivered').waitFor();
      expect(await p.locator('#stat-delivered').textContent()).toBe('4');
      // Typed in by hand: a message, no form, no buttons that change anything.
      await p.goto(`${t.url}/users`);
      await p.getByText('Only an admin of the account manages its users').waitFor();
      expect(await p.getByRole('button', { name: 'Add user' }).count()).toBe(0);
      expect(await p.getByRole('button', { name: /^Manage / }).count()).toBe(0);
      await panel.shot(`users-as-${role}`, p);
      expect(await panel.axe(p)).toEqual([]);
      await p.goto(`${t.url}/users/audit`);
      await p.getByText('Only an admin of the account reads the audit log.').waitFor();

      const session = (await (await p.request.get(`${t.url}/api/v2/session`)).json()) as Loose;
      const headers = { 'x-csrf-token': session.data.csrfToken, origin: t.url };
      const list = await p.request.get(`${t.url}/api/v2/account/users`);
      expect(list.status()).toBe(403);
      expect(((await list.json()) as Loose).error.code).toBe('insufficient_role');
      const add = await p.request.post(`${t.url}/api/v2/account/users`, {
        headers,
        data: { email: `by-${role}@panel.test`, role: 'admin', password: PANEL_PASSWORD },
      });
      expect(add.status()).toBe(403);
      expect(((await add.json()) as Loose).error.code).toBe('insufficient_role');
      const patch = await p.request.patch(`${t.url}/api/v2/account/users/${session.data.user.id}`, { headers, data: { role: 'admin' } });
      expect(patch.status()).toBe(403);
      expect(((await patch.json()) as Loose).error.code).toBe('insufficient_role');
      expect((await p.request.get(`${t.url}/api/v2/account/audit-log`)).status()).toBe(403);
      await context.close();
    }
    expect(await userByEmail('by-member@panel.test')).toBeUndefined();
    expect(await userByEmail('by-viewer@panel.test')).toBeUndefined();
    expect((await userByEmail(MEMBER)).role).toBe('member');
    expect((await userByEmail(VIEWER)).role).toBe('viewer');
  });

  it('ran without a CSP refusal or a script error', () => {
    expect(panel.problems).toEqual([]);
  });
});
