import { createTransport } from 'nodemailer';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import { reportAboutRecipient, tracedIdOf } from '../helpers/verp.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { until } from '../helpers/webhooks.js';
import type { StoredRecipient } from '../../src/store/store.js';

/**
 * Custom domains change mail, end to end: a server with a verified default bounce domain sends with
 * Return-Path b+<id>-<tag>@<its domain>, and a bounce sent there to the MX port is recorded against the
 * recipient; a server with a verified default tracking domain sends links on that domain.
 */
const BOUNCE_HOST = 'bounces.postline.test';
const TRACKING_HOST = 'links.postline.test';
const CUSTOM_BOUNCE = 'bounces.customer.example';
const CUSTOM_TRACKING = 'click.customer.example';

describe(`custom bounce and tracking domains in delivery, MX and tracking (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let dns: TestDnsServer;
  let t: TestApp;
  let serverId: number;
  let key: string;

  const send = (to: string, html = '<p>Hello</p>') =>
    inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: [{ EmailAddress: to }], From: { EmailAddress: 'news@example.com' }, Subject: 'News', HtmlBody: html, TextBody: 'Hello' }],
    });
  async function delivered(to: string): Promise<StoredRecipient> {
    expect((await send(to)).body.ErrorCode).toBe('Success');
    const [r] = await waitForRecipients(t.store, await newestMessageId(t.store), (xs) => xs.every((x) => x.status === 'delivered'));
    return r!;
  }
  const sunk = (address: string) => sink.messages.find((m) => m.rcptTo.includes(address));
  async function mx(raw: string, to: string): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: t.app.mxPort!, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      return (await transport.sendMail({ envelope: { from: '', to: [to] }, raw })).response;
    } catch (err) {
      return String((err as { response?: string }).response ?? err);
    } finally {
      transport.close();
    }
  }
  async function addDefault(path: string, domain: string, target: string): Promise<void> {
    dns.set(domain, { CNAME: target });
    const r = await v2<{ data: { isDefault: boolean; verified: boolean } }>(t, 'POST', `/servers/${serverId}/${path}`, {
      key,
      body: { domain, isDefault: true },
    });
    expect([r.status, r.body.data]).toMatchObject([200, { isDefault: true, verified: true }]);
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    dns = await startDnsServer();
    t = await startTestApp({
      roles: ['api', 'smtp', 'delivery'],
      config: {
        outboundPort: sink.port,
        submissionPort: 0,
        mxPort: 0,
        smtpHost: '127.0.0.1',
        bounceDomain: BOUNCE_HOST,
        publicUrl: `https://${TRACKING_HOST}`,
        dnsServers: [dns.address],
      },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
    });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await dns?.close();
  });

  it("without a custom bounce domain, the Return-Path is in the instance's bounce domain", async () => {
    const r = await delivered('before@sink.test');
    expect(sunk('before@sink.test')!.mailFrom).toBe(`b+${await tracedIdOf(t.store, r.id)}@${BOUNCE_HOST}`);
  });

  it('with a verified default bounce domain: Return-Path b+<id>-<tag>@ it, and a DSN sent there is recorded as Failed', async () => {
    await addDefault('bounce-domains', CUSTOM_BOUNCE, BOUNCE_HOST);
    const r = await delivered('bounce@sink.test');
    const traced = await tracedIdOf(t.store, r.id);
    expect(sunk('bounce@sink.test')!.mailFrom).toBe(`b+${traced}@${CUSTOM_BOUNCE}`);

    expect(await mx(await reportAboutRecipient(t.store, 'postfix-5.1.1-user-unknown.eml', r), `b+${traced}@${CUSTOM_BOUNCE}`)).toMatch(/^250 /);
    const failed = await until(
      async () => (await t.store.events.list({ messageId: r.messageId })).find((e) => e.type === 'Failed' && e.recipientId === r.id),
      async () => t.store.events.list({ messageId: r.messageId }),
    );
    expect(failed.data).toMatchObject({ FailureType: 1, FailureCode: 2001 });
    expect((await t.store.queue.getRecipient(r.id))!.status).toBe('failed');
    // The bare b@ of the custom domain is a bounce mailbox too.
    expect(await mx(await reportAboutRecipient(t.store, 'postfix-5.1.1-user-unknown.eml', r), `b@${CUSTOM_BOUNCE}`)).toMatch(/^250 /);
  });

  it('the MX listener refuses b+…@ an unverified or unknown domain with 550', async () => {
    const unverified = 'bounces.unverified.example';
    const added = await v2<{ data: { verified: boolean } }>(t, 'POST', `/servers/${serverId}/bounce-domains`, { key, body: { domain: unverified } });
    expect(added.body.data.verified).toBe(false);
    const id = '01m7abcdefghjkmnpqrstvwxyz';
    for (const domain of [unverified, 'bounces.unknown.example']) {
      const traced = await tracedIdOf(t.store, id);
      expect([
        domain,
        await mx(await reportAboutRecipient(t.store, 'postfix-5.1.1-user-unknown.eml', { id, address: 'x@sink.test' }), `b+${traced}@${domain}`),
      ]).toEqual([domain, expect.stringMatching(/^550 /)]);
    }
  });

  it("after the default bounce domain is deleted, mail goes out with the instance's bounce domain again", async () => {
    const list = await v2<{ data: { domainId: number; domain: string }[] }>(t, 'GET', `/servers/${serverId}/bounce-domains`, { key });
    const custom = list.body.data.find((d) => d.domain === CUSTOM_BOUNCE)!;
    expect((await v2(t, 'DELETE', `/servers/${serverId}/bounce-domains/${custom.domainId}`, { key })).status).toBe(200);
    const r = await delivered('after@sink.test');
    const traced = await tracedIdOf(t.store, r.id);
    expect(sunk('after@sink.test')!.mailFrom).toBe(`b+${traced}@${BOUNCE_HOST}`);
    expect(await mx(await reportAboutRecipient(t.store, 'postfix-5.1.1-user-unknown.eml', r), `b+${traced}@${CUSTOM_BOUNCE}`)).toMatch(/^550 /);
  });

  it('with a verified default tracking domain, links and List-Unsubscribe of delivered mail use it', async () => {
    await t.store.tenancy.updateServer(serverId, { tracking: { opens: true, clicks: true, unsubscribes: true } });
    await addDefault('tracking-domains', CUSTOM_TRACKING, TRACKING_HOST);
    expect((await t.store.tenancy.getServer(serverId))!.tracking.domain).toBe(`https://${CUSTOM_TRACKING}`);
    expect((await send('tracked@sink.test', '<p>Hello</p><a href="https://shop.example/sale">sale</a>')).body.ErrorCode).toBe('Success');
    await waitForRecipients(t.store, await newestMessageId(t.store), (xs) => xs.every((x) => x.status === 'delivered'));
    const m = sunk('tracked@sink.test')!;
    const html = String((await simpleParser(m.data)).html);
    const click = /href="([^"]+)"/.exec(html)![1]!;
    expect(new URL(click).origin).toBe(`https://${CUSTOM_TRACKING}`);
    expect(new URL(click).pathname).toMatch(/^\/t\/c\//);
    expect(new URL(/<img src="([^"]+)"/.exec(html)![1]!).origin).toBe(`https://${CUSTOM_TRACKING}`);
    const unsubscribe = /^List-Unsubscribe:\s*<([^>]+)>/m.exec(m.data.toString())![1]!;
    expect(new URL(unsubscribe).origin).toBe(`https://${CUSTOM_TRACKING}`);
    expect(m.data.toString()).not.toContain(TRACKING_HOST);
  });
});
