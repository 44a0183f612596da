/**
 * The Suppressions page in a real browser: add one address (and a bad one refused next to the
 * field), find addresses by search, remove one with the confirm step, see a permanent bounce's
 * automatic suppression (a null-MX domain, delivered for real by the delivery role), upload a file
 * with good and bad lines (and one big enough to go in several requests), download the CSV, the
 * phone width, and a viewer who sees no change controls and whom the API refuses.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { inject, type TestApp } from '../helpers/app.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';

requireBrowser('test/panel/suppressions.test.ts');

const ADMIN = 'admin@panel.test';
const VIEWER = 'viewer@panel.test';

interface Entry {
  emailAddress: string;
  reason: string;
  detail: string | null;
}

describe.runIf(HAVE_BROWSER)('the Suppressions page in a browser', { timeout: 120_000 }, () => {
  let panel: PanelSession;
  let t: TestApp;
  let page: Page;
  let key: string;
  let serverId: number;

  /** What the API holds: the lookup (null when not listed) and the whole list. */
  const lookup = async (emailAddress: string) => {
    const r = await v2<{ data: Entry } & V2Error>(t, 'GET', `/servers/${serverId}/suppressions`, { key, query: { emailAddress } });
    return r.status === 200 ? r.body.data : r.status === 404 ? null : Promise.reject(new Error(`lookup answered ${r.status}`));
  };
  const listed = async () =>
    (
      await v2<{ data: Entry[]; total: number }>(t, 'GET', `/servers/${serverId}/suppressions/search`, {
        key,
        query: { pageSize: 100, sortField: 'emailAddress', sortDirection: 'asc' },
      })
    ).body;
  // By the address cell's own text: at a phone's width a cell's accessible name starts with its label.
  const rowOf = (address: string) => page.locator('tr', { has: page.locator('td.recipient').getByText(address, { exact: true }) });
  const search = async (text: string, match: 'Containing the text' | 'Starting with the text' = 'Containing the text') => {
    await page.getByLabel('Find addresses').fill(text);
    await page.getByLabel('Match').selectOption({ label: match });
    await page.getByRole('button', { name: 'Search', exact: true }).click();
  };
  const bulkAddRequests: string[] = [];

  beforeAll(async () => {
    panel = await startPanel({
      users: [
        { email: ADMIN, role: 'admin' },
        { email: VIEWER, role: 'viewer' },
      ],
      // The delivery role and a null-MX domain: a real permanent bounce, listed automatically.
      app: {
        roles: ['api', 'delivery'],
        dns: fakeDns({ 'null-mx.test': { mx: [{ exchange: '.', priority: 0 }] } }),
        delivery: { retrySchedule: [100], lifetimeMs: 2_000, pollMs: 50 },
      },
      // Refusals the tests provoke (a bad address 400, a missing address 404, the viewer's 403s) are logged as failed loads.
      // The first look at the session before signing in is a 401 too.
      allowConsole: /status of 40[0134]/,
    });
    ({ t, page } = panel);
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/suppressions/bulk-add')) bulkAddRequests.push(r.url());
    });
    await panel.signIn(ADMIN, PANEL_PASSWORD);
  });

  afterAll(async () => {
    await panel?.close();
  });

  it('opens from the navigation with the server chosen and an empty list', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Suppressions' }).click();
    await page.waitForURL(`${t.url}/suppressions`);
    await page.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
    expect(await page.getByLabel('Server').inputValue()).toBe(String(serverId));
    await page.getByText('The list is empty: this server sends to every address.').waitFor();
    await panel.shot('suppressions-empty');
    expect(await panel.axe()).toEqual([]);
  });

  it('refuses a bad address next to the field and adds nothing', async () => {
    const field = page.getByLabel('Email address');
    await field.fill('not-an-address');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const error = page.locator('#sup-add-address-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('emailAddress is not a valid email address');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await field.getAttribute('aria-describedby')).toContain('sup-add-address-error');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    // An empty field goes to the server too, and is refused the same way.
    await field.fill('');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => error.textContent()).toBe('emailAddress is not a valid email address');
    expect((await listed()).total).toBe(0);
    await panel.shot('suppressions-add-refused');
    expect(await panel.axe()).toEqual([]);
  });

  it('adds one address with a reason: listed on the page and in the API', async () => {
    await page.getByLabel('Email address').fill('Someone@Example.com');
    await page.getByLabel('Reason', { exact: true }).selectOption('Unsubscribe');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Added someone@example.com (Unsubscribe).').waitFor();
    expect(await page.locator('#sup-add-address-error').count()).toBe(0);
    expect(await page.getByLabel('Email address').inputValue()).toBe('');
    const row = rowOf('someone@example.com');
    await row.waitFor();
    expect((await row.getByRole('cell').allTextContents()).slice(0, 3)).toEqual(['someone@example.com', 'Unsubscribe', '—']);
    expect(await lookup('someone@example.com')).toMatchObject({ emailAddress: 'someone@example.com', reason: 'Unsubscribe', detail: null });
    await panel.shot('suppressions-added');
  });

  it('finds addresses by search (containing, starting with), says when nothing matches, and shows a refused search next to the field', async () => {
    for (const emailAddress of ['alpha@search.test', 'alphabet@search.test', 'beta@search.test']) {
      const r = await v2(t, 'POST', `/servers/${serverId}/suppressions`, { key, body: { emailAddress, reason: 'Complaint' } });
      expect(r.status).toBe(200);
    }
    await search('alpha');
    await page.getByText('Showing 1–2 of 2 addresses.').waitFor();
    expect(await page.getByRole('table').getByRole('row').count()).toBe(3);
    await rowOf('alpha@search.test').waitFor();
    await rowOf('alphabet@search.test').waitFor();
    expect(await page.getByRole('table').locator('caption').textContent()).toContain('containing “alpha”');
    await panel.shot('suppressions-search');
    expect(await panel.axe()).toEqual([]);

    await search('BET', 'Starting with the text');
    await rowOf('beta@search.test').waitFor();
    await page.getByText('Showing 1–1 of 1 address.').waitFor();

    await search('nobody');
    await page.getByText('No address contains “nobody”.').waitFor();
    expect(await page.getByRole('table').count()).toBe(0);

    await search('x'.repeat(321));
    const error = page.locator('#sup-search-text-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/^contains must NOT have more than 320 characters/);
    expect(await page.getByLabel('Find addresses').getAttribute('aria-describedby')).toContain('sup-search-text-error');
    await panel.shot('suppressions-search-refused');

    await page.getByRole('button', { name: 'Show all' }).click();
    await page.getByText('Showing 1–4 of 4 addresses.').waitFor();
  });

  it('removes an address only after the confirm step; the API then says it is not suppressed', async () => {
    const row = rowOf('someone@example.com');
    await row.getByRole('button', { name: 'Remove someone@example.com' }).click();
    const yes = row.getByRole('button', { name: 'Yes, remove someone@example.com' });
    await yes.waitFor();
    // Focus moves to the confirm button, so a keyboard user answers at once.
    await expect.poll(() => yes.evaluate((el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement)).toBe(true);
    await panel.shot('suppressions-remove-confirm');
    expect(await panel.axe()).toEqual([]);
    // Cancel keeps it.
    await row.getByRole('button', { name: 'Cancel removing someone@example.com' }).click();
    await row.getByRole('button', { name: 'Remove someone@example.com' }).waitFor();
    expect(await lookup('someone@example.com')).not.toBeNull();

    await row.getByRole('button', { name: 'Remove someone@example.com' }).click();
    await row.getByRole('button', { name: 'Yes, remove someone@example.com' }).click();
    await page.getByText('Removed someone@example.com from the list.').waitFor();
    await expect.poll(() => rowOf('someone@example.com').count()).toBe(0);
    expect(await lookup('someone@example.com')).toBeNull();
    await panel.shot('suppressions-removed');
  });

  it("lists a permanent bounce's automatic suppression (reason Bounce, the failure as its detail)", async () => {
    const sent = await inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: [{ EmailAddress: 'gone@null-mx.test' }], From: { EmailAddress: 'shop@example.com' }, Subject: 'Hello', TextBody: 'Hello' }],
    });
    expect(sent.body.ErrorCode).toBe('Success');
    await expect.poll(() => lookup('gone@null-mx.test'), { timeout: 60_000, interval: 200 }).not.toBeNull();
    await search('null-mx');
    const row = rowOf('gone@null-mx.test');
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells[1]).toBe('Bounce');
    expect(cells[2]).toMatch(/^FailureCode 2\d\d\d: /);
    await panel.shot('suppressions-bounce');
    expect(await panel.axe()).toEqual([]);
    await page.getByRole('button', { name: 'Show all' }).click();
  });

  it('asks for a file before uploading', async () => {
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const error = page.locator('#sup-upload-file-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('Choose a file first.');
    expect(await page.getByLabel('File').getAttribute('aria-describedby')).toContain('sup-upload-file-error');
    expect(bulkAddRequests).toEqual([]);
  });

  it('uploads a CSV with good and bad lines: the counts and each refused line with why; the good ones listed, the bad ones not', async () => {
    const csv = [
      'emailAddress,name',
      'good1@upload.test,One',
      'good2@upload.test,Two',
      'not-an-address,Three',
      ',Four',
      'GOOD1@upload.test,Again',
      '',
      'bad@@upload.test,Five',
      'alpha@search.test,Already listed',
    ].join('\r\n');
    await page.getByLabel('File').setInputFiles({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByLabel('Reason for these addresses').selectOption('CustomerRequest');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const summary = page.locator('.sup-summary [role=status]');
    await summary.waitFor();
    expect((await summary.textContent())!.replace(/\s+/g, ' ')).toBe(
      '7 lines read: 2 added, 1 already on the list (reason updated), 1 repeated in the file, 3 refused.',
    );
    const refused = page.getByRole('table', { name: 'Refused lines' });
    const rows = await refused.getByRole('row').all();
    const texts = [];
    for (const r of rows.slice(1)) texts.push(await r.getByRole('cell').allTextContents());
    expect(texts).toEqual([
      ['4', 'not-an-address', 'not an email address (no @)'],
      ['5', '(empty)', 'empty'],
      ['8', 'bad@@upload.test', 'not a valid email address'],
    ]);
    const all = (await listed()).data.map((e) => [e.emailAddress, e.reason]);
    expect(all).toEqual([
      ['alpha@search.test', 'CustomerRequest'],
      ['alphabet@search.test', 'Complaint'],
      ['beta@search.test', 'Complaint'],
      ['gone@null-mx.test', 'Bounce'],
      ['good1@upload.test', 'CustomerRequest'],
      ['good2@upload.test', 'CustomerRequest'],
    ]);
    // The list below shows them too.
    await rowOf('good1@upload.test').waitFor();
    await panel.shot('suppressions-upload-result');
    expect(await panel.axe()).toEqual([]);
  });

  it('sends a long file in requests of 1,000 and adds every line', async () => {
    bulkAddRequests.length = 0;
    const lines = Array.from({ length: 2_500 }, (_, i) => `many${String(i).padStart(4, '0')}@upload.test`);
    await page.getByLabel('File').setInputFiles({ name: 'many.txt', mimeType: 'text/plain', buffer: Buffer.from(lines.join('\n')) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText(/^2,500 lines read:/).waitFor({ timeout: 60_000 });
    expect((await page.locator('.sup-summary [role=status]').textContent())!.replace(/\s+/g, ' ')).toBe(
      '2,500 lines read: 2,500 added, 0 already on the list (reason updated), 0 repeated in the file, 0 refused.',
    );
    expect(bulkAddRequests.length).toBe(3);
    expect((await listed()).total).toBe(2_506);
    expect(await page.getByRole('table', { name: 'Refused lines' }).count()).toBe(0);
    // 2,506 addresses: the list pages, 50 at a time.
    await page.getByText('Showing 1–50 of 2,506 addresses.').waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Showing 51–100 of 2,506 addresses.').waitFor();
    await page.getByText('Page 2 of 51').waitFor();
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Showing 1–50 of 2,506 addresses.').waitFor();
  });

  it('downloads the (filtered) list as CSV through a plain link with the session cookie', async () => {
    await search('upload.test', 'Containing the text');
    await page.getByText('Showing 1–50 of 2,502 addresses.').waitFor();
    await search('good', 'Starting with the text');
    await page.getByText('Showing 1–2 of 2 addresses.').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(`suppressions-${serverId}.csv`);
    const text = readFileSync((await download.path())!, 'utf8');
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('emailAddress,reason,detail,createdOn,lastUpdate');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(
      expect.arrayContaining(['good1@upload.test,CustomerRequest,', 'good2@upload.test,CustomerRequest,']),
    );
    expect(lines.length).toBe(3);
    // The whole list, unfiltered, has every address.
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.getByText('Showing 1–50 of 2,506 addresses.').waitFor();
    const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    expect(
      readFileSync((await all.path())!, 'utf8')
        .trimEnd()
        .split('\r\n').length,
    ).toBe(2_507);
  });

  it('fits a phone (375 px) without sideways scrolling', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await search('null-mx');
    await rowOf('gone@null-mx.test').waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('suppressions-phone');
    expect(await panel.axe()).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows a viewer the list without change controls, and the API refuses the viewer its changes', async () => {
    const context: BrowserContext = await panel.browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const vpage = await context.newPage();
      vpage.on('console', (m) => {
        if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) panel.problems.push(`viewer console: ${m.text()}`);
      });
      vpage.on('pageerror', (e) => panel.problems.push(`viewer pageerror: ${e.message}`));
      await vpage.goto(`${t.url}/suppressions`);
      await vpage.waitForURL(/\/login\?next=%2Fsuppressions$/);
      await panel.signIn(VIEWER, PANEL_PASSWORD, vpage);
      await vpage.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
      await vpage.getByText('Showing 1–50 of 2,506 addresses.').waitFor();
      await vpage.getByText('As a viewer you can search and download the list, not change it.').waitFor();
      for (const name of ['Add', 'Upload', 'Yes, remove']) expect(await vpage.getByRole('button', { name, exact: true }).count()).toBe(0);
      expect(await vpage.getByRole('button', { name: /^Remove / }).count()).toBe(0);
      expect(await vpage.getByLabel('Email address').count()).toBe(0);
      expect(await vpage.getByLabel('File').count()).toBe(0);
      expect(await vpage.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
      expect(await vpage.getByRole('link', { name: 'Download CSV' }).isVisible()).toBe(true);
      await panel.shot('suppressions-viewer', vpage);
      expect(await panel.axe(vpage)).toEqual([]);

      // The viewer's own session, with its CSRF token, from the page: refused all the same.
      const answers = await vpage.evaluate(async (sid: number) => {
        const session = (await (await fetch('/api/v2/session')).json()) as { data: { csrfToken: string } };
        const headers = { 'content-type': 'application/json', 'x-csrf-token': session.data.csrfToken };
        const base = `/api/v2/servers/${sid}/suppressions`;
        const tries = [
          fetch(base, { method: 'POST', headers, body: JSON.stringify({ emailAddress: 'viewer-added@example.com' }) }),
          fetch(`${base}/bulk-add`, { method: 'POST', headers, body: JSON.stringify({ emailAddresses: ['viewer-bulk@example.com'] }) }),
          fetch(`${base}?emailAddress=good1%40upload.test`, { method: 'DELETE', headers }),
        ];
        return Promise.all(
          tries.map(async (p) => {
            const r = await p;
            return [r.status, ((await r.json()) as { error?: { code: string } }).error?.code];
          }),
        );
      }, serverId);
      expect(answers).toEqual([
        [403, 'insufficient_role'],
        [403, 'insufficient_role'],
        [403, 'insufficient_role'],
      ]);
      expect(await lookup('viewer-added@example.com')).toBeNull();
      expect(await lookup('viewer-bulk@example.com')).toBeNull();
      expect(await lookup('good1@upload.test')).not.toBeNull();
    } finally {
      await context.close();
    }
  });

  it('ran without a CSP refusal or a script error', () => {
    expect(panel.problems).toEqual([]);
  });
});
