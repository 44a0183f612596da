/**
 * The Domains page in a real browser: a server's sending domains (DKIM records, per-record
 * verification, rotation), its custom bounce and tracking domains (CNAME, default), refused names
 * shown next to their field, delete with a confirmation step, a phone's width, and a viewer who
 * sees the records but no change controls (and whom the API refuses).
 *
 * DNS is a real DNS server on loopback (test/helpers/dns-server.ts) that Postline is pointed at
 * with `dnsServers`: the test publishes records in it and the page's "Check again" looks them up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { HAVE_BROWSER, PANEL_PASSWORD, requireBrowser, startPanel, type PanelSession } from '../helpers/panel-browser.js';

requireBrowser('test/panel/domains.test.ts');

const ADMIN = 'admin@domains.test';
const VIEWER = 'viewer@domains.test';

interface SendingRecord {
  type: 'TXT' | 'CNAME';
  name: string;
  value: string;
  purpose: string;
  required: boolean;
  chunks?: string[];
}
interface SendingDomain {
  id: number;
  domain: string;
  verified: boolean;
  keys: { selector: string; state: string }[];
  lastCheck: { name: string; status: string; found: string[] }[] | null;
}
interface CustomDomain {
  domainId: number;
  domain: string;
  isDefault: boolean;
  verified: boolean;
  records: { name: string; expected: string; status: string }[];
}

describe.runIf(HAVE_BROWSER)('the Domains page in a browser', { timeout: 120_000 }, () => {
  let panel: PanelSession;
  let t: TestApp;
  let page: Page;
  let dns: TestDnsServer;
  let serverId: number;
  let key: string;
  let sendingId = 0;
  const api = <T>(method: string, path: string, body?: unknown) =>
    v2<T>(t, method, `/servers/${serverId}${path}`, { key, ...(body === undefined ? {} : { body }) });
  const sendingList = async () => (await api<{ data: SendingDomain[]; total: number }>('GET', '/sending-domains')).body;
  const customList = async (kind: 'bounce' | 'tracking') => (await api<{ data: CustomDomain[]; total: number }>('GET', `/${kind}-domains`)).body;
  const records = async () => (await api<{ data: { records: SendingRecord[] } }>('GET', `/sending-domains/${sendingId}/dns-records`)).body.data.records;
  /** The row of the records table whose Name cell is exactly `name` (and whose value is `value`, when given). */
  const recordRow = (name: string, value?: string): Locator => {
    let rows = page
      .locator('table.domains-records tbody tr')
      .filter({ has: page.locator('td[data-label="Name"] code', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }) });
    if (value !== undefined) rows = rows.filter({ has: page.locator('td[data-label="Value"] code', { hasText: value }) });
    return rows;
  };
  const statusOf = async (row: Locator) => (await row.locator('td[data-label="Status"] .badge').textContent())?.trim();
  const goToDomains = async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Domains' }).click();
    await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Sending domains' }).waitFor();
  };

  beforeAll(async () => {
    dns = await startDnsServer();
    // The session probe before sign-in (401) and refused requests (400, 403, 409) are logged by Chromium as failed resources; they are what the tests expect.
    panel = await startPanel({
      users: [
        { email: ADMIN, role: 'admin' },
        { email: VIEWER, role: 'viewer' },
      ],
      app: { config: { dnsServers: [dns.address] } },
      allowConsole: /status of (400|401|403|409)/,
    });
    ({ t, page } = panel);
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    await panel.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    await panel.signIn(ADMIN, PANEL_PASSWORD);
  });

  afterAll(async () => {
    await panel?.close();
    await dns?.close();
  });

  it('shows the three kinds of domain, empty, with their add forms', async () => {
    await goToDomains();
    for (const h of ['Sending domains', 'Bounce domains', 'Tracking domains']) await page.getByRole('heading', { level: 2, name: h }).waitFor();
    await page.getByText('No sending domains yet.').waitFor();
    await page.getByText('No bounce domains yet.').waitFor();
    await page.getByText('No tracking domains yet.').waitFor();
    expect(await page.getByLabel('Server').inputValue()).toBe(String(serverId));
    for (const name of ['Add sending domain', 'Add bounce domain', 'Add tracking domain'])
      expect(await page.getByRole('button', { name }).isVisible()).toBe(true);
    await panel.shot('domains-empty');
    expect(await panel.axe()).toEqual([]);
  });

  it('refuses a bad sending domain name next to the field, and creates nothing', async () => {
    const input = page.getByLabel('Sending domain', { exact: true });
    await input.fill('not a domain');
    await page.getByRole('button', { name: 'Add sending domain' }).click();
    const err = page.locator('#add-sending-domain-error');
    await err.waitFor();
    expect(await err.getAttribute('role')).toBe('alert');
    expect(await err.textContent()).toMatch(/domain/i);
    expect(await input.getAttribute('aria-describedby')).toContain('add-sending-domain-error');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect(page.url()).toMatch(/\/domains(\?|$)/);
    await panel.shot('domains-refused-name');
    expect(await panel.axe()).toEqual([]);
    expect((await sendingList()).total).toBe(0);
  });

  it('refuses a bad DKIM selector next to its field, and creates nothing', async () => {
    await page.getByLabel('Sending domain', { exact: true }).fill('example.com');
    await page.getByLabel('DKIM selector').fill('bad_selector!');
    await page.getByRole('button', { name: 'Add sending domain' }).click();
    const err = page.locator('#add-sending-selector-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/selector/i);
    // The domain's own error from the previous attempt is gone: only the field at fault is marked.
    expect(await page.locator('#add-sending-domain-error').count()).toBe(0);
    expect((await sendingList()).total).toBe(0);
    await page.getByLabel('DKIM selector').fill('');
  });

  it('refuses bad bounce and tracking domain names next to their fields, and creates nothing', async () => {
    await page.getByLabel('Bounce domain', { exact: true }).fill('bounces');
    await page.getByRole('button', { name: 'Add bounce domain' }).click();
    const bounceErr = page.locator('#add-bounce-domain-error');
    await bounceErr.waitFor();
    expect(await bounceErr.textContent()).toMatch(/not a domain name/);

    await page.getByLabel('Tracking domain', { exact: true }).fill('-click-.example..com');
    await page.getByRole('button', { name: 'Add tracking domain' }).click();
    const trackingErr = page.locator('#add-tracking-domain-error');
    await trackingErr.waitFor();
    expect(await trackingErr.textContent()).toMatch(/not a domain name/);
    await panel.shot('domains-refused-custom');
    expect(await panel.axe()).toEqual([]);
    expect((await customList('bounce')).total).toBe(0);
    expect((await customList('tracking')).total).toBe(0);
  });

  it('adds a sending domain and shows the records to publish, each with a copy button', async () => {
    await page.getByLabel('Sending domain', { exact: true }).fill('example.com');
    await page.getByRole('button', { name: 'Add sending domain' }).click();
    await page.waitForURL(/\/domains\/domain\?/);
    await page.getByRole('heading', { level: 1, name: 'Sending domain example.com' }).waitFor();

    const list = await sendingList();
    expect(list.total).toBe(1);
    expect(list.data[0]!.domain).toBe('example.com');
    sendingId = list.data[0]!.id;
    expect(page.url()).toContain(`id=${sendingId}`);

    const recs = await records();
    expect(recs.map((r) => r.type).sort()).toEqual(['CNAME', 'TXT', 'TXT', 'TXT']);
    const table = page.getByRole('table', { name: 'DNS records of example.com' });
    await table.waitFor();
    for (const r of recs) {
      const row = recordRow(r.name);
      expect(await row.count()).toBe(1);
      expect(await row.locator('td[data-label="Type"] strong').textContent()).toBe(r.type);
      expect(await row.locator('td[data-label="Value"] code').first().textContent()).toBe(r.value);
      expect(await statusOf(row)).toBe('Not checked yet');
    }
    await page.getByText('Not checked yet').first().waitFor();

    // Copy the DKIM record's value: the clipboard holds exactly what the API says to publish.
    const dkim = recs.find((r) => r.name.includes('._domainkey.'))!;
    const dkimRow = recordRow(dkim.name);
    await dkimRow
      .locator('td[data-label="Value"]')
      .getByRole('button', { name: /^Copy value of/ })
      .click();
    await dkimRow.locator('td[data-label="Value"] .copy-said').first().getByText('Copied').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(dkim.value);
    await dkimRow
      .locator('td[data-label="Name"]')
      .getByRole('button', { name: /^Copy name of/ })
      .click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe(dkim.name);

    await page.getByRole('table', { name: 'DKIM keys of example.com' }).getByText('Active: signs mail').waitFor();
    await panel.shot('domains-sending-added');
    expect(await panel.axe()).toEqual([]);
  });

  it('refuses the same sending domain twice next to the field', async () => {
    await goToDomains();
    await page.getByRole('link', { name: 'example.com', exact: true }).waitFor();
    await page.getByLabel('Sending domain', { exact: true }).fill('example.com');
    await page.getByRole('button', { name: 'Add sending domain' }).click();
    const err = page.locator('#add-sending-domain-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/already has the sending domain example\.com/);
    expect((await sendingList()).total).toBe(1);
    await panel.shot('domains-list');
    expect(await panel.axe()).toEqual([]);
  });

  it('checks the records with some missing and one wrong: each record says what DNS returned', async () => {
    await page.getByRole('link', { name: 'example.com', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Sending domain example.com' }).waitFor();
    // A foreign SPF record at the domain; nothing else published.
    dns.set('example.com', { TXT: ['v=spf1 -all'] });
    await page.getByRole('button', { name: 'Check again' }).click();
    await page.getByRole('status').filter({ hasText: 'some records are not right yet' }).waitFor();

    const recs = await records();
    const spf = recs.find((r) => r.name === 'example.com' && r.type === 'TXT')!;
    const dkim = recs.find((r) => r.name.includes('._domainkey.'))!;
    await expect.poll(() => statusOf(recordRow(spf.name))).toBe('Wrong value');
    const spfStatus = recordRow(spf.name).locator('td[data-label="Status"]');
    expect(await spfStatus.locator('.domains-found').first().textContent()).toMatch(/^DNS returned:\s*v=spf1 -all$/);
    expect(await spfStatus.locator('.domains-found').nth(1).textContent()).toBe('the SPF record does not contain a:postline.test');
    expect(await statusOf(recordRow(dkim.name))).toBe('Missing');
    expect(await statusOf(recordRow(`_dmarc.example.com`))).toBe('Missing');
    expect(await page.locator('.domains-state .badge').textContent()).toBe('Not verified');
    await panel.shot('domains-sending-missing');
    expect(await panel.axe()).toEqual([]);

    const d = (await api<{ data: SendingDomain }>('GET', `/sending-domains/${sendingId}`)).body.data;
    expect(d.verified).toBe(false);
    expect(d.lastCheck!.find((c) => c.name === spf.name)).toMatchObject({ status: 'mismatch', found: ['v=spf1 -all'] });
    expect(d.lastCheck!.find((c) => c.name === dkim.name)!.status).toBe('missing');
  });

  it('checks again once every record is published: all found, the domain verified', async () => {
    for (const r of await records()) {
      dns.set(r.name, r.type === 'CNAME' ? { CNAME: r.value } : { TXT: [r.chunks ?? r.value] });
    }
    await page.getByRole('button', { name: 'Check again' }).click();
    await page.getByRole('status').filter({ hasText: 'the domain is verified' }).waitFor();
    await expect.poll(() => page.locator('.domains-state .badge').textContent()).toBe('Verified');
    for (const r of await records()) expect(await statusOf(recordRow(r.name))).toBe('Found');
    await panel.shot('domains-sending-verified');
    expect(await panel.axe()).toEqual([]);
    expect((await api<{ data: SendingDomain }>('GET', `/sending-domains/${sendingId}`)).body.data.verified).toBe(true);
  });

  it('refuses a bad new DKIM selector next to its field, then rotates the key', async () => {
    const keysBefore = (await api<{ data: SendingDomain }>('GET', `/sending-domains/${sendingId}`)).body.data.keys;
    await page.getByLabel('New selector').fill('-bad-');
    await page.getByRole('button', { name: 'Rotate DKIM key' }).click();
    const err = page.locator('#rotate-selector-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/selector/i);
    expect((await api<{ data: SendingDomain }>('GET', `/sending-domains/${sendingId}`)).body.data.keys).toEqual(keysBefore);

    await page.getByLabel('New selector').fill('next2');
    await page.getByRole('button', { name: 'Rotate DKIM key' }).click();
    await page.getByRole('status').filter({ hasText: 'Rotation started' }).waitFor();
    const keys = page.getByRole('table', { name: 'DKIM keys of example.com' });
    await keys.getByText('Pending: publish its record, then check again').waitFor();
    // The new key's record is listed to publish, not checked yet.
    const row = recordRow('next2._domainkey.example.com');
    await row.waitFor();
    expect(await statusOf(row)).toBe('Not checked yet');
    expect(await page.getByRole('button', { name: 'Rotate DKIM key' }).isDisabled()).toBe(true);
    const d = (await api<{ data: SendingDomain }>('GET', `/sending-domains/${sendingId}`)).body.data;
    expect(d.keys.find((k) => k.selector === 'next2')!.state).toBe('pending');
    await panel.shot('domains-sending-rotating');
    expect(await panel.axe()).toEqual([]);
  });

  it('is readable at a phone width (375 px): list and detail', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      await recordRow('next2._domainkey.example.com').waitFor();
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      await panel.shot('domains-sending-phone');
      await goToDomains();
      await page.getByRole('link', { name: 'example.com', exact: true }).waitFor();
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      await panel.shot('domains-list-phone');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('adds a bounce domain, verifies its CNAME and makes it the default', async () => {
    await page.getByLabel('Bounce domain', { exact: true }).fill('Bounces.Example.com');
    await page.getByRole('button', { name: 'Add bounce domain' }).click();
    await page.getByRole('heading', { level: 1, name: 'Bounce domain bounces.example.com' }).waitFor();
    const d = (await customList('bounce')).data[0]!;
    expect(d.domain).toBe('bounces.example.com');
    const target = d.records[0]!.expected;
    const row = recordRow('bounces.example.com');
    expect(await row.locator('td[data-label="Value"] code').first().textContent()).toBe(target);

    // Only a verified domain can be the default: the API's refusal is shown.
    await page.getByRole('button', { name: 'Make default' }).click();
    await page.getByRole('alert').filter({ hasText: /verif/ }).waitFor();
    expect((await customList('bounce')).data[0]!.isDefault).toBe(false);

    await page.getByRole('button', { name: 'Check again' }).click();
    await expect.poll(() => statusOf(recordRow('bounces.example.com'))).toBe('Missing');
    dns.set('bounces.example.com', { CNAME: 'elsewhere.example.net' });
    await page.getByRole('button', { name: 'Check again' }).click();
    await expect.poll(() => statusOf(recordRow('bounces.example.com'))).toBe('Wrong value');
    expect(await row.locator('td[data-label="Status"]').textContent()).toContain('elsewhere.example.net');
    await panel.shot('domains-bounce-wrong');
    expect(await panel.axe()).toEqual([]);

    dns.set('bounces.example.com', { CNAME: target });
    await page.getByRole('button', { name: 'Check again' }).click();
    await expect.poll(() => statusOf(recordRow('bounces.example.com'))).toBe('Found');
    await expect.poll(() => page.locator('.domains-state .badge').textContent()).toBe('Verified');
    // The earlier refusal was about the unverified domain: the new check cleared it.
    expect(
      await page
        .getByRole('alert')
        .filter({ hasText: /not verified/ })
        .count(),
    ).toBe(0);
    await page.getByRole('button', { name: 'Make default' }).click();
    await page.getByText("This is the server's default bounce domain").waitFor();
    const after = (await customList('bounce')).data[0]!;
    expect(after).toMatchObject({ verified: true, isDefault: true });
    await panel.shot('domains-bounce-default');
    expect(await panel.axe()).toEqual([]);
  });

  it('adds a tracking domain and deletes it after a confirmation step', async () => {
    await goToDomains();
    await page.getByLabel('Tracking domain', { exact: true }).fill('click.example.com');
    await page.getByRole('button', { name: 'Add tracking domain' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tracking domain click.example.com' }).waitFor();
    await page.getByText('Links use https://.', { exact: false }).waitFor();
    expect((await customList('tracking')).total).toBe(1);

    // The first click only asks; Cancel leaves the domain alone.
    await page.getByRole('button', { name: 'Delete tracking domain' }).click();
    const confirm = page.getByRole('group', { name: /Delete click\.example\.com\?/ });
    await confirm.waitFor();
    await panel.shot('domains-tracking-confirm-delete');
    expect(await panel.axe()).toEqual([]);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete tracking domain' }).waitFor();
    expect((await customList('tracking')).total).toBe(1);

    await page.getByRole('button', { name: 'Delete tracking domain' }).click();
    await page.getByRole('button', { name: 'Yes, delete click.example.com' }).click();
    await page.waitForURL(/\/domains\?/);
    await page.getByRole('status').filter({ hasText: 'click.example.com was deleted.' }).waitFor();
    await page.getByText('No tracking domains yet.').waitFor();
    expect((await customList('tracking')).total).toBe(0);
    await panel.shot('domains-tracking-deleted');
    expect(await panel.axe()).toEqual([]);
  });

  it('shows a viewer the domains and records but no change controls, and the API refuses the viewer', async () => {
    const context: BrowserContext = await panel.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    const problems: string[] = [];
    viewer.on('console', (m) => {
      if (m.type() === 'error' && !/status of (401|403)/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    viewer.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    try {
      await viewer.goto(`${t.url}/login?next=%2Fdomains`);
      await panel.signIn(VIEWER, PANEL_PASSWORD, viewer);
      await viewer.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
      await viewer.getByRole('link', { name: 'example.com', exact: true }).waitFor();
      await viewer.getByRole('link', { name: 'bounces.example.com', exact: true }).waitFor();
      expect(await viewer.getByRole('button', { name: /^Add / }).count()).toBe(0);
      expect(await viewer.getByLabel('Sending domain', { exact: true }).count()).toBe(0);
      await viewer.getByText('your role (viewer) cannot change them').waitFor();
      await panel.shot('domains-viewer-list', viewer);
      expect(await panel.axe(viewer)).toEqual([]);

      await viewer.getByRole('link', { name: 'example.com', exact: true }).click();
      await viewer.getByRole('table', { name: 'DNS records of example.com' }).waitFor();
      expect(await viewer.getByRole('button', { name: /^Copy value of/ }).count()).toBeGreaterThan(0);
      for (const name of ['Check again', 'Rotate DKIM key', 'Delete sending domain']) expect(await viewer.getByRole('button', { name }).count()).toBe(0);
      expect(await viewer.getByLabel('New selector').count()).toBe(0);
      await panel.shot('domains-viewer-detail', viewer);
      expect(await panel.axe(viewer)).toEqual([]);

      // With the session's own CSRF token, so it is the role that refuses, not the CSRF check.
      const session = (await (await viewer.request.get(`${t.url}/api/v2/session`)).json()) as { data: { csrfToken: string } };
      const headers = { 'x-csrf-token': session.data.csrfToken, origin: t.url };
      const before = await sendingList();
      const verify = await viewer.request.post(`${t.url}/api/v2/servers/${serverId}/sending-domains/${sendingId}/verify`, { headers });
      expect(verify.status()).toBe(403);
      expect(((await verify.json()) as { error: { code: string } }).error.code).toBe('insufficient_role');
      const add = await viewer.request.post(`${t.url}/api/v2/servers/${serverId}/sending-domains`, { headers, data: { domain: 'viewer.example.com' } });
      expect(add.status()).toBe(403);
      expect(((await add.json()) as { error: { code: string } }).error.code).toBe('insufficient_role');
      const del = await viewer.request.delete(`${t.url}/api/v2/servers/${serverId}/bounce-domains/${(await customList('bounce')).data[0]!.domainId}`, {
        headers,
      });
      expect(del.status()).toBe(403);
      const after = await sendingList();
      expect(after.total).toBe(before.total);
      expect(after.data.map((d) => d.domain)).toEqual(['example.com']);
      expect((await customList('bounce')).total).toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('ran without a CSP refusal or a script error', () => {
    expect(panel.problems).toEqual([]);
  });
});
