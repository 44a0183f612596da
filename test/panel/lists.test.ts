/**
 * The Lists pages in a real browser: make a list (a blank name first: the error next to the field
 * and nothing made), import a CSV of 2,000 contacts with bad rows through the file input and watch
 * the progress bar reach done with the refused rows listed, search the contacts, add and remove
 * one, preview a send merged for a chosen contact (the HTML in a sandboxed frame), send it and
 * find the recipients through the Activity API; a viewer sees no change controls and the API
 * refuses the viewer's change. Axe, screenshots and the phone's width on each page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';

const ADMIN = 'admin@lists.test';
const VIEWER = 'viewer@lists.test';
const ROWS = 2_000;

requireBrowser('test/panel/lists.test.ts');

// biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
type Loose = any;

/** 2,000 good contacts and three bad rows (rows 12, 102 and 1002 of the file; the header is row 1). */
function csvFile(): string {
  const lines = ['emailAddress,firstName,lastName'];
  for (let i = 0; i < ROWS; i++) lines.push(`person${i}@example.com,First${i},"Last, ${i}"`);
  lines.splice(11, 0, 'not-an-address,Bad,Row');
  lines.splice(101, 0, 'x@example.com,Too,Many,Cells');
  lines.splice(1001, 0, ',No,Address');
  return `${lines.join('\r\n')}\r\n`;
}

