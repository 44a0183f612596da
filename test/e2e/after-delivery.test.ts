import { createTransport } from 'nodemailer';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import { reportAboutRecipient, tracedIdOf } from '../helpers/verp.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { startReceiver, until, type WebhookReceiver } from '../helpers/webhooks.js';
import { verify } from '../../src/net/standard-signature.js';
import type { StoredRecipient } from '../../src/store/store.js';

/**
 * What happens after delivery, end to end, one scenario per event type: inject -> deliver to the
 * SMTP sink -> a bounce or complaint to the MX port, or an open, click or unsubscribe on the
 * tracking routes -> the webhook receiver gets the SocketLabs payload with a valid Standard
 * Webhooks signature; the suppression list changes as it should; a second send to a suppressed
 * address is not delivered.
 */
const BOUNCE_DOMAIN = 'bounces.postline.test';

describe(`after delivery: bounces, complaints, tracking, suppression and webhooks (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let t: TestApp;
  let signingSecret: string;
  let secretKey: string;
  const recipients = new Map<string, StoredRecipient>();

  const send = (to: string[]) =>
    inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          To: to.map((EmailAddress) => ({ EmailAddress })),
          From: { EmailAddress: 'news@example.com' },
          Subject: 'News',
          HtmlBody: '<html><body><p>Hello</p><a href="https://shop.example/sale">sale</a></body></html>',
          TextBody: 'Hello',
        },
      ],
    });
  async function mx(raw: string, to: string) {
    const transport = createTransport({ host: '127.0.0.1', port: t.app.mxPort!, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      return (await transport.sendMail({ envelope: { from: '', to: [to] }, raw })).response;
    } finally {
      transport.close();
    }
  }
  /** The signed payloads the receiver got about one address, in arrival order, each signature checked. */
  function payloadsFor(address: string): Record<string, unknown>[] {
    const got = receiver.received.filter((r) => r.json?.Address === address);
    for (const r of got) expect(verify(r.headers, r.body, [signingSecret])).toEqual({ ok: true });
    for (const r of got) expect(r.headers['webhook-id']).toBe(r.json!.EventId);
    return got.map((r) => r.json!);
  }
  const waitFor = (address: string, type: string, extra: (p: Record<string, unknown>) => boolean = () => true) =>
    until(
      () => payloadsFor(address).find((p) => p.Type === type && extra(p)),
      () => payloadsFor(address),
    );
  async function html(address: string): Promise<string> {
    const m = sink.messages.find((x) => x.rcptTo.includes(address))!;
    return String((await simpleParser(m.data)).html);
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    receiver = await startReceiver();
    t = await startTestApp({
      roles: ['api', 'smtp', 'delivery', 'webhooks'],
      config: { outboundPort: sink.port, submissionPort: 0, mxPort: 0, smtpHost: '127.0.0.1', bounceDomain: BOUNCE_DOMAIN, webhookAllowCidrs: ['127.0.0.1'] },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
      webhooks: { pollMs: 50 },
    });
    await t.store.tenancy.updateServer(t.credentials.serverId, { tracking: { opens: true, clicks: true, unsubscribes: true, domain: t.url } });
    const key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    const created = await v2<{ data: { signingSecret: string; secretKey: string } }>(t, 'POST', `/servers/${t.credentials.serverId}/webhooks`, {
      key,
      body: { url: receiver.url },
    });
    expect(created.status).toBe(200);
    ({ signingSecret, secretKey } = created.body.data);

    const addresses = ['opener@sink.test', 'unsub@sink.test', 'bounce@sink.test', 'complainer@sink.test'];
    expect((await send(addresses)).body.ErrorCode).toBe('Success');
    const rs = await waitForRecipients(t.store, await newestMessageId(t.store), (xs) => xs.every((r) => r.status === 'delivered'));
    for (const r of rs) recipients.set(r.address, r);
    for (const a of addresses) await waitFor(a, 'Delivered');
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await receiver?.close();
  });

  it('open and click: Tracking events 1 and 0 posted, signed, with the clicked URL; nothing suppressed', async () => {
    const page = await html('opener@sink.test');
    const click = /href="([^"]+\/t\/c\/[^"]+)"/.exec(page)![1]!;
    const pixel = /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(page)![1]!;
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/130.0';
    await fetch(pixel, { headers: { 'user-agent': ua } });
    const redirect = await fetch(click, { redirect: 'manual', headers: { 'user-agent': ua } });
    expect(redirect.headers.get('location')).toBe('https://shop.example/sale');
    const open = await waitFor('opener@sink.test', 'Tracking', (p) => p.TrackingType === 1);
    const clicked = await waitFor('opener@sink.test', 'Tracking', (p) => p.TrackingType === 0);
    expect(open).toMatchObject({ ServerId: t.credentials.serverId, SecretKey: secretKey, UserAgent: ua, Machine: false });
    expect(clicked).toMatchObject({ Url: 'https://shop.example/sale', UserAgent: ua });
    expect(await t.store.suppressions.get(t.credentials.serverId, 'opener@sink.test')).toBeUndefined();
  });

  it('unsubscribe: Tracking event 2 posted; the address is suppressed (Unsubscribe)', async () => {
    const m = sink.messages.find((x) => x.rcptTo.includes('unsub@sink.test'))!;
    const url = /^List-Unsubscribe:\s*<([^>]+)>/m.exec(m.data.toString())![1]!;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    await waitFor('unsub@sink.test', 'Tracking', (p) => p.TrackingType === 2);
    expect(await t.store.suppressions.get(t.credentials.serverId, 'unsub@sink.test')).toMatchObject({ reason: 'Unsubscribe' });
  });

  it('asynchronous bounce: Failed (FailureType 1, 2001) posted after Delivered; the address is suppressed (Bounce)', async () => {
    const r = recipients.get('bounce@sink.test')!;
    expect(await mx(await reportAboutRecipient(t.store, 'postfix-5.1.1-user-unknown.eml', r), `b+${await tracedIdOf(t.store, r.id)}@${BOUNCE_DOMAIN}`)).toMatch(
      /^250 /,
    );
    const failed = await waitFor('bounce@sink.test', 'Failed');
    expect(failed).toMatchObject({ FailureType: 1, FailureCode: 2001, BounceStatus: '5.1.1', SecretKey: secretKey });
    expect(payloadsFor('bounce@sink.test').map((p) => p.Type)).toEqual(['Queued', 'Delivered', 'Failed']);
    expect(await t.store.suppressions.get(t.credentials.serverId, 'bounce@sink.test')).toMatchObject({ reason: 'Bounce' });
  });

  it('complaint: Complaint (FblType abuse) posted; the address is suppressed (Complaint)', async () => {
    const r = recipients.get('complainer@sink.test')!;
    expect(await mx(await reportAboutRecipient(t.store, 'arf-yahoo.eml', r), `fbl@${BOUNCE_DOMAIN}`)).toMatch(/^250 /);
    const complaint = await waitFor('complainer@sink.test', 'Complaint');
    expect(complaint).toMatchObject({ FblType: 'abuse', To: 'complainer@sink.test', From: 'news@example.com' });
    expect(complaint).not.toHaveProperty('Data');
    expect(await t.store.suppressions.get(t.credentials.serverId, 'complainer@sink.test')).toMatchObject({ reason: 'Complaint' });
  });

  it('a second send to the suppressed addresses is not delivered: Failed 2/9999 for each, the others delivered', async () => {
    const before = sink.messages.length;
    expect((await send(['unsub@sink.test', 'bounce@sink.test', 'complainer@sink.test', 'opener@sink.test'])).body.ErrorCode).toBe('Success');
    const rs = await waitForRecipients(t.store, await newestMessageId(t.store), (xs) => xs.every((r) => r.status !== 'queued' && r.status !== 'delivering'));
    expect(Object.fromEntries(rs.map((r) => [r.address, r.status]))).toEqual({
      'unsub@sink.test': 'suppressed',
      'bounce@sink.test': 'suppressed',
      'complainer@sink.test': 'suppressed',
      'opener@sink.test': 'delivered',
    });
    for (const a of ['unsub@sink.test', 'bounce@sink.test', 'complainer@sink.test']) {
      const p = await waitFor(a, 'Failed', (x) => x.FailureType === 2);
      expect(p).toMatchObject({ FailureCode: 9999 });
    }
    expect(sink.messages.slice(before).map((m) => m.rcptTo[0])).toEqual(['opener@sink.test']);
  });
});
