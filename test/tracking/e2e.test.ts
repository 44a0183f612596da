import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import { generateApiKey } from '../../src/core/api-key.js';

/** Injection -> delivery with tracking on -> the sink's HTML -> real requests to the /t/ routes -> stored events. */
describe(`engagement tracking end to end (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startAppDeliveringToSink(sink, { pollMs: 50 });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  async function deliveredHtml(address: string) {
    const got = sink.messages.find((m) => m.rcptTo.includes(address));
    if (!got) throw new Error(`nothing for ${address} at the sink`);
    const parsed = await simpleParser(got.data);
    return { html: String(parsed.html), headers: parsed.headers, raw: got.data.toString() };
  }
  const hrefs = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));

  it('a server with tracking off sends links and body untouched', async () => {
    // The bootstrap server: tracking is off unless switched on.
    const res = await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          To: [{ EmailAddress: 'cy@sink.test' }],
          From: { EmailAddress: 'news@example.com' },
          Subject: 'Plain',
          HtmlBody: '<p><a href="https://shop.example/plain">x</a></p>',
        },
      ],
    });
    expect(res.body.ErrorCode).toBe('Success');
    await waitForRecipients(t.store, await newestMessageId(t.store), (rs) => rs.every((r) => r.status === 'delivered'));
    const c = await deliveredHtml('cy@sink.test');
    expect(hrefs(c.html)).toEqual(['https://shop.example/plain']);
    expect(c.html).not.toContain('/t/o/');
    expect(c.raw).not.toMatch(/^List-Unsubscribe:/im);
  });
  it('rewrites links per recipient, redirects to the merged link, records clicks, opens and one-click unsubscribes', async () => {
    // A server of its own: delivery caches server settings for a few seconds.
    const created = await t.store.tenancy.createServer({ accountId: (await t.store.tenancy.listAccounts())[0]!.id, name: 'tracked' }, Date.now());
    const key = generateApiKey();
    await t.store.tenancy.createApiKey({ serverId: created.id, scope: 'injection', name: 't', publicId: key.publicId, secretHash: key.secretHash }, Date.now());
    const server = await t.store.tenancy.updateServer(created.id, { tracking: { opens: true, clicks: true, unsubscribes: true, domain: t.url } });
    expect(server!.tracking).toEqual({ opens: true, clicks: true, unsubscribes: true, domain: t.url });
    // Marketing contacts of both recipients on this server, and Ann's on another server.
    const other = await t.store.tenancy.createServer({ accountId: created.accountId, name: 'other' }, Date.now());
    for (const [serverId, email] of [
      [created.id, 'ann@sink.test'],
      [created.id, 'bob@sink.test'],
      [other.id, 'ann@sink.test'],
    ] as const) {
      expect(await t.store.marketing.createContact(serverId, { email }, Date.now())).toMatchObject({ email });
    }
    const unsubscribedAt = async (serverId: number, email: string) =>
      (await t.store.marketing.searchContacts(serverId, { email }, { limit: 1, offset: 0 })).rows[0]!.unsubscribedAt;
    const res = await inject(t, {
      ServerId: created.id,
      ApiKey: key.key,
      Messages: [
        {
          To: [{ EmailAddress: '%%DeliveryAddress%%' }],
          From: { EmailAddress: 'news@example.com' },
          Subject: 'Hi %%Name%%',
          HtmlBody:
            '<html><body><p>Hi %%Name%%</p><a href="https://shop.example/item?u=%%Id%%&amp;x=1">item</a> <a href="mailto:help@example.com">help</a></body></html>',
          MergeData: {
            PerMessage: [
              [
                { Field: 'DeliveryAddress', Value: 'ann@sink.test' },
                { Field: 'Name', Value: 'Ann' },
                { Field: 'Id', Value: 'a1' },
              ],
              [
                { Field: 'DeliveryAddress', Value: 'bob@sink.test' },
                { Field: 'Name', Value: 'Bob' },
                { Field: 'Id', Value: 'b2' },
              ],
            ],
          },
        },
      ],
    });
    expect(res.body.ErrorCode).toBe('Success');
    const messageId = await newestMessageId(t.store);
    const recipients = await waitForRecipients(t.store, messageId, (rs) => rs.every((r) => r.status === 'delivered'));
    const ann = recipients.find((r) => r.address === 'ann@sink.test')!;

    const a = await deliveredHtml('ann@sink.test');
    const b = await deliveredHtml('bob@sink.test');
    const [annClick, annMailto] = hrefs(a.html);
    const [bobClick] = hrefs(b.html);
    expect(annClick).toMatch(new RegExp(`^${t.url}/t/c/`));
    expect(annMailto).toBe('mailto:help@example.com');
    expect(bobClick).not.toBe(annClick); // each recipient gets their own token
    expect(a.html).toContain('Hi Ann');
    const pixel = /<img src="([^"]+)"/.exec(a.html)![1]!;
    expect(pixel).toMatch(new RegExp(`^${t.url}/t/o/`));
    // List-Unsubscribe: our URL; one-click is only offered over https (RFC 8058), and this origin is http.
    const listUnsub = /^List-Unsubscribe:\s*(<[^>]+>)/m.exec(a.raw)![1]!; // the header may be folded
    expect(listUnsub).toMatch(new RegExp(`^<${t.url}/t/u/`));
    expect(a.raw).not.toMatch(/^List-Unsubscribe-Post:/im);

    const click = await fetch(annClick!, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Firefox/130.0' } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://shop.example/item?u=a1&x=1');
    const bobRedirect = await fetch(bobClick!, { redirect: 'manual' });
    expect(bobRedirect.headers.get('location')).toBe('https://shop.example/item?u=b2&x=1');

    const tampered = annClick!.slice(0, -2) + (annClick!.endsWith('A') ? 'BB' : 'AA');
    const bad = await fetch(tampered, { redirect: 'manual' });
    expect(bad.status).toBe(404);
    expect(bad.headers.get('location')).toBeNull();

    const open = await fetch(pixel, { headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Firefox/130.0' } });
    expect(open.headers.get('content-type')).toBe('image/gif');
    const unsubUrl = listUnsub.slice(1, listUnsub.indexOf('>'));
    const unsub = await fetch(unsubUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(unsub.status).toBe(200);

    const tracking = (await t.store.events.list({ messageId })).filter((e) => e.type === 'Tracking' && e.recipientId === ann.id);
    const byType = (n: number) => tracking.filter((e) => (e.data as { TrackingType: number }).TrackingType === n);
    expect(byType(0).map((e) => (e.data as { Url: string }).Url)).toEqual(['https://shop.example/item?u=a1&x=1']);
    expect(byType(1)).toHaveLength(1);
    expect(byType(2)).toHaveLength(1);
    // The unsubscribe put Ann on the server's suppression list; Bob clicked too; the tampered request recorded nothing.
    expect(await t.store.suppressions.get(created.id, 'ann@sink.test')).toMatchObject({ reason: 'Unsubscribe' });
    expect(await t.store.suppressions.get(created.id, 'bob@sink.test')).toBeUndefined();
    // ... and marked Ann's contact on this server unsubscribed, no one else's.
    expect(await unsubscribedAt(created.id, 'ann@sink.test')).toEqual(expect.any(Number));
    expect(await unsubscribedAt(created.id, 'bob@sink.test')).toBeNull();
    expect(await unsubscribedAt(other.id, 'ann@sink.test')).toBeNull();
    const all = (await t.store.events.list({ messageId })).filter((e) => e.type === 'Tracking');
    expect(all).toHaveLength(4);
  });
});
