import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { startReceiver, until } from '../helpers/webhooks.js';
import { verify } from '../../src/net/standard-signature.js';

interface Created {
  data: { id: number; secretKey: string; signingSecret: string; eventTypes: string[]; format: string; enabled: boolean };
}

describe(`event webhooks end to end: API, SMTP sink, HTTP receiver (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let key: string;
  const send = (to: string[], extra: Record<string, unknown> = {}) =>
    inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        { To: to.map((EmailAddress) => ({ EmailAddress })), From: { EmailAddress: 'sender@example.com' }, Subject: 'Hello', TextBody: 'Body', ...extra },
      ],
    });
  const create = (body: Record<string, unknown>) => v2<Created>(t, 'POST', `/servers/${t.credentials.serverId}/webhooks`, { key, body });
  const remove = (id: number) => v2(t, 'DELETE', `/servers/${t.credentials.serverId}/webhooks/${id}`, { key });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery', 'webhooks'],
      // The receiver is on loopback: allowed explicitly, as an operator would for an internal receiver.
      config: { outboundPort: sink.port, webhookAllowCidrs: ['127.0.0.1'] },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
      webhooks: { pollMs: 50 },
    });
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('validates on create, then posts Queued and Delivered per recipient, in order, signed, in SocketLabs shape', async () => {
    const receiver = await startReceiver();
    try {
      const r = await create({ url: receiver.url });
      expect(r.status).toBe(200);
      const { id, secretKey, signingSecret } = r.body.data;
      expect(r.body.data).toMatchObject({ eventTypes: [], format: 'json', enabled: true });
      expect(signingSecret).toMatch(/^whsec_/);
      // The handshake: a signed Validation payload, answered 2xx before anything was stored.
      const validation = receiver.received[0]!;
      expect(Object.keys(validation.json!)).toEqual([
        'Type',
        'DateTime',
        'ServerId',
        'SubaccountId',
        'SecretKey',
        'Address',
        'MailingId',
        'MessageId',
        'Data',
        'EventId',
      ]);
      expect(validation.json).toMatchObject({ Type: 'Validation', ServerId: t.credentials.serverId, SecretKey: secretKey });
      expect(verify(validation.headers, validation.body, [signingSecret])).toEqual({ ok: true });

      expect(
        (
          await send(['alice@sink.test', 'bob@sink.test'], {
            MailingId: 'mail-1',
            Metadata: [{ Key: 'Region', Value: 'EU' }],
            Tags: ['welcome'],
          })
        ).body.ErrorCode,
      ).toBe('Success');
      const events = await until(
        () => (receiver.events().length >= 4 ? receiver.events() : undefined),
        () => receiver.events(),
      );
      expect(events).toHaveLength(4);
      const messageId = (await t.store.events.list({ limit: 100 })).find((e) => e.type === 'Queued')!.messageId;
      for (const address of ['alice@sink.test', 'bob@sink.test']) {
        const mine = events.filter((e) => e.Address === address);
        expect(mine.map((e) => e.Type)).toEqual(['Queued', 'Delivered']);
        expect(Object.keys(mine[0]!)).toEqual([
          'Type',
          'DateTime',
          'SubaccountId',
          'ServerId',
          'SecretKey',
          'Address',
          'FromAddress',
          'Subject',
          'MessageSize',
          'MailingId',
          'MessageId',
          'Data',
          'EventId',
        ]);
        expect(mine[0]).toMatchObject({
          ServerId: t.credentials.serverId,
          SecretKey: secretKey,
          FromAddress: 'sender@example.com',
          Subject: 'Hello',
          MailingId: 'mail-1',
          MessageId: messageId,
          Data: { Meta: [{ Key: 'Region', Value: 'EU' }], Tags: ['welcome'] },
        });
        expect(mine[0]!.DateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}0000Z$/);
        expect(Object.keys(mine[1]!)).toEqual([
          'Type',
          'DateTime',
          'ServerId',
          'SubaccountId',
          'IpPoolId',
          'SecretKey',
          'Address',
          'MailingId',
          'MessageId',
          'Response',
          'LocalIp',
          'RemoteMta',
          'Data',
          'EventId',
        ]);
        // LocalIp: the local address of the socket that delivered to the sink on loopback.
        expect(mine[1]).toMatchObject({ RemoteMta: '127.0.0.1', LocalIp: '127.0.0.1', SubaccountId: t.credentials.serverId, IpPoolId: null });
        expect(String(mine[1]!.Response)).toMatch(/^250/);
      }
      // Every request is signed with the endpoint's secret; webhook-id is the stable EventId.
      const uids = new Set((await t.store.events.list({ messageId })).map((e) => e.uid));
      for (const got of receiver.received.slice(1)) {
        expect(verify(got.headers, got.body, [signingSecret])).toEqual({ ok: true });
        expect(got.headers['webhook-id']).toBe(got.json!.EventId);
        expect(uids.has(String(got.json!.EventId))).toBe(true);
        expect(got.headers['content-type']).toBe('application/json');
      }
      expect((await remove(id)).status).toBe(200);
    } finally {
      await receiver.close();
    }
  });

  it('sends only the event types asked for, form-encoded for a legacy receiver', async () => {
    const receiver = await startReceiver();
    try {
      receiver.answer = 'receiver-key-0002';
      const r = await create({ url: receiver.url, eventTypes: ['Delivered'], format: 'form', validationKey: 'receiver-key-0002' });
      expect(r.status).toBe(200);
      await send(['carol@sink.test']);
      const [got] = await until(
        () => (receiver.events().length >= 1 ? receiver.received.slice(1) : undefined),
        () => receiver.received,
      );
      expect(got!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const fields = new URLSearchParams(got!.body);
      expect([...fields.keys()]).toEqual([
        'Type',
        'DateTime',
        'ServerId',
        'SecretKey',
        'Address',
        'MailingId',
        'MessageId',
        'Response',
        'LocalIp',
        'RemoteMta',
      ]);
      expect(fields.get('LocalIp')).toBe('127.0.0.1');
      expect(fields.get('Type')).toBe('Delivered');
      expect(fields.get('Address')).toBe('carol@sink.test');
      expect(verify(got!.headers, got!.body, [r.body.data.signingSecret])).toEqual({ ok: true });
      // Nothing else arrives: the Queued event was never queued for this endpoint.
      const deliveredEvents = (await t.store.events.list({ limit: 1000 })).filter((e) => e.type === 'Delivered').length;
      await until(
        async () => ((await t.store.events.list({ limit: 1000 })).filter((e) => e.type === 'Delivered').length === deliveredEvents ? true : undefined),
        () => null,
      );
      expect(receiver.events().map((e) => e.Type)).toEqual(['Delivered']);
      await remove(r.body.data.id);
    } finally {
      await receiver.close();
    }
  });

  it("a suppressed recipient's Failed event carries FailureType 2 and the list entry's SuppressionReason; MailingId null when none was set", async () => {
    const receiver = await startReceiver();
    try {
      const r = await create({ url: receiver.url, eventTypes: ['Failed'] });
      expect(r.status).toBe(200);
      await t.store.suppressions.add(t.credentials.serverId, [{ address: 'gone@sink.test', reason: 'Complaint', detail: null }], Date.now());
      expect((await send(['gone@sink.test'])).body.ErrorCode).toBe('Success');
      const [failed] = await until(
        () => (receiver.events().length >= 1 ? receiver.events() : undefined),
        () => receiver.received,
      );
      expect(failed).toMatchObject({
        Type: 'Failed',
        Address: 'gone@sink.test',
        FailureType: 2,
        FailureCode: 9999,
        SuppressionReason: 'Complaint',
        MailingId: null,
        RemoteMta: null,
        BounceStatus: null,
        DiagnosticCode: null,
        IpPoolId: null,
        FromAddress: 'sender@example.com',
      });
      expect(String(failed!.Reason)).toContain('suppression list (Complaint)');
      await remove(r.body.data.id);
    } finally {
      await receiver.close();
    }
  });
});
