import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { v2 } from '../helpers/api-v2.js';

/**
 * Issue 16: a sub-account created through POST /subaccount sends at once with its injection
 * credentials, as a SocketLabs client does it: create, ask for the credentials, POST the
 * official-shaped message (key in the body) to the gateway, and the message reaches the sink.
 */
describe(`a new sub-account sends with its injection credentials (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let dns: TestDnsServer;
  let t: TestApp;
  let id: number;
  let apiKey: string;
  let gatewayPath: string;

  const send = async (from: string, to: string, subject: string) => {
    const res = await fetch(`${t.url}${gatewayPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        serverId: id,
        APIKey: apiKey,
        Messages: [{ To: [{ emailAddress: to }], From: { emailAddress: from }, Subject: subject, HtmlBody: '<p>It works</p>', MailingId: 'welcome' }],
      }),
    });
    expect(await res.json()).toMatchObject({ ErrorCode: 'Success', MessageResults: [] });
    const [recipient] = await waitForRecipients(t.store, await newestMessageId(t.store), (rs) => rs.every((r) => r.status === 'delivered'));
    expect(recipient).toMatchObject({ serverId: id, address: to });
    const got = sink.messages.find((m) => m.rcptTo.includes(to));
    expect(got?.data.toString()).toMatch(new RegExp(`^Subject: ${subject}\\r?$`, 'm'));
    return got!.data;
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    dns = await startDnsServer();
    t = await startAppDeliveringToSink(sink, { pollMs: 50 }, { config: { dnsServers: [dns.address] } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await dns?.close();
  });

  it('create -> credentials -> injection POST to the gateway -> delivered', async () => {
    const created = await v2<{ data: { subaccountId: number } }>(t, 'POST', '/subaccount', {
      key: t.credentials.accountKey,
      body: { name: 'Customer B', useRuleEngine: true },
    });
    expect(created.status).toBe(200);
    id = created.body.data.subaccountId;
    const creds = await v2<{ data: { serverId: number; apiKey: string; gateway: string } }>(t, 'POST', `/subaccount/${id}/credentials/injection-api`, {
      key: t.credentials.accountKey,
    });
    expect(creds.body.data.serverId).toBe(id);
    apiKey = creds.body.data.apiKey;
    // The gateway names this instance (POSTLINE_HOSTNAME, the bound port); the test reaches it on loopback.
    const gateway = new URL(creds.body.data.gateway);
    expect([gateway.hostname, gateway.port, gateway.pathname]).toEqual(['postline.test', String(t.app.httpPort), '/api/v1/email']);
    gatewayPath = gateway.pathname;

    const data = await send('hello@customer-b.example', 'first@sink.test', 'From a new sub-account');
    expect(data.toString()).toContain('It works');
  });

  it("signs its mail with the customer's own DKIM key once registered, and the signature verifies against the published record", async () => {
    const gen = (
      await v2<{ data: { dnsHostName: string; dnsRecord: string; privateKey: string; selector: string } }>(t, 'GET', `/subaccount/${id}/dkim/generate`, {
        key: t.credentials.accountKey,
        query: { domain: 'customer-b.example', selector: 'cb1' },
      })
    ).body.data;
    dns.set(gen.dnsHostName, { TXT: [gen.dnsRecord] });
    const registered = await v2(t, 'POST', `/subaccount/${id}/dkim`, {
      key: t.credentials.accountKey,
      body: { domain: 'customer-b.example', selector: gen.selector, privateKey: gen.privateKey },
    });
    expect(registered.status).toBe(200);

    const data = await send('hello@customer-b.example', 'second@sink.test', 'Signed by the customer key');
    const resolver = async (name: string, rrtype: string): Promise<string[][]> => {
      if (rrtype !== 'TXT' || name.toLowerCase() !== gen.dnsHostName) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return [[gen.dnsRecord]];
    };
    const res = await dkimVerify(data, { resolver });
    expect(res.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([['customer-b.example', 'cb1', 'pass']]);
  });
});