describe.runIf(HAVE_BROWSER)('Lists pages in a browser', { timeout: 180_000 }, () => {
  let panel: PanelSession;
  let t: TestApp;
  let page: Page;
  let listId: number;

  /** The Marketing API with the server's account key, to check what it holds. */
  async function marketing(path: string): Promise<Loose> {
    const res = await fetch(`${t.url}/marketing/v1${path}`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.credentials.serverId}:${t.credentials.accountKey}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  async function phoneWidth(name: string): Promise<void> {
    await page.setViewportSize({ width: 375, height: 740 });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot(name);
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  beforeAll(async () => {
    panel = await startPanel({
      users: [
        { email: ADMIN, role: 'admin' },
        { email: VIEWER, role: 'viewer' },
      ],
      // The delivery role turns the send into recipients; no real DNS (every address fails fast).
      app: { roles: ['api', 'delivery'], dns: fakeDns({}) },
      // Answers the test provokes on purpose: 401 for the session check on the sign-in page, 400 for a
      // blank name or a bad address, 403 for the viewer.
      allowConsole: /status of (400|401|403)/,
    });
    ({ t, page } = panel);
    await panel.signIn(ADMIN, PANEL_PASSWORD);
  });

  afterAll(async () => {
    await panel?.close();
  });

  it('shows no lists yet, refuses a blank name next to the field, and makes a list', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Lists' }).click();
    await page.getByRole('heading', { name: 'Lists', level: 1 }).waitFor();
    await page.getByText('No lists yet.').waitFor();
    await panel.shot('lists-empty');
    expect(await panel.axe()).toEqual([]);

    await page.getByRole('button', { name: 'Create list' }).click();
    const error = page.locator('#list-name-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/name/);
    expect(await page.getByLabel('List name').getAttribute('aria-describedby')).toBe('list-name-error');
    await panel.shot('lists-blank-name');
    expect(await panel.axe()).toEqual([]);
    expect(await marketing('/lists')).toEqual([]);

    await page.getByLabel('List name').fill('   ');
    await page.getByRole('button', { name: 'Create list' }).click();
    await page.getByText('name must not be blank').waitFor();
    expect(await marketing('/lists')).toEqual([]);

    await page.getByLabel('List name').fill('Newsletter');
    await page.getByRole('button', { name: 'Create list' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Newsletter' });
    await row.waitFor();
    expect(await row.getByRole('cell').nth(1).textContent()).toBe('0');
    const lists = await marketing('/lists');
    expect(lists.map((l: Loose) => l.name)).toEqual(['Newsletter']);
    listId = lists[0].listId;
    await panel.shot('lists-created');
    expect(await panel.axe()).toEqual([]);
    await phoneWidth('lists-phone');
  });

  it('imports a CSV through the file input: the progress bar reaches done and the refused rows are listed', async () => {
    await page.getByRole('link', { name: 'Newsletter' }).click();
    await page.getByRole('heading', { name: 'List: Newsletter' }).waitFor();
    await page.getByText('No contacts on this list yet.').waitFor();
    await panel.shot('lists-detail-empty');
    expect(await panel.axe()).toEqual([]);

    // No file chosen: said next to the form, nothing sent.
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Choose a CSV file to import.').waitFor();

    // A refused header: the server's reason next to the file input, nothing imported.
    await page.getByLabel('CSV file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('emailAddress,Shoe\na@example.com,42\n') });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.locator('#import-file-error').filter({ hasText: 'unknown column "Shoe"' }).waitFor();
    expect((await marketing(`/contacts?listId=${listId}`)).total).toBe(0);

    await page.getByLabel('CSV file').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csvFile()) });
    await page.getByRole('button', { name: 'Import' }).click();
    const progress = page.getByRole('progressbar', { name: 'Import progress' });
    await progress.waitFor();
    await page.getByText(/^Import done: 2,003 rows read, 2,000 new contacts, 0 updated, 3 refused\.$/).waitFor({ timeout: 60_000 });
    expect(await progress.getAttribute('value')).toBe('2003');
    expect(await progress.getAttribute('max')).toBe('2003');
    const refused = page.getByRole('table', { name: 'Refused rows' });
    const cells = await refused.getByRole('row').allTextContents();
    expect(cells).toEqual(['RowWhy', '12not a valid email address: "not-an-address"', '102too many columns (4, the header has 3)', '1002no email address']);
    await panel.shot('lists-import-done');
    expect(await panel.axe()).toEqual([]);
    // The API holds the good rows, on the list.
    expect((await marketing(`/contacts?listId=${listId}&pageSize=1`)).total).toBe(ROWS);
    await page.getByText('2,000 contacts on this list').waitFor();
    await page.getByText('2,000 contacts; page 1 of 100.').waitFor();
  });

  it('searches the contacts, pages, adds one (a bad address refused next to the field) and removes it after confirming', async () => {
    await page.getByLabel('Address starts with').fill('person12');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('111 contacts whose address starts with "person12"; page 1 of 6.').waitFor();
    const table = page.getByRole('table', { name: 'Contacts, page 1' });
    expect(await table.getByRole('row').nth(1).getByRole('cell').first().textContent()).toBe('person12@example.com');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('111 contacts whose address starts with "person12"; page 2 of 6.').waitFor();
    await panel.shot('lists-search');
    expect(await panel.axe()).toEqual([]);

    await page.getByLabel('Email address').fill('not an address');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.locator('#add-email-error').filter({ hasText: 'is not a valid email address' }).waitFor();
    await panel.shot('lists-add-refused');
    expect(await panel.axe()).toEqual([]);
    expect((await marketing(`/contacts?listId=${listId}&pageSize=1`)).total).toBe(ROWS);

    await page.getByLabel('Email address').fill('zed@example.org');
    await page.getByLabel('First name').fill('Zed');
    await page.getByLabel('Last name').fill('Zee');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.getByText('zed@example.org is on the list.').waitFor();
    expect((await marketing('/contacts?emailAddress=zed@example.org')).contacts[0]).toMatchObject({ firstName: 'Zed', lastName: 'Zee' });

    await page.getByLabel('Address starts with').fill('zed');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: 'Remove zed@example.org' }).click();
    await page.getByText('Take zed@example.org off the list?').waitFor();
    await panel.shot('lists-remove-confirm');
    await page.getByRole('button', { name: 'Remove from list' }).click();
    await page.getByText('No contact\'s address starts with "zed".').waitFor();
    expect((await marketing(`/contacts?listId=${listId}&pageSize=1`)).total).toBe(ROWS);
    expect((await marketing('/contacts?emailAddress=zed@example.org')).total).toBe(1); // the contact stays, off the list
  });

  it('previews the send merged for a chosen contact, sends it and the recipients appear in the Activity API', async () => {
    await page.getByLabel('From address').fill('news@example.com');
    await page.getByLabel('From name').fill('Example News');
    await page.getByLabel('Subject').fill('Hello %%FirstName%%');
    await page.getByLabel('HTML body').fill('<p>Dear %%RecipientName%%, this is <b>your</b> news.</p>');
    await page.getByLabel('Text body').fill('Dear %%FirstName%% (%%EmailAddress%%)');
    await page.getByLabel('Preview for contact').selectOption({ label: 'person5@example.com' });
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: 'Preview for person5@example.com' }).waitFor();
    expect(await page.locator('.preview-subject').textContent()).toBe('Hello First5');
    expect(await page.locator('.preview-text').textContent()).toBe('Dear First5 (person5@example.com)');
    const frame = page.locator('iframe[title="HTML body preview"]');
    expect(await frame.getAttribute('sandbox')).toBe('');
    await page.frameLocator('iframe[title="HTML body preview"]').getByText('Dear First5 Last, 5, this is your news.').waitFor();
    await panel.shot('lists-preview');
    expect(await panel.axe()).toEqual([]);

    await page.getByRole('button', { name: 'Send to list…' }).click();
    await page.getByText('Send this message to every subscribed contact of the list?').waitFor();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByText(/^Send accepted: every contact has been seen\. 2,000 contacts seen, 2,000 queued/).waitFor({ timeout: 90_000 });
    await panel.shot('lists-sent');
    expect(await panel.axe()).toEqual([]);

    // The recipients, through the Activity API as the panel's session reads it (the subject as stored, before each recipient's merge).
    await expect
      .poll(
        async () => {
          const r = await page.request.get(
            `${t.url}/api/v2/servers/${t.credentials.serverId}/reports/recipient-search?pageSize=5&sortField=queuedTime&sortDirection=dsc`,
          );
          const body = (await r.json()) as Loose;
          return {
            total: body.total,
            subjects: new Set(body.data.map((x: Loose) => x.subject)),
            to: body.data.every((x: Loose) => /^person\d+@example\.com$/.test(x.to)),
          };
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual({ total: ROWS, subjects: new Set(['Hello %%FirstName%%']), to: true });
    await page.getByRole('link', { name: 'See the recipients in Activity' }).click();
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Hello %%FirstName%%' }).first().waitFor();
    await phoneWidth('lists-activity-phone');
    await page.goBack();
    await page.getByRole('heading', { name: 'List: Newsletter' }).waitFor();
    await phoneWidth('lists-detail-phone');
  });

  it('shows a viewer no change controls, and the API refuses the viewer a change', async () => {
    const context = await panel.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const vpage = await context.newPage();
    try {
      await panel.signIn(VIEWER, PANEL_PASSWORD, vpage);
      await vpage.goto(`${t.url}/lists`);
      await vpage.getByRole('row').filter({ hasText: 'Newsletter' }).waitFor();
      expect(await vpage.getByRole('button', { name: 'Create list' }).count()).toBe(0);
      expect(await vpage.getByRole('button', { name: /Delete/ }).count()).toBe(0);
      await panel.shot('lists-viewer', vpage);
      expect(await panel.axe(vpage)).toEqual([]);
      await vpage.getByRole('link', { name: 'Newsletter' }).click();
      await vpage.getByText('2,000 contacts; page 1 of 100.').waitFor();
      for (const name of ['Import', 'Add contact', 'Preview', /Remove/]) expect(await vpage.getByRole('button', { name }).count()).toBe(0);
      await panel.shot('lists-detail-viewer', vpage);
      expect(await panel.axe(vpage)).toEqual([]);

      const session = (await (await vpage.request.get(`${t.url}/api/v2/session`)).json()) as Loose;
      const refused = await vpage.request.post(`${t.url}/marketing/v1/lists`, {
        headers: { 'x-postline-server': String(t.credentials.serverId), 'x-csrf-token': session.data.csrfToken, 'content-type': 'application/json' },
        data: { name: 'Viewer list' },
      });
      expect(refused.status()).toBe(403);
      expect(await refused.json()).toEqual({ message: 'a viewer can look but not change anything' });
      expect((await marketing('/lists')).map((l: Loose) => l.name)).toEqual(['Newsletter']);
    } finally {
      await context.close();
    }
  });

  it('ran without a CSP refusal or a script error', () => {
    expect(panel.problems).toEqual([]);
  });
});
