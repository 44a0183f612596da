/**
 * The Webhooks pages in a real browser, against Postline's api, delivery, webhooks and smtp (MX)
 * roles in process, a real HTTP receiver on loopback (allowed by `webhookAllowCidrs`, as an
 * operator would for an internal receiver) and an SMTP sink for deliveries. An admin adds an
 * endpoint through the form, sends a test event, watches a message's Queued and Delivered
 * attempts appear, sees a failed attempt while the receiver answers 500, replays a range, rotates
 * the secret, disables and enables, deletes; adds an inbound route and sees a received message's
 * post; every refused input is shown next to its field with nothing written; a viewer sees no
 * change controls and the API refuses the viewer's changes.
 */
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { inject, type TestApp } from '../helpers/app.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import { verify } from '../../src/net/standard-signature.js';

requireBrowser('test/panel/webhooks.test.ts');

const ADMIN = 'admin@webhooks.test';
const VIEWER = 'viewer@webhooks.test';

interface Endpoint {
  id: number;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
}
interface Attempt {
  type: string;
  ok: boolean;
  status: number | null;
}

describe.runIf(HAVE_BROWSER)('Webhooks pages in a browser', { timeout: 120_000 }, () => {
  let panel: PanelSession;
  let t: TestApp;
  let page: Page;
  let sink: SmtpSink;
  let dns: TestDnsServer;
  let receiver: WebhookReceiver;
  let key: string;
  let serverId: number;
  let endpointId: number;

  const api = <T>(method: string, path: string, body?: unknown) => v2<T>(t, method, `/servers/${serverId}${path}`, { key, body });
  const endpoints = async () => (await api<{ data: Endpoint[]; total: number }>('GET', '/webhooks')).body;
  const routes = async () => (await api<{ data: { id: number; match: string; url: string }[]; total: number }>('GET', '/inbound-routes')).body;
  const validations = () => receiver.received.filter((r) => r.json?.Type === 'Validation');
  const send = (subject: string) =>
    inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: [{ EmailAddress: 'reader@sink.test' }], From: { EmailAddress: 'shop@example.com' }, Subject: subject, TextBody: 'Hello' }],
    });
  /** Clicks "Refresh attempts" until the table has a row matching `text`. */
  const refreshUntilRow = async (text: RegExp) => {
    const table = page.getByRole('table', { name: 'Delivery attempts, newest first' });
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh attempts' }).click();
          await page.getByRole('button', { name: 'Refresh attempts' }).isEnabled();
          return (await table.count()) > 0 && (await table.getByRole('row').filter({ hasText: text }).count()) > 0;
        },
        { timeout: 30_000, interval: 300 },
      )
      .toBe(true);
    return table.getByRole('row').filter({ hasText: text });
  };
  const phone = async (name: string) => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await panel.shot(name);
    await page.setViewportSize({ width: 1280, height: 800 });
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    dns = await startDnsServer();
    receiver = await startReceiver();
    panel = await startPanel({
      users: [
        { email: ADMIN, role: 'admin' },
        { email: VIEWER, role: 'viewer' },
      ],
      app: {
        roles: ['api', 'delivery', 'webhooks', 'smtp'],
        config: { outboundPort: sink.port, webhookAllowCidrs: ['127.0.0.1'], smtpHost: '127.0.0.1', dnsServers: [dns.address] },
        dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
        delivery: { pollMs: 50 },
        // Quick retries: a failed post is tried again within a second once the receiver answers 200 again.
        webhooks: { pollMs: 50, retrySchedule: Array(40).fill(300) },
      },
      // Refused inputs are answered 4xx on purpose; Chromium logs each as a failed resource.
      allowConsole: /status of 4\d\d/,
    });
    ({ t, page } = panel);
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
  });

  afterAll(async () => {
    await panel?.close();
    await receiver?.close();
    await dns?.close();
    await sink?.close();
  });

  it('shows the empty Webhooks page for the server', async () => {
    await panel.signIn(ADMIN, PANEL_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    expect(await page.getByLabel('Server').inputValue()).toBe(String(serverId));
    await page.getByText('No endpoints yet').waitFor();
    await panel.shot('webhooks-empty');
    expect(await panel.axe()).toEqual([]);
  });

  it('refuses a private address, a malformed URL and a receiver that fails the handshake next to the URL field; nothing is created', async () => {
    const url = page.getByLabel('URL');
    const error = page.locator('#new-endpoint-url-error');
    for (const [input, said] of [
      ['http://10.1.2.3/hook', /webhook URL address refused/],
      ['not a url', /not a valid absolute URL/],
    ] as const) {
      await url.fill(input);
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await expect.poll(async () => (await error.isVisible()) && (await error.textContent())).toMatch(said);
      expect(await url.getAttribute('aria-invalid')).toBe('true');
      expect((await url.getAttribute('aria-describedby')) ?? '').toContain('new-endpoint-url-error');
      if (input.startsWith('http://10')) {
        await panel.shot('webhooks-refused-url');
        expect(await panel.axe()).toEqual([]);
      }
    }
    receiver.status = 500;
    await url.fill(receiver.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(async () => (await error.isVisible()) && (await error.textContent())).toMatch(/did not accept the Validation request \(HTTP 500\)/);
    receiver.status = 200;
    expect((await endpoints()).total).toBe(0);
    expect(receiver.received).toHaveLength(0);
  });

  it('adds an endpoint through the form: event-type checkboxes, the signing secret shown once', async () => {
    const types = page.getByRole('group', { name: 'Event types' });
    await types.getByLabel('Queued').check();
    await types.getByLabel('Delivered').check();
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('Copy it now: it is shown only this once.').waitFor();
    const secret = (await page.locator('.secret-once code').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Copy the signing secret' }).waitFor();

    const row = page
      .getByRole('table', { name: /Webhook endpoints of/ })
      .getByRole('row')
      .filter({ hasText: receiver.url });
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(0, 3)).toEqual([receiver.url, 'Queued, Delivered', 'Enabled']);

    const held = await endpoints();
    expect(held.total).toBe(1);
    expect(held.data[0]).toMatchObject({ url: receiver.url, eventTypes: ['Queued', 'Delivered'], enabled: true });
    endpointId = held.data[0]!.id;
    // The handshake was signed with the secret the page showed.
    expect(verify(validations()[0]!.headers, validations()[0]!.body, [secret])).toEqual({ ok: true });
    await panel.shot('webhooks-created');
    expect(await panel.axe()).toEqual([]);
    await phone('webhooks-list-phone');
  });

  it('sends a test event from the endpoint page: the receiver gets it and the attempt is listed with status 200', async () => {
    // The endpoint's link in the table (the "Endpoint added" line links to it too).
    await page
      .getByRole('table', { name: /Webhook endpoints of/ })
      .getByRole('link', { name: receiver.url })
      .click();
    await page.getByRole('heading', { name: 'Webhook endpoint', level: 1 }).waitFor();
    await page.getByText('No attempts yet.').waitFor();
    const before = validations().length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('The test event was accepted: HTTP 200').waitFor();
    const row = page.getByRole('table', { name: 'Test event' }).getByRole('row').nth(1);
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells[1]).toBe('Validation');
    expect(cells[2]).toBe('200');
    expect(cells[3]).toBe('ok');
    expect(validations()).toHaveLength(before + 1);
    await panel.shot('webhooks-endpoint-test');
    expect(await panel.axe()).toEqual([]);
  });

  it("lists a message's Queued and Delivered attempts as they happen", async () => {
    expect((await send('First')).body.ErrorCode).toBe('Success');
    const delivered = await refreshUntilRow(/Delivered/);
    const queued = await refreshUntilRow(/Queued/);
    for (const row of [queued, delivered]) expect((await row.first().getByRole('cell').allTextContents())[2]).toBe('200');
    expect(receiver.events().map((e) => e.Type)).toEqual(['Queued', 'Delivered']);
    const log = (await api<{ data: Attempt[] }>('GET', `/webhooks/${endpointId}/attempts`)).body.data;
    expect(log.map((a) => [a.type, a.ok, a.status]).sort()).toEqual([
      ['Delivered', true, 200],
      ['Queued', true, 200],
    ]);
    await panel.shot('webhooks-endpoint-attempts');
    expect(await panel.axe()).toEqual([]);
  });

  it('shows a failed attempt with its status while the receiver answers 500', async () => {
    receiver.status = 500;
    try {
      expect((await send('Second')).body.ErrorCode).toBe('Success');
      const failed = await refreshUntilRow(/status 500/);
      const cells = await failed.first().getByRole('cell').allTextContents();
      expect(cells[2]).toBe('500');
      expect(cells[3]).toBe('status 500');
      await panel.shot('webhooks-endpoint-failed');
      const log = (await api<{ data: Attempt[] }>('GET', `/webhooks/${endpointId}/attempts`)).body.data;
      expect(log.some((a) => !a.ok && a.status === 500)).toBe(true);
    } finally {
      receiver.status = 200;
    }
    // Retried once the receiver answers again.
    await expect.poll(() => receiver.events().length, { timeout: 30_000 }).toBe(4);
  });

  it('refuses a replay range that ends before it starts, next to "To"; then replays a range and the receiver gets the events again', async () => {
    const from = page.getByLabel('From', { exact: true });
    const to = page.getByLabel('To', { exact: true });
    const fromValue = await from.inputValue();
    await to.fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Replay events' }).click();
    const error = page.locator('#replay-to-error');
    await expect.poll(async () => (await error.isVisible()) && (await error.textContent())).toMatch(/to must be later than from/);
    expect(await to.getAttribute('aria-invalid')).toBe('true');
    await panel.shot('webhooks-replay-refused');
    expect(receiver.events()).toHaveLength(4);

    const soon = new Date(Date.now() + 10 * 60_000);
    const local = new Date(soon.getTime() - soon.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    expect(fromValue).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    await to.fill(local);
    await page.getByRole('button', { name: 'Replay events' }).click();
    await page.getByText('4 events queued to be sent again.').waitFor();
    await expect.poll(() => receiver.events().length, { timeout: 30_000 }).toBe(8);
    // Replayed events keep their EventId.
    const ids = receiver.events().map((e) => e.EventId);
    expect(new Set(ids).size).toBe(4);
    await panel.shot('webhooks-replayed');
    expect(await panel.axe()).toEqual([]);
  });

  it('rotates the signing secret after a confirmation, showing the new one once; the next test event is signed with it', async () => {
    await page.getByRole('button', { name: 'Rotate signing secret' }).click();
    await page.getByText('Make a new signing secret?').waitFor();
    await page.getByRole('button', { name: 'Yes, rotate' }).click();
    await page.getByText('Copy it now: it is shown only this once.').waitFor();
    const secret = (await page.locator('.secret-once code').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await panel.shot('webhooks-rotated');
    expect(await panel.axe()).toEqual([]);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => validations().length).toBeGreaterThan(2);
    const last = validations().at(-1)!;
    expect(verify(last.headers, last.body, [secret])).toEqual({ ok: true });
  });

  it('disables after a confirmation, saying why, and enables again', async () => {
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await endpoints()).data[0]!.enabled).toBe(true);
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, disable' }).click();
    await page.getByText('disabled through the API').waitFor();
    expect((await endpoints()).data[0]).toMatchObject({ enabled: false, disabledReason: 'disabled through the API' });
    await panel.shot('webhooks-endpoint-disabled');
    expect(await panel.axe()).toEqual([]);
    await phone('webhooks-endpoint-phone');
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await page.getByText(/^Enabled\. Events that happened while it was disabled/).waitFor();
    expect((await endpoints()).data[0]).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('edits the event types', async () => {
    const types = page.getByRole('group', { name: 'Event types' });
    await types.getByLabel('Failed').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    expect((await endpoints()).data[0]!.eventTypes).toEqual(['Queued', 'Delivered', 'Failed']);
    await page.locator('dd').filter({ hasText: 'Queued, Delivered, Failed' }).waitFor();
  });

  it('adds an inbound route (bad inputs refused next to their fields), lists it and shows a received message', async () => {
    await page.getByRole('link', { name: 'All endpoints of this server' }).click();
    await page.getByRole('link', { name: 'Inbound routes' }).click();
    await page.getByRole('heading', { name: 'Inbound routes', level: 1 }).waitFor();
    await page.getByText('No inbound routes yet').waitFor();
    expect(await page.getByRole('link', { name: 'Webhooks', exact: true }).getAttribute('aria-current')).toBe('page');

    const match = page.getByLabel('Domain or address');
    const url = page.getByLabel('URL');
    await match.fill('not a domain!');
    await url.fill(receiver.url);
    await page.getByRole('button', { name: 'Add route' }).click();
    await expect.poll(async () => (await page.locator('#route-match-error').isVisible()) && (await match.getAttribute('aria-invalid'))).toBe('true');
    await match.fill('inbound.example');
    await url.fill('http://192.168.7.7/in');
    await page.getByRole('button', { name: 'Add route' }).click();
    await expect.poll(async () => (await page.locator('#route-url-error').isVisible()) && (await url.getAttribute('aria-invalid'))).toBe('true');
    expect(await page.locator('#route-match-error').count()).toBe(0);
    await panel.shot('webhooks-inbound-refused');
    expect(await panel.axe()).toEqual([]);
    expect((await routes()).total).toBe(0);

    await url.fill(receiver.url);
    await page.getByRole('button', { name: 'Add route' }).click();
    await page.getByText('Route added for inbound.example.').waitFor();
    expect((await page.locator('.secret-once code').textContent()) ?? '').toMatch(/^whsec_/);
    const row = page
      .getByRole('table', { name: /Inbound routes of/ })
      .getByRole('row')
      .filter({ hasText: 'inbound.example' });
    await row.waitFor();
    expect((await row.getByRole('cell').allTextContents()).slice(0, 3)).toEqual(['inbound.example (domain)', receiver.url, 'Enabled']);
    const held = await routes();
    expect(held.data.map((r) => [r.match, r.url])).toEqual([['inbound.example', receiver.url]]);

    // A message to the routed domain, through the MX listener.
    const transport = createTransport({ host: '127.0.0.1', port: t.app.mxPort!, secure: false, ignoreTLS: true, pool: false });
    try {
      await transport.sendMail({ from: 'someone@sender.example', to: 'help@inbound.example', subject: 'Help', text: 'Please' });
    } finally {
      transport.close();
    }
    await expect.poll(() => receiver.received.filter((r) => r.json?.InboundRcptTo !== undefined).length, { timeout: 30_000 }).toBe(1);

    await page.getByRole('link', { name: 'Messages of inbound.example' }).click();
    await page.getByRole('heading', { name: 'Route inbound.example' }).waitFor();
    const posts = page.getByRole('table', { name: /Messages received for inbound.example/ });
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh messages' }).click();
          return (await posts.count()) > 0 && (await posts.getByRole('row').filter({ hasText: 'Delivered' }).count()) === 1;
        },
        { timeout: 30_000, interval: 300 },
      )
      .toBe(true);
    const cells = await posts.getByRole('row').nth(1).getByRole('cell').allTextContents();
    expect(cells.slice(1, 6)).toEqual(['help@inbound.example', 'someone@sender.example', 'Delivered', '1', 'HTTP 200']);
    await panel.shot('webhooks-inbound');
    expect(await panel.axe()).toEqual([]);

    // Replay: the delivered message is posted again.
    await page.getByRole('button', { name: 'Replay messages' }).click();
    await page.getByText('1 message queued to be sent again.').waitFor();
    await expect.poll(() => receiver.received.filter((r) => r.json?.InboundRcptTo !== undefined).length, { timeout: 30_000 }).toBe(2);
    await phone('webhooks-inbound-phone');
  });

  it('shows a viewer no change controls, and the API refuses the viewer', async () => {
    const ctx = await panel.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await ctx.newPage();
    try {
      await panel.signIn(VIEWER, PANEL_PASSWORD, viewer);
      await viewer.goto(`${t.url}/webhooks?server=${serverId}`);
      await viewer
        .getByRole('table', { name: /Webhook endpoints of/ })
        .getByRole('row')
        .filter({ hasText: receiver.url })
        .waitFor();
      expect(await viewer.getByRole('button', { name: 'Add endpoint' }).count()).toBe(0);
      expect(await viewer.getByRole('heading', { name: 'Add an endpoint' }).count()).toBe(0);
      await panel.shot('webhooks-viewer', viewer);
      expect(await panel.axe(viewer)).toEqual([]);

      await viewer.getByRole('link', { name: receiver.url }).click();
      await viewer.getByRole('heading', { name: 'Recent attempts' }).waitFor();
      await viewer.getByRole('table', { name: 'Delivery attempts, newest first' }).waitFor();
      for (const name of ['Send test event', 'Disable', 'Enable', 'Rotate signing secret', 'Delete endpoint', 'Replay events', 'Save changes'])
        expect([name, await viewer.getByRole('button', { name, exact: true }).count()]).toEqual([name, 0]);
      await panel.shot('webhooks-viewer-endpoint', viewer);
      expect(await panel.axe(viewer)).toEqual([]);

      await viewer.goto(`${t.url}/webhooks/inbound?server=${serverId}`);
      await viewer.getByRole('table', { name: /Inbound routes of/ }).waitFor();
      expect(await viewer.getByRole('button', { name: 'Add route' }).count()).toBe(0);

      // The API refuses the viewer's changes whatever the page shows.
      const csrf = ((await (await viewer.request.get(`${t.url}/api/v2/session`)).json()) as { data: { csrfToken: string } }).data.csrfToken;
      const headers = { 'x-csrf-token': csrf, origin: t.url };
      const before = validations().length;
      for (const [method, path, data] of [
        ['POST', `/webhooks/${endpointId}/test`, undefined],
        ['DELETE', `/webhooks/${endpointId}`, undefined],
        ['POST', '/webhooks', { url: receiver.url }],
        ['POST', '/inbound-routes', { match: 'viewer.example', url: receiver.url }],
      ] as const) {
        const res = await viewer.request.fetch(`${t.url}/api/v2/servers/${serverId}${path}`, {
          method,
          headers: data === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          data,
        });
        expect([method, path, res.status(), ((await res.json()) as { error: { code: string } }).error.code]).toEqual([method, path, 403, 'insufficient_role']);
      }
      expect(validations()).toHaveLength(before);
      expect((await endpoints()).total).toBe(1);
      expect((await routes()).total).toBe(1);
    } finally {
      await ctx.close();
    }
  });

  it('deletes the endpoint after a confirmation', async () => {
    await page.goto(`${t.url}/webhooks/endpoint?server=${serverId}&id=${endpointId}`);
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByText('Delete this endpoint with its waiting events and delivery log?').waitFor();
    await panel.shot('webhooks-delete-confirm');
    expect(await panel.axe()).toEqual([]);
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No endpoints yet').waitFor();
    expect((await endpoints()).total).toBe(0);
  });

  it('ran without a CSP refusal or a script error', () => {
    expect(panel.problems).toEqual([]);
  });
});
