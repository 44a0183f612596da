import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import { v2 } from '../helpers/api-v2.js';

/**
 * Issue 16: a sub-account created through POST /subaccount sends at once with its injection
 * credentials, as a SocketLabs client does it: create, ask for the credentials, POST the
 * official-shaped message (key in the body) to the gateway, and the message reaches the sink.
 */
describe(`a new sub-account sends with its injection credentials (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startAppDeliveringToSink(sink, { pollMs: 50 });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('create -> credentials -> injection POST to the gateway -> delivered', async () => {
    const created = await v2<{ data: { subaccountId: number } }>(t, 'POST', '/subaccount', { key: t.credentials.accountKey, body: { name: 'Customer B', useRuleEngine: true } });
    expect(created.status).toBe(200);
    const id = created.body.data.subaccountId;
    const creds = await v2<{ data: { serverId: number; apiKey: string; gateway: string } }>(t, 'POST', `/subaccount/${id}/credentials/injection-api`, { key: t.credentials.accountKey });
    expect(creds.body.data.serverId).toBe(id);
    // The gateway names this instance (POSTLINE_HOSTNAME, the bound port); the test reaches it on loopback.
    const gateway = new URL(creds.body.data.gateway);
    expect([gateway.hostname, gateway.port, gateway.pathname]).toEqual(['postline.test', String(t.app.httpPort), '/api/v1/email']);

    const res = await fetch(`${t.url}${gateway.pathname}`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        serverId: id, APIKey: creds.body.data.apiKey,
        Messages: [{ To: [{ emailAddress: 'first@sink.test' }], From: { emailAddress: 'hello@customer-b.example' }, Subject: 'From a new sub-account', HtmlBody: '<p>It works</p>', MailingId: 'welcome' }],
      }),
    });
    const answer = await res.json() as { ErrorCode: string; MessageResults: unknown[] };
    expect(answer).toMatchObject({ ErrorCode: 'Success', MessageResults: [] });

    const messageId = await newestMessageId(t.store);
    const [recipient] = await waitForRecipients(t.store, messageId, (rs) => rs.every((r) => r.status === 'delivered'));
    expect(recipient).toMatchObject({ serverId: id, address: 'first@sink.test' });
    const got = sink.messages.find((m) => m.rcptTo.includes('first@sink.test'));
    expect(got?.data.toString()).toMatch(/^Subject: From a new sub-account\r?$/m);
    expect(got?.data.toString()).toContain('It works');
  });
});
