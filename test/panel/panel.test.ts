/**
 * The control panel end to end, in a real browser: Postline's api role in process serving the
 * built panel (dist/web, built by `pretest`), an admin made with the real CLI, and Debian's
 * Chromium driven by playwright-core. Sign in through the form, see the navigation, open
 * Activity, send a message through the Injection API and find it listed, sign out; then a page on
 * another loopback port posts a form to the API with the session cookie and is refused.
 *
 * Screenshots of each page go to test-results/panel/. Without /usr/bin/chromium the test is
 * skipped with a message, unless POSTLINE_TEST_BROWSER_REQUIRED=1 (CI), where that is a failure.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { PANEL_CSP } from '../../src/api/panel.js';
import { inject, type TestApp } from '../helpers/app.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';

const ADMIN_EMAIL = 'admin@panel.test';
const ADMIN_PASSWORD = PANEL_PASSWORD;

requireBrowser('test/panel/panel.test.ts');

/** A page on another loopback port (another origin) with a form that posts JSON-looking text to the API. */
async function startAttackerSite(target: string): Promise<{ server: HttpServer; url: string }> {
  const page = `<!doctype html><html><body>
<form id="f" method="post" action="${target}/api/v2/servers" enctype="text/plain">
<input type="hidden" name='{"name":"evil","x":"' value='"}'>
<button id="go" type="submit">Win a prize</button>
</form></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe.runIf(HAVE_BROWSER)('control panel in a browser', { timeout: 120_000 }, () => {
  let panel: PanelSession;
  let t: TestApp;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    // The deliberately wrong password is answered 401, which Chromium logs as a failed resource.
    panel = await startPanel({ users: [{ email: ADMIN_EMAIL, role: 'admin' }], allowConsole: /status of 401/ });
    ({ t, context, page } = panel);
  });

  afterAll(async () => {
    await panel?.close();
  });

  it('serves the panel with its CSP and sends a visitor without a session to the sign-in page', async () => {
    const res = await page.goto(`${t.url}/activity`);
    expect(res!.status()).toBe(200);
    const h = res!.headers();
    expect(h['content-security-policy']).toBe(PANEL_CSP);
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('same-origin');
    await page.waitForURL(/\/login\?next=%2Factivity$/);
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    await panel.shot('01-login');
    expect(await panel.axe()).toEqual([]);
  });

  it('shows a refused sign-in next to the form', async () => {
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('Wrong email or password.');
    await panel.shot('02-login-refused');
  });

  it('signs in through the form (keyboard only) and shows the navigation', async () => {
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    // Back to where the visitor was going.
    await page.waitForURL(`${t.url}/activity`);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.waitFor();
    for (const name of ['Overview', 'Activity', 'Sandbox inbox', 'Servers', 'Domains', 'Suppressions', 'Webhooks', 'Lists', 'Users'])
      expect(await nav.getByRole('link', { name }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    const cookies = await context.cookies(t.url);
    const session = cookies.find((c) => c.name === 'postline_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    await nav.getByRole('link', { name: 'Overview' }).click();
    await page.waitForURL(`${t.url}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText(`Signed in as ${ADMIN_EMAIL}`).waitFor();
    await panel.shot('03-overview');
    expect(await panel.axe()).toEqual([]);
  });

  it('lists a message sent through the Injection API on the Activity page', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activity' }).click();
    await page.waitForURL(`${t.url}/activity`);
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    const select = page.getByLabel('Server');
    await select.waitFor();
    expect(await select.inputValue()).toBe(String(t.credentials.serverId));
    await page.getByText('No messages yet.').waitFor();

    const subject = `Panel test ${Date.now()}`;
    const sent = await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        { To: [{ EmailAddress: 'reader@example.net' }], From: { EmailAddress: 'shop@example.com' }, Subject: subject, TextBody: 'Hello from the panel test' },
      ],
    });
    expect(sent.body.ErrorCode).toBe('Success');

    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.getByRole('row').filter({ hasText: subject });
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells[0]).toBe('reader@example.net');
    expect(cells[1]).toBe(subject);
    expect(['Queued', 'Delivering', 'Deferred', 'Delivered', 'Failed']).toContain(cells[2]);
    expect(cells[3]).not.toBe('');
    expect(await row.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await panel.shot('04-activity');
    expect(await panel.axe()).toEqual([]);

    // A phone's width: the same page, each message as labelled lines, nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 740 });
    await row.waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('05-activity-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('opens every page of the navigation by keyboard, each with its heading and no accessibility violation', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    const names = ['Overview', 'Activity', 'Sandbox inbox', 'Servers', 'Domains', 'Suppressions', 'Webhooks', 'Lists', 'Users'];
    expect(await nav.getByRole('link').allTextContents()).toEqual(names);
    for (const name of names) {
      await nav.getByRole('link', { name, exact: true }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
      expect(await nav.getByRole('link', { name, exact: true }).getAttribute('aria-current')).toBe('page');
      expect(await page.getByText(/Coming soon/).count()).toBe(0);
      expect([name, await panel.axe()]).toEqual([name, []]);
    }
    await page.goto(`${t.url}/no-such-page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await panel.shot('06-not-found');
  });

  it('signs out: back to the sign-in page, the session gone', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const after = await page.request.get(`${t.url}/api/v2/session`);
    expect(after.status()).toBe(401);
    await page.goto(`${t.url}/activity`);
    await page.waitForURL(/\/login/);
    await panel.shot('07-signed-out');
  });

  it('refuses a form posted to the API from another origin, though the browser sends the cookie', async () => {
    // Signed in again: the attack needs a live session cookie in the browser.
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const before = await page.request.get(`${t.url}/api/v2/servers`);
    expect(before.status()).toBe(200);
    const serversBefore = ((await before.json()) as { total: number }).total;

    const attacker = await startAttackerSite(t.url);
    try {
      const evil = await context.newPage();
      await evil.goto(attacker.url);
      const [answer] = await Promise.all([evil.waitForResponse(`${t.url}/api/v2/servers`), evil.locator('#go').click()]);
      // Another port on the same host is the same site, so SameSite=Strict still sends the cookie:
      // only the missing X-CSRF-Token stops it.
      expect(answer.request().headers().cookie ?? (await answer.request().allHeaders()).cookie).toContain('postline_session=');
      expect(answer.status()).toBe(403);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
      await panel.shot('08-cross-origin-refused', evil);
      await evil.close();
    } finally {
      await new Promise((r) => attacker.server.close(r));
    }
    const after = await page.request.get(`${t.url}/api/v2/servers`);
    expect(((await after.json()) as { total: number }).total).toBe(serversBefore);
  });

  it('ran without a CSP refusal or a script error', () => {
    expect(panel.problems).toEqual([]);
  });
});
