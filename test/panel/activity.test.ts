/**
 * Activity, message detail and the sandbox inbox in a real browser: Postline's api and delivery
 * roles in process delivering to an SMTP sink on loopback (ok@ is accepted, permfail@ refused
 * 550 5.1.1), messages sent through the Injection API, and a sandbox server made through v2.
 *
 * The hostile-HTML test sends a message whose HTML tries every way of running code or leaking
 * that it was opened (script, onerror, svg onload, a javascript: link, a meta refresh, a remote
 * image), each of which would call a loopback "recorder" server; the recorder must hear only the
 * remote image, and only after "Load remote images" is pressed.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { inject, type TestApp } from '../helpers/app.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';

requireBrowser('test/panel/activity.test.ts');

const ADMIN = 'admin@activity.test';
const VIEWER = 'viewer@activity.test';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** A loopback HTTP server that records every request: anything but the remote image reaching it means hostile HTML ran. */
async function startRecorder(): Promise<{ server: HttpServer; url: string; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': req.url?.endsWith('.png') ? 'image/png' : 'text/plain' });
    res.end(req.url?.endsWith('.png') ? PNG : 'recorded');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}`, port, hits };
}

/** Waits (outside a test, where expect.poll is not allowed) until `read` answers `want`; fails after 90 s. */
async function until<T>(read: () => Promise<T>, want: T): Promise<void> {
  let last: T | undefined;
  for (const end = Date.now() + 90_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    last = await read();
    if (last === want) return;
  }
  throw new Error(`still ${String(last)}, waiting for ${String(want)}`);
}

interface Row {
  to: string;
  status: string;
  recipientId: string;
}

describe.runIf(HAVE_BROWSER)('activity, message detail and sandbox inbox in a browser', { timeout: 120_000 }, () => {
  let panel: PanelSession;
  let t: TestApp;
  let page: Page;
  let sink: SmtpSink;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let serverId: number;
  let sandboxId: number;
  const dialogs: string[] = [];
  const rows = async (sid: number, q: Record<string, string | number> = {}) =>
    (
      await v2<{ data: Row[]; total: number }>(t, 'GET', `/servers/${sid}/reports/recipient-search`, {
        key: t.credentials.accountKey,
        query: { pageSize: 100, ...q },
      })
    ).body;
  const byTo = async (to: string) => (await rows(serverId, { toEmailAddress: to })).data[0]!;

  beforeAll(async () => {
    sink = await startSmtpSink();
    recorder = await startRecorder();
    const expected = [
      // The sandboxed frame refusing what the hostile HTML tries (the meta refresh, the javascript:
      // link under the frame's own `default-src 'none'`, the remote image): only ever about the frame.
      "sandboxed and the 'allow-scripts' permission is not set",
      "The document is sandboxed, and the 'allow-scripts' keyword is not set",
      "violates the following Content Security Policy directive 'default-src 'none''",
      `127\\.0\\.0\\.1:${recorder.port}`,
      // The boot's session check before signing in (401), and the refused filters this file submits on purpose (400).
      'status of 401',
      'status of 400',
    ];
    panel = await startPanel({
      users: [
        { email: ADMIN, role: 'admin' },
        { email: VIEWER, role: 'viewer' },
      ],
      app: {
        roles: ['api', 'delivery'],
        config: { outboundPort: sink.port },
        dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
        delivery: { pollMs: 50, retrySchedule: [200] },
      },
      allowConsole: new RegExp(expected.join('|')),
    });
    ({ t, page } = panel);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    serverId = t.credentials.serverId;

    const sent = await inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          To: [{ EmailAddress: 'ok@sink.test' }],
          From: { EmailAddress: 'shop@example.com' },
          Subject: 'Welcome Ann',
          TextBody: 'Welcome text body.',
          HtmlBody: '<h1>Welcome aboard</h1><p>Glad to have you.</p>',
          MailingId: 'welcome',
          Attachments: [{ Name: 'terms.txt', ContentType: 'text/plain', Content: Buffer.from('the terms\n').toString('base64') }],
        },
        { To: [{ EmailAddress: 'permfail@sink.test' }], From: { EmailAddress: 'billing@example.com' }, Subject: 'Your invoice', TextBody: 'Invoice.' },
        {
          To: [{ EmailAddress: 'hostile@sink.test' }],
          From: { EmailAddress: 'shop@example.com' },
          Subject: 'Hostile HTML',
          TextBody: 'Hostile, as text.',
          HtmlBody: [
            `<meta http-equiv="refresh" content="0;url=${recorder.url}/meta-refresh">`,
            '<p id="visible">Hello from the hostile message</p>',
            `<script>fetch('${recorder.url}/script'); alert('script'); top.document.title = 'pwned'; localStorage.setItem('pwned', '1');</script>`,
            `<img alt="broken" src="data:image/png;base64,AAAA" onerror="fetch('${recorder.url}/onerror'); alert('onerror')">`,
            `<svg onload="fetch('${recorder.url}/svg'); alert('svg')"><circle r="4"></circle></svg>`,
            `<a id="js-link" href="javascript:fetch('${recorder.url}/javascript-link');alert('link')">Claim your prize</a>`,
            `<img alt="remote" src="${recorder.url}/remote.png">`,
          ].join('\n'),
        },
      ],
    });
    expect(sent.body.ErrorCode, sent.text).toBe('Success');

    // A sandbox server through v2 (the account key), and mail to it through the Injection API.
    const made = await v2<{ data: { serverId: number } }>(t, 'POST', '/servers', {
      key: t.credentials.accountKey,
      body: { name: 'Sandbox', sandbox: true, requireVerifiedDomain: false },
    });
    expect(made.status, made.text).toBe(201);
    sandboxId = made.body.data.serverId;
    const sandboxKey = (await createKey(t.store, sandboxId, 'injection')).key;
    const bulk = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ EmailAddress: `bulk${from + i}@example.org` }));
    const captured = await inject(t, {
      ServerId: sandboxId,
      ApiKey: sandboxKey,
      Messages: [
        { To: bulk(30, 0), From: { EmailAddress: 'news@example.com' }, Subject: 'Bulk news', TextBody: 'Bulk.' },
        { To: bulk(30, 30), From: { EmailAddress: 'news@example.com' }, Subject: 'Bulk news', TextBody: 'Bulk.' },
        {
          To: [{ EmailAddress: 'tester@example.org' }],
          From: { EmailAddress: 'app@example.com' },
          Subject: 'Sandbox hello',
          TextBody: 'This one was captured by the sandbox, never sent.',
          HtmlBody: '<p>Captured <b>HTML</b> body</p>',
        },
      ],
    });
    expect(captured.body.ErrorCode, captured.text).toBe('Success');

    // Delivery settles: two delivered, one refused; the sandbox keeps all 61.
    await until(
      async () =>
        (await rows(serverId)).data
          .map((r) => `${r.to} ${r.status}`)
          .sort()
          .join(','),
      'hostile@sink.test Delivered,ok@sink.test Delivered,permfail@sink.test Failed',
    );
    await until(async () => (await rows(sandboxId, { status: 'Sandboxed' })).total, 61);

    await panel.signIn(ADMIN, PANEL_PASSWORD, page);
  }, 180_000);

  afterAll(async () => {
    await panel?.close();
    await sink?.close();
    await new Promise((r) => recorder?.server.close(r));
  });

  /** Polls wait by condition, with room for a busy machine. */
  const SLOW = { timeout: 30_000, interval: 100 };
  const field = (label: string) => page.getByLabel(label, { exact: true });
  const tableRows = () => page.getByRole('table').first().locator('tbody tr');
  const recipients = async () => (await page.locator('table.messages tbody td.recipient').allTextContents()).sort();

  it('searches by recipient, keeps the filters in the URL through a reload, and clears them', async () => {
    await page.goto(`${t.url}/activity?server=${serverId}`);
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    await expect.poll(recipients, SLOW).toEqual(['hostile@sink.test', 'ok@sink.test', 'permfail@sink.test']);
    await panel.shot('activity-all');
    expect(await panel.axe()).toEqual([]);

    await field('Recipient').fill('OK@sink.test');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/toEmailAddress=OK%40sink.test/);
    await expect.poll(recipients, SLOW).toEqual(['ok@sink.test']);
    await page.reload();
    await expect.poll(recipients, SLOW).toEqual(['ok@sink.test']);
    expect(await field('Recipient').inputValue()).toBe('OK@sink.test');
    await panel.shot('activity-by-recipient');

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(recipients, SLOW).toEqual(['hostile@sink.test', 'ok@sink.test', 'permfail@sink.test']);
    expect(await field('Recipient').inputValue()).toBe('');
  });

  it('searches by status and by a date range', async () => {
    await field('Status').selectOption('Failed');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/status=Failed/);
    await expect.poll(recipients, SLOW).toEqual(['permfail@sink.test']);
    const cells = await tableRows().first().getByRole('cell').allTextContents();
    expect(cells[2]).toBe('Failed');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(recipients, SLOW).toHaveLength(3);

    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await field('Queued from').fill(today);
    await field('Queued until').fill(today);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(new RegExp(`startDate=${today}&endDate=${today}`));
    await expect.poll(recipients, SLOW).toHaveLength(3);
    await field('Queued from').fill(tomorrow);
    await field('Queued until').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No messages match these filters.').waitFor();
    expect(await page.locator('table.messages').count()).toBe(0);
    await panel.shot('activity-no-match');
    expect(await panel.axe()).toEqual([]);
  });

  it('opens a shared link with sender, subject and MailingId filters filled in', async () => {
    await page.goto(`${t.url}/activity?server=${serverId}&fromEmailAddress=shop%40example.com&subject=welcome`);
    await expect.poll(recipients, SLOW).toEqual(['ok@sink.test']);
    expect(await field('Sender').inputValue()).toBe('shop@example.com');
    expect(await field('Subject contains').inputValue()).toBe('welcome');
    await page.goto(`${t.url}/activity?server=${serverId}&mailingId=welcome`);
    await expect.poll(recipients, SLOW).toEqual(['ok@sink.test']);
    expect(await field('Mailing ID').inputValue()).toBe('welcome');
    await page.goto(`${t.url}/activity?server=${serverId}&fromEmailAddress=billing%40example.com`);
    await expect.poll(recipients, SLOW).toEqual(['permfail@sink.test']);
  });

  it('shows a refused filter next to its field, and the search changes nothing', async () => {
    const before = await rows(serverId);
    await page.goto(`${t.url}/activity?server=${serverId}`);
    await expect.poll(recipients, SLOW).toHaveLength(3);
    await field('Recipient').fill('not an address');
    await page.getByRole('button', { name: 'Search' }).click();
    const err = page.locator('#activity-toEmailAddress-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/not a valid email address/);
    expect(await err.getAttribute('role')).toBe('alert');
    expect(await field('Recipient').getAttribute('aria-describedby')).toContain('activity-toEmailAddress-error');
    expect(await page.locator('table.messages').count()).toBe(0);
    await panel.shot('activity-bad-recipient');
    expect(await panel.axe()).toEqual([]);

    await field('Recipient').fill('');
    await field('Queued from').fill('2026-03-10');
    await field('Queued until').fill('2026-03-01');
    await page.getByRole('button', { name: 'Search' }).click();
    const endErr = page.locator('#activity-endDate-error');
    await endErr.waitFor();
    expect(await endErr.textContent()).toMatch(/endDate is before startDate/);
    expect(await page.locator('#activity-toEmailAddress-error').count()).toBe(0);

    await field('Sender').fill('nobody@');
    await field('Queued from').fill('');
    await field('Queued until').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#activity-fromEmailAddress-error').waitFor();
    expect(await rows(serverId)).toEqual(before);
  });

  it('pages through a long list (next, previous, the total)', async () => {
    await page.goto(`${t.url}/activity?server=${sandboxId}`);
    await page.getByText('Showing 1–50 of 61 recipients, newest first.').waitFor();
    expect(await tableRows().count()).toBe(50);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForURL(/page=2/);
    await page.getByText('Showing 51–61 of 61 recipients, newest first.').waitFor();
    expect(await tableRows().count()).toBe(11);
    expect(await page.getByText('Page 2 of 2').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Showing 1–50 of 61 recipients, newest first.').waitFor();

    // A phone's width: the search form and the list fit.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.getByRole('button', { name: 'Search' }).waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('activity-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows a delivered message: the Delivered event with its reply, and the rendered body in tabs', async () => {
    const ok = await byTo('ok@sink.test');
    await page.goto(`${t.url}/activity?server=${serverId}&toEmailAddress=ok%40sink.test`);
    await page.getByRole('link', { name: 'ok@sink.test' }).click();
    await page.waitForURL(`${t.url}/activity/message?server=${serverId}&recipient=${ok.recipientId}`);
    await page.getByRole('heading', { level: 1, name: 'Message', exact: true }).waitFor();
    const events = page.getByRole('table', { name: 'Events of this message, oldest first' });
    await events.waitFor();
    const delivered = events.getByRole('row').filter({ hasText: 'Delivered' });
    const cells = await delivered.getByRole('cell').allTextContents();
    expect(cells[1]).toBe('Delivered');
    expect(cells[2]).toMatch(/^250 /);
    expect(cells[3]).toBe('127.0.0.1');
    // The sink's self-signed certificate: TLS all the same, said to be unverified and opportunistic.
    expect(cells[7]).toMatch(/^TLSv1\.[23], certificate not verified \(opportunistic\)$/);
    expect((await events.getByRole('row').nth(1).getByRole('cell').allTextContents())[1]).toBe('Queued');
    expect(await page.locator('.facts').textContent()).toContain('Welcome Ann');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activity' }).getAttribute('aria-current')).toBe('page');

    // The tabs: HTML first (in the sandboxed frame), the keyboard moves to Text.
    const tabs = page.getByRole('tablist', { name: 'Message parts' });
    expect(await tabs.getByRole('tab').allTextContents()).toEqual(['HTML', 'Text', 'Source', 'Headers', 'Attachments (1)']);
    const frame = page.frameLocator('iframe.message-frame');
    await frame.getByRole('heading', { name: 'Welcome aboard' }).waitFor();
    expect(await page.locator('iframe.message-frame').getAttribute('sandbox')).toBe('');
    await panel.shot('message-delivered');
    expect(await panel.axe()).toEqual([]);

    await tabs.getByRole('tab', { name: 'HTML' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await tabs.getByRole('tab', { name: 'Text' }).getAttribute('aria-selected')).toBe('true');
    await expect
      .poll(
        () => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent),
        SLOW,
      )
      .toBe('Text');
    expect(await page.getByRole('tabpanel').textContent()).toContain('Welcome text body.');
    await page.keyboard.press('End');
    expect(await tabs.getByRole('tab', { name: 'Attachments (1)' }).getAttribute('aria-selected')).toBe('true');
    const att = await page.getByRole('tabpanel').getByRole('row').nth(1).getByRole('cell').allTextContents();
    expect(att).toEqual(['terms.txt', 'text/plain', '10 B', 'Download terms.txt']);
    // The attachment downloads as a file with its name and bytes (the session cookie is the only credential).
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('tabpanel').getByRole('link', { name: 'Download terms.txt' }).click()]);
    expect(download.suggestedFilename()).toBe('terms.txt');
    expect(readFileSync(await download.path(), 'utf8')).toBe('the terms\n');
    await tabs.getByRole('tab', { name: 'Headers' }).click();
    expect(
      await page
        .getByRole('tabpanel')
        .getByRole('row')
        .filter({ hasText: /^Subject/ })
        .first()
        .textContent(),
    ).toContain('Welcome Ann');
    await tabs.getByRole('tab', { name: 'Source' }).click();
    expect(await page.getByRole('tabpanel').textContent()).toMatch(/Subject: Welcome Ann[\s\S]*Content-Type: multipart/);
    expect(await panel.axe()).toEqual([]);

    await page.setViewportSize({ width: 375, height: 740 });
    await events.waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('message-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("explains a bounce: the FailureCode in words, the status, the receiving server's reply", async () => {
    const perm = await byTo('permfail@sink.test');
    await page.goto(`${t.url}/activity/message?server=${serverId}&recipient=${perm.recipientId}`);
    const why = page.getByRole('region', { name: 'Why it failed' });
    await why.waitFor();
    const text = await why.textContent();
    expect(text).toContain('The address does not exist');
    expect(text).toContain('FailureCode 2001');
    expect(text).toContain('5.1.1');
    expect(text).toContain('(permanent)');
    const failed = page
      .getByRole('table', { name: /Events/ })
      .getByRole('row')
      .filter({ hasText: 'Failed' });
    const cells = await failed.getByRole('cell').allTextContents();
    expect(cells[2]).toContain('550 5.1.1');
    expect(cells[4]).toBe('2001');
    expect(cells[5]).toBe('5.1.1');
    expect(await page.locator('.facts').textContent()).toContain('550 5.1.1');
    // A text-only message has no HTML tab.
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Text', 'Source', 'Headers', 'Attachments (0)']);
    await panel.shot('message-bounce');
    expect(await panel.axe()).toEqual([]);
  });

  it('shows hostile HTML without running any of it, and remote images only when asked', async () => {
    const hostile = await byTo('hostile@sink.test');
    const detailUrl = `${t.url}/activity/message?server=${serverId}&recipient=${hostile.recipientId}`;
    await page.goto(detailUrl);
    const frameEl = page.locator('iframe.message-frame');
    await frameEl.waitFor();
    expect(await frameEl.getAttribute('sandbox')).toBe('');
    const frame = page.frameLocator('iframe.message-frame');
    await frame.getByText('Hello from the hostile message').waitFor();
    // The frame's answer carries the sandboxing CSP.
    const src = await frameEl.getAttribute('src');
    const direct = await page.request.get(`${t.url}${src}`);
    expect(direct.headers()['content-security-policy']).toMatch(/^sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:;/);
    expect(direct.headers()['x-content-type-options']).toBe('nosniff');
    // Clicking the javascript: link inside the frame runs nothing.
    await frame.locator('#js-link').click();
    expect(recorder.hits).toEqual([]);
    // The remote image is not loaded: its element is there, broken.
    expect(await frame.locator('img[alt="remote"]').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(0);
    await panel.shot('message-hostile');
    expect(await panel.axe()).toEqual([]);

    await page.getByRole('button', { name: 'Load remote images' }).click();
    await page.getByText('Remote images are shown.').waitFor();
    const frame2 = page.frameLocator('iframe.message-frame');
    await frame2.getByText('Hello from the hostile message').waitFor();
    await expect.poll(() => recorder.hits.includes('/remote.png'), SLOW).toBe(true);
    await expect.poll(() => frame2.locator('img[alt="remote"]').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), SLOW).toBe(1);
    await frame2.locator('#js-link').click();
    await panel.shot('message-hostile-remote-images');

    // Nothing else reached the recorder: no script, handler, link or refresh ran, in either load.
    expect(recorder.hits.filter((h) => h !== '/remote.png')).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(page.url()).toBe(detailUrl);
    expect(await page.title()).toBe('Message · Postline');
    expect(
      await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('pwned')),
    ).toBeNull();
  });

  it('lists what the sandbox captured like a mail client, and shows the selected message', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sandbox inbox' }).click();
    await page.getByRole('heading', { name: 'Sandbox inbox' }).waitFor();
    expect(await page.getByLabel('Sandbox server').inputValue()).toBe(String(sandboxId));
    await page.getByText('61 captured messages.').waitFor();
    const list = page.getByRole('list', { name: 'Messages captured by Sandbox' });
    expect(await list.getByRole('listitem').count()).toBe(25);
    const hello = list.getByRole('link').filter({ hasText: 'Sandbox hello' });
    const text = await hello.textContent();
    expect(text).toContain('app@example.com');
    expect(text).toContain('This one was captured by the sandbox, never sent.');
    expect(await hello.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-/);
    await panel.shot('inbox-list');
    expect(await panel.axe()).toEqual([]);

    await hello.click();
    await page.waitForURL(/\/inbox\?server=\d+&message=/);
    expect(await hello.getAttribute('aria-current')).toBe('true');
    const view = page.getByRole('region', { name: 'Selected message' });
    await view.getByRole('tablist', { name: 'Message parts' }).waitFor();
    await page.frameLocator('iframe.message-frame').getByText('Captured HTML body').waitFor();
    const sandboxed = view
      .getByRole('table', { name: /Events/ })
      .getByRole('row')
      .filter({ hasText: 'Delivered' });
    expect((await sandboxed.getByRole('cell').allTextContents())[2]).toMatch(/Sandbox mode/);
    expect(await view.locator('.facts').textContent()).toContain('Sandboxed');
    await panel.shot('inbox-message');
    expect(await panel.axe()).toEqual([]);

    await page.setViewportSize({ width: 375, height: 740 });
    await view.waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot('inbox-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('says how to make a sandbox server when there is none', async () => {
    const off = await v2(t, 'PATCH', `/servers/${sandboxId}`, { key: t.credentials.accountKey, body: { sandbox: false } });
    expect(off.status, off.text).toBe(200);
    try {
      await page.goto(`${t.url}/inbox`);
      await page.getByText('This account has no sandbox server.').waitFor();
      expect(await page.locator('.empty').textContent()).toContain('"sandbox": true');
      await panel.shot('inbox-none');
      expect(await panel.axe()).toEqual([]);
    } finally {
      await v2(t, 'PATCH', `/servers/${sandboxId}`, { key: t.credentials.accountKey, body: { sandbox: true } });
    }
  });

  it('lets a viewer search and read, with no change controls; the API refuses a viewer’s change', async () => {
    const context = await panel.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    viewer.on('pageerror', (e) => panel.problems.push(`viewer pageerror: ${e.message}`));
    try {
      await viewer.goto(`${t.url}/login`);
      await panel.signIn(VIEWER, PANEL_PASSWORD, viewer);
      const perm = await byTo('permfail@sink.test');
      for (const path of [
        `/activity?server=${serverId}&status=Failed`,
        `/activity/message?server=${serverId}&recipient=${perm.recipientId}`,
        `/inbox?server=${sandboxId}`,
      ]) {
        await viewer.goto(`${t.url}${path}`);
        await viewer.getByRole('heading', { level: 1 }).waitFor();
        await viewer.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
        const buttons = await viewer.locator('main').getByRole('button').allTextContents();
        // Reading only: search, refresh, paging, tabs; nothing that changes anything.
        for (const b of buttons)
          expect([path, b]).toEqual([path, expect.stringMatching(/^(Search|Refresh|Clear filters|Next page|Previous page|Load remote images)$/)]);
      }
      await viewer.goto(`${t.url}/activity?server=${serverId}&status=Failed`);
      await expect.poll(async () => (await viewer.locator('table.messages tbody td.recipient').allTextContents()).sort(), SLOW).toEqual(['permfail@sink.test']);
      await panel.shot('activity-viewer', viewer);
      const session = (await (await viewer.request.get(`${t.url}/api/v2/session`)).json()) as { data: { csrfToken: string } };
      const refused = await viewer.request.patch(`${t.url}/api/v2/servers/${sandboxId}`, {
        headers: { 'x-csrf-token': session.data.csrfToken, origin: t.url, 'content-type': 'application/json' },
        data: { sandbox: false },
      });
      expect(refused.status()).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('insufficient_role');
      const still = await v2<{ data: { sandbox: boolean } }>(t, 'GET', `/servers/${sandboxId}`, { key: t.credentials.accountKey });
      expect(still.body.data.sandbox).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('ran without a CSP refusal or a script error in the panel', () => {
    expect(panel.problems).toEqual([]);
  });
});
