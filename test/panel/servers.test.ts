/**
 * The Servers pages in a real browser: the list, creating a server through the form (and two
 * refused names), a server's settings saved and read back through the API, an API key created and
 * its one-time secret used for a real send through the Injection API, rotated and revoked (the
 * old secrets then refused), a stored template created, previewed with sample merge data in the
 * sandboxed frame, saved as a new version and another deleted; then a viewer, who sees no change
 * controls and whose changes the API refuses. Screenshots: test-results/panel/servers-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { inject, type TestApp } from '../helpers/app.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';
import { countRows } from '../helpers/webhooks.js';
import { PREVIEW_CSP } from '../../src/api/v2/templates/preview.js';

requireBrowser('test/panel/servers.test.ts');

/** expect.poll with room for a busy machine (its default gives up after a second). */
const poll = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000 });

const ADMIN = 'admin@servers.test';
const VIEWER = 'viewer@servers.test';

interface WireServer {
  serverId: number;
  name: string;
  sandbox: boolean;
  requireVerifiedDomain: boolean;
  tracking: { opens: boolean; clicks: boolean; unsubscribes: boolean };
}

describe.runIf(HAVE_BROWSER)('Servers pages in a browser', { timeout: 120_000 }, () => {
  let panel: PanelSession;
  let t: TestApp;
  let page: Page;
  let serverId = 0;
  let secret = '';
  let rotatedSecret = '';
  const subject = 'Servers panel test';

  /** The API as the signed-in browser sees it (its cookie; GETs need no CSRF token). */
  const api = async <T>(path: string, on: Page = page): Promise<{ status: number; body: T }> => {
    const r = await on.request.get(`${t.url}/api/v2${path}`);
    return { status: r.status(), body: (await r.json()) as T };
  };
  const send = (apiKey: string) =>
    inject(t, {
      ServerId: serverId,
      ApiKey: apiKey,
      Messages: [{ To: [{ EmailAddress: 'reader@example.net' }], From: { EmailAddress: 'shop@example.com' }, Subject: subject, TextBody: 'Hello' }],
    });
  const phoneFits = async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    return width;
  };

  beforeAll(async () => {
    panel = await startPanel({
      users: [
        { email: ADMIN, role: 'admin' },
        { email: VIEWER, role: 'viewer' },
      ],
      // The sign-in page's session check is answered 401, refused forms 400 and the viewer's attempt 403, which Chromium logs as failed
      // resources; the template's <script> is blocked by the frame's sandbox, which it also logs.
      allowConsole: /status of 40[013]|Blocked script execution in '.*preview\/html/,
    });
    ({ t, page } = panel);
    await panel.signIn(ADMIN, PANEL_PASSWORD);
  });

  afterAll(async () => {
    await panel?.close();
  });

  it('lists the servers with their settings', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Servers' }).click();
    await page.waitForURL(`${t.url}/servers`);
    await page.getByRole('heading', { name: 'Servers', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: /Servers of account/ });
    await table.waitFor();
    const row = table
      .getByRole('row')
      .filter({ has: page.getByRole('link') })
      .first();
    expect(await row.getByRole('cell').first().textContent()).toBe(String(t.credentials.serverId));
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(['Name', 'ID', 'Status', 'Sandbox', 'Tracking', 'Verified domain']);
    await panel.shot('servers-list');
    expect(await panel.axe()).toEqual([]);
  });

  it('refuses an empty and a too long name next to the Name field, and creates nothing', async () => {
    const before = await countRows(t.db, 'servers');
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('   ');
    await page.getByRole('button', { name: 'Create server' }).click();
    const error = page.locator('#new-server-name-error');
    await error.waitFor();
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.textContent()).toMatch(/name/);
    expect(await name.getAttribute('aria-describedby')).toContain('new-server-name-error');
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    await panel.shot('servers-create-refused');
    expect(await panel.axe()).toEqual([]);

    await name.fill('x'.repeat(201));
    await page.getByRole('button', { name: 'Create server' }).click();
    await poll(() => error.textContent()).toMatch(/200/);
    expect(await countRows(t.db, 'servers')).toBe(before);
  });

  it('creates a server through the form with the chosen settings', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Shop mail');
    await page.getByLabel('Sandbox').check();
    await page.getByLabel('Track opens').check();
    // Sends from example.com below: no verified domain in this test.
    await page.getByLabel('Require a verified sending domain').uncheck();
    await page.getByRole('button', { name: 'Create server' }).click();
    const done = page.getByRole('status').filter({ hasText: 'created' });
    await done.waitFor();
    expect(await page.locator('#new-server-name-error').count()).toBe(0);
    const link = page.getByRole('table', { name: /Servers of account/ }).getByRole('link', { name: 'Shop mail' });
    await link.waitFor();
    serverId = Number(new URL(await link.evaluate((a) => (a as unknown as { href: string }).href)).searchParams.get('server'));
    expect(serverId).toBeGreaterThan(0);
    const stored = await api<{ data: WireServer }>(`/servers/${serverId}`);
    expect(stored.body.data).toMatchObject({
      name: 'Shop mail',
      sandbox: true,
      requireVerifiedDomain: false,
      tracking: { opens: true, clicks: false, unsubscribes: false },
    });
    // The form is empty again, ready for the next one.
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('');
    await panel.shot('servers-created');

    expect(await phoneFits()).toBeLessThanOrEqual(375);
    await panel.shot('servers-list-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("opens the server's page and saves a changed setting; a blank name is refused there too", async () => {
    await page
      .getByRole('table', { name: /Servers of account/ })
      .getByRole('link', { name: 'Shop mail' })
      .click();
    await page.waitForURL(`${t.url}/servers/server?server=${serverId}`);
    await page.getByRole('heading', { name: 'Server Shop mail', level: 1 }).waitFor();
    // The nav marks Servers as the section this page is under.
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Servers' }).getAttribute('aria-current')).toBe('page');
    const form = page.getByRole('form', { name: 'Server settings' });
    expect(await form.getByLabel('Sandbox').isChecked()).toBe(true);
    expect(await form.getByLabel('Track opens').isChecked()).toBe(true);

    await form.getByLabel('Name', { exact: true }).fill('');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#server-name-error').waitFor();
    expect((await api<{ data: WireServer }>(`/servers/${serverId}`)).body.data.name).toBe('Shop mail');

    await form.getByLabel('Name', { exact: true }).fill('Shop mail');
    await form.getByLabel('Track clicks').check();
    await form.getByLabel('Sandbox').uncheck();
    await form.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
    expect(await page.locator('#server-name-error').count()).toBe(0);
    const stored = (await api<{ data: WireServer }>(`/servers/${serverId}`)).body.data;
    expect(stored).toMatchObject({ name: 'Shop mail', sandbox: false, tracking: { opens: true, clicks: true, unsubscribes: false } });
    await panel.shot('server-settings-saved');
    expect(await panel.axe()).toEqual([]);
  });

  it('creates an API key and shows its secret once; the secret sends a real message', async () => {
    await page.getByText('This server has no API keys yet.').waitFor();
    await page.getByLabel('Key name').fill('');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#key-name-error').waitFor();
    expect((await api<{ total: number }>(`/servers/${serverId}/api-keys`)).body.total).toBe(0);

    await page.getByLabel('Key name').fill('Shop sender');
    await page.getByLabel('Permissions').selectOption('injection');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.locator('#new-secret');
    await shown.waitFor();
    secret = (await shown.textContent()) ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9]{20}\./);
    await page.getByText('You will not see it again').waitFor();
    expect(await page.getByRole('button', { name: 'Copy key Shop sender' }).isVisible()).toBe(true);
    const row = page
      .getByRole('table', { name: /API keys of server/ })
      .getByRole('row')
      .filter({ hasText: 'Shop sender' });
    await row.waitFor();
    expect(await row.getByRole('cell').nth(1).textContent()).toBe('Injection (send mail)');
    await panel.shot('server-key-created');
    expect(await panel.axe()).toEqual([]);

    const sent = await send(secret);
    expect(sent.body.ErrorCode).toBe('Success');

    // Dismissed, the secret is nowhere on the page any more.
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await poll(() => shown.count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
  });

  it('rotates the key after a confirmation: a new secret shown once, the old one refused', async () => {
    await page.getByRole('button', { name: 'Rotate Shop sender' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm rotate Shop sender' });
    await confirm.waitFor();
    await panel.shot('server-key-rotate-confirm');
    await confirm.getByRole('button', { name: 'Yes, rotate Shop sender' }).click();
    const shown = page.locator('#new-secret');
    await poll(async () => ((await shown.count()) > 0 ? await shown.textContent() : '')).toMatch(/\./);
    rotatedSecret = (await shown.textContent()) ?? '';
    expect(rotatedSecret).not.toBe(secret);
    expect(rotatedSecret.split('.')[0]).toBe(secret.split('.')[0]);
    expect((await send(secret)).body.ErrorCode).toBe('InvalidAuthentication');
    expect((await send(rotatedSecret)).body.ErrorCode).toBe('Success');
    await page.getByRole('button', { name: 'I have copied it' }).click();
  });

  it('revokes the key after a confirmation: the API then refuses it', async () => {
    await page.getByRole('button', { name: 'Revoke Shop sender' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm revoke Shop sender' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await confirm.count()).toBe(0);
    expect((await send(rotatedSecret)).body.ErrorCode).toBe('Success');

    await page.getByRole('button', { name: 'Revoke Shop sender' }).click();
    await panel.shot('server-key-revoke-confirm');
    expect(await panel.axe()).toEqual([]);
    await confirm.getByRole('button', { name: 'Yes, revoke Shop sender' }).click();
    const row = page
      .getByRole('table', { name: /API keys of server/ })
      .getByRole('row')
      .filter({ hasText: 'Shop sender' });
    await row.getByText('revoked').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    const keys = await api<{ data: { name: string; status: string }[] }>(`/servers/${serverId}/api-keys`);
    expect(keys.body.data).toMatchObject([{ name: 'Shop sender', status: 'revoked' }]);
    expect((await send(rotatedSecret)).body.ErrorCode).toBe('InvalidAuthentication');
    await panel.shot('server-key-revoked');
  });

  it('refuses a template without a name next to the field, and writes nothing', async () => {
    await page.getByRole('button', { name: 'New template' }).click();
    const form = page.getByRole('form', { name: 'New template' });
    await form.getByLabel('Text body').fill('Hello');
    await form.getByRole('button', { name: 'Create template' }).click();
    await page.locator('#template-name-error').waitFor();
    expect(await page.locator('#template-name-error').textContent()).toMatch(/name/);
    await form.getByLabel('Template name').fill('Empty');
    await form.getByLabel('Text body').fill('');
    await form.getByRole('button', { name: 'Create template' }).click();
    // Neither body: the API names one of them, shown next to it.
    await poll(async () => (await page.locator('.field-error').allTextContents()).join(' ')).toMatch(/htmlBody|textBody/);
    expect((await api<{ total: number }>(`/servers/${serverId}/templates`)).body.total).toBe(0);
    await panel.shot('server-template-refused');
    expect(await panel.axe()).toEqual([]);
  });

  it('creates a template and previews it with sample merge data: subject, text, and the HTML in a sandboxed frame', async () => {
    const form = page.getByRole('form', { name: 'New template' });
    await form.getByLabel('Template name').fill('Order shipped');
    await form.getByLabel('Subject').fill('Order %%OrderId%% has shipped');
    await form
      .getByLabel('HTML body')
      .fill(
        '<p style="color:#0b5cad">Dear %%FirstName%%, order <b>%%OrderId%%</b> is on its way.</p><script>document.body.setAttribute("data-ran","yes")</script>',
      );
    await form.getByLabel('Text body').fill('Dear %%FirstName%%, order %%OrderId%% is on its way.');
    await form.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('heading', { name: 'Template Order shipped' }).waitFor();
    const stored = await api<{ data: { templateId: number; name: string; subject: string }[] }>(`/servers/${serverId}/templates`);
    expect(stored.body.data).toMatchObject([{ name: 'Order shipped', subject: 'Order %%OrderId%% has shipped' }]);
    const templateId = stored.body.data[0]!.templateId;

    const merge = page.getByRole('form', { name: 'Sample merge data' });
    await merge.getByLabel('OrderId').fill('A-42');
    await merge.getByLabel('FirstName').fill('Ann');
    await merge.getByRole('button', { name: 'Preview' }).click();
    await poll(() => page.locator('.rendered-subject').textContent()).toBe('Order A-42 has shipped');
    expect(await page.locator('.rendered-text').textContent()).toBe('Dear Ann, order A-42 is on its way.');

    const frameEl = page.getByTitle('HTML preview');
    expect(await frameEl.getAttribute('sandbox')).toBe('');
    const src = (await frameEl.getAttribute('src')) ?? '';
    expect(src).toMatch(new RegExp(`^/api/v2/servers/${serverId}/templates/${templateId}/preview/html\\?`));
    const framed = await page.request.get(`${t.url}${src}`);
    expect(framed.headers()['content-security-policy']).toBe(PREVIEW_CSP);
    expect(await framed.text()).toContain('Dear Ann, order <b>A-42</b> is on its way.');
    const frame = page.frameLocator('iframe[title="HTML preview"]');
    await poll(() => frame.locator('p').textContent()).toBe('Dear Ann, order A-42 is on its way.');
    // The template's script did not run: the frame is sandboxed without allow-scripts.
    expect(await frame.locator('body').getAttribute('data-ran')).toBeNull();
    await panel.shot('server-template-preview');
    expect(await panel.axe()).toEqual([]);
  });

  it('saves an edit as a new version and lists the versions', async () => {
    const form = page.getByRole('form', { name: 'Edit template' });
    await form.getByLabel('Subject').fill('Your order %%OrderId%% has shipped');
    await form.getByRole('button', { name: 'Save as new version' }).click();
    const versions = page.getByRole('table', { name: 'Versions' });
    await versions.waitFor();
    expect(await versions.getByRole('row').count()).toBe(3);
    const list = await api<{ data: { currentVersion: number; subject: string }[] }>(`/servers/${serverId}/templates`);
    expect(list.body.data[0]).toMatchObject({ currentVersion: 2, subject: 'Your order %%OrderId%% has shipped' });
    await versions.getByRole('button', { name: 'Preview version 1' }).click();
    await page.getByRole('heading', { name: 'Preview of version 1' }).waitFor();
    await poll(() => page.locator('.rendered-subject').textContent()).toBe('Order %%OrderId%% has shipped');
    await panel.shot('server-template-versions');
  });

  it('deletes a template after a confirmation', async () => {
    const made = await page.request.get(`${t.url}/api/v2/session`);
    const csrf = ((await made.json()) as { data: { csrfToken: string } }).data.csrfToken;
    const other = await page.request.post(`${t.url}/api/v2/servers/${serverId}/templates`, {
      headers: { 'x-csrf-token': csrf },
      data: { name: 'Old notice', textBody: 'old' },
    });
    expect(other.status()).toBe(200);
    await page.reload();
    await page.getByRole('button', { name: 'Delete Old notice' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm delete Old notice' });
    await confirm.waitFor();
    await panel.shot('server-template-delete-confirm');
    await confirm.getByRole('button', { name: 'Yes, delete Old notice' }).click();
    await poll(() => page.getByRole('row').filter({ hasText: 'Old notice' }).count()).toBe(0);
    const list = await api<{ data: { name: string }[] }>(`/servers/${serverId}/templates`);
    expect(list.body.data.map((x) => x.name)).toEqual(['Order shipped']);

    expect(await phoneFits()).toBeLessThanOrEqual(375);
    await panel.shot('server-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows a viewer no change controls, lets them preview, and the API refuses their change', async () => {
    const context = await panel.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    viewer.on('pageerror', (e) => panel.problems.push(`viewer pageerror: ${e.message}`));
    try {
      await panel.signIn(VIEWER, PANEL_PASSWORD, viewer);
      await viewer.goto(`${t.url}/servers`);
      await viewer
        .getByRole('table', { name: /Servers of account/ })
        .getByRole('link', { name: 'Shop mail' })
        .waitFor();
      expect(await viewer.getByRole('button', { name: 'Create server' }).count()).toBe(0);
      expect(await viewer.getByLabel('Name', { exact: true }).count()).toBe(0);
      await panel.shot('servers-viewer', viewer);
      expect(await panel.axe(viewer)).toEqual([]);

      await viewer.getByRole('link', { name: 'Shop mail' }).click();
      await viewer.getByRole('heading', { name: 'Server Shop mail', level: 1 }).waitFor();
      await viewer.getByRole('table', { name: /Stored templates/ }).waitFor();
      for (const name of ['Save settings', 'Create key', 'New template', /^Rotate/, /^Revoke/, /^Delete/, /^Edit/])
        expect(await viewer.getByRole('button', { name }).count(), String(name)).toBe(0);
      await viewer.getByRole('button', { name: 'Preview Order shipped' }).click();
      await viewer.getByRole('form', { name: 'Sample merge data' }).getByLabel('FirstName').fill('Vic');
      await viewer.getByRole('button', { name: 'Preview', exact: true }).click();
      await poll(() => viewer.locator('.rendered-text').textContent()).toBe('Dear Vic, order %%OrderId%% is on its way.');
      await panel.shot('server-viewer', viewer);
      expect(await panel.axe(viewer)).toEqual([]);

      const session = (await (await viewer.request.get(`${t.url}/api/v2/session`)).json()) as { data: { csrfToken: string } };
      const refused = await viewer.request.patch(`${t.url}/api/v2/servers/${serverId}`, {
        headers: { 'x-csrf-token': session.data.csrfToken },
        data: { name: 'viewer was here' },
      });
      expect(refused.status()).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('insufficient_role');
      const key = await viewer.request.post(`${t.url}/api/v2/servers/${serverId}/api-keys`, {
        headers: { 'x-csrf-token': session.data.csrfToken },
        data: { name: 'viewer key', scope: 'injection' },
      });
      expect(key.status()).toBe(403);
      expect((await api<{ data: WireServer }>(`/servers/${serverId}`)).body.data.name).toBe('Shop mail');
      expect((await api<{ total: number }>(`/servers/${serverId}/api-keys`)).body.total).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('ran without a CSP refusal or a script error', () => {
    expect(panel.problems).toEqual([]);
  });
});
