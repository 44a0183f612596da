import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';

describe(`outbound SMTP transport (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port, perDestinationConcurrency: 4 },
      dns: fakeDns({
        'bulk.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] },
        // The preferred MX (127.0.0.2) refuses connections: nothing listens there.
        'fallback.test': {
          mx: [
            { exchange: '127.0.0.2', priority: 10 },
            { exchange: '127.0.0.1', priority: 20 },
          ],
        },
        'implicit.test': { a: ['127.0.0.1'] },
      }),
      delivery: { pollMs: 50 },
    });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('delivers 100 messages to one domain over a handful of reused connections, with STARTTLS', async () => {
    const before = sink.connections;
    const rows = Array.from({ length: 100 }, (_, i) => [
      { Field: 'DeliveryAddress', Value: `user${i}@bulk.test` },
      { Field: 'N', Value: String(i) },
    ]);
    const res = await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          To: [{ EmailAddress: '%%DeliveryAddress%%' }],
          From: { EmailAddress: 'news@example.com' },
          Subject: 'No. %%N%%',
          TextBody: 'Hi %%N%%',
          MergeData: { PerMessage: rows },
        },
      ],
    });
    expect(res.body.ErrorCode).toBe('Success');
    const id = await newestMessageId(t.store);
    const rs = await waitForRecipients(t.store, id, (x) => x.every((r) => r.status === 'delivered'));
    expect(rs).toHaveLength(100);
    const got = sink.messages.filter((m) => m.rcptTo[0]!.endsWith('@bulk.test'));
    expect(got).toHaveLength(100);
    const used = sink.connections - before;
    expect(used).toBeGreaterThanOrEqual(1);
    expect(used).toBeLessThanOrEqual(4); // at most the per-destination limit, not one per message
    expect(got.every((m) => m.secure)).toBe(true);
    // Opportunistic TLS to an MX host: recorded as such; the sink's self-signed certificate does not verify, and is used anyway.
    const delivered = (await t.store.events.list({ messageId: id })).filter((e) => e.type === 'Delivered');
    expect(delivered).toHaveLength(100);
    for (const e of delivered)
      expect(e.data).toMatchObject({ Tls: true, TlsPolicy: 'opportunistic', TlsVerified: false, TlsVersion: expect.stringMatching(/^TLSv1\.[23]$/) });
    const m42 = got.find((m) => m.rcptTo[0] === 'user42@bulk.test')!;
    expect(m42.data.toString()).toContain('Subject: No. 42');
    expect(m42.data.toString()).toContain('Hi 42');
  });

  it('falls back to the next MX when the first refuses connections', async () => {
    await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: [{ EmailAddress: 'bob@fallback.test' }], From: { EmailAddress: 's@example.com' }, Subject: 'S', TextBody: 'T' }],
    });
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (x) => x.every((r) => r.status === 'delivered'));
    expect(r).toMatchObject({ status: 'delivered', attempts: 1, lastMx: '127.0.0.1' });
    expect(sink.messages.some((m) => m.rcptTo.includes('bob@fallback.test'))).toBe(true);
  });

  it("uses the domain's address record when it has no MX", async () => {
    await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: [{ EmailAddress: 'carol@implicit.test' }], From: { EmailAddress: 's@example.com' }, Subject: 'S', TextBody: 'T' }],
    });
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (x) => x.every((r) => r.status === 'delivered'));
    expect(r!.lastMx).toBe('127.0.0.1');
  });

  it('defers when no MX answers at all', async () => {
    const down = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port },
      dns: fakeDns({ 'down.test': { mx: [{ exchange: '127.0.0.3', priority: 10 }] } }),
      delivery: { pollMs: 50, retrySchedule: [60_000] },
    });
    try {
      await inject(down, {
        ServerId: down.credentials.serverId,
        ApiKey: down.credentials.apiKey,
        Messages: [{ To: [{ EmailAddress: 'dan@down.test' }], From: { EmailAddress: 's@example.com' }, Subject: 'S', TextBody: 'T' }],
      });
      const id = await newestMessageId(down.store);
      const [r] = await waitForRecipients(down.store, id, (x) => x.every((r) => r.status === 'deferred'));
      expect(r).toMatchObject({ status: 'deferred', attempts: 1, failureCode: 4003 });
      expect(r!.nextAttemptAt).toBeGreaterThan(Date.now() + 30_000);
    } finally {
      await down.close();
    }
  });
});

describe(`per-destination pacing (${TEST_STORE_KIND})`, () => {
  it('spaces deliveries to one destination at the configured rate', async () => {
    const sink = await startSmtpSink();
    const t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port, perDestinationRate: 5 },
      dns: fakeDns({ 'paced.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 20 },
    });
    try {
      const rows = Array.from({ length: 15 }, (_, i) => [{ Field: 'DeliveryAddress', Value: `p${i}@paced.test` }]);
      const t0 = Date.now();
      await inject(t, {
        ServerId: t.credentials.serverId,
        ApiKey: t.credentials.apiKey,
        Messages: [
          {
            To: [{ EmailAddress: '%%DeliveryAddress%%' }],
            From: { EmailAddress: 's@example.com' },
            Subject: 'S',
            TextBody: 'T',
            MergeData: { PerMessage: rows },
          },
        ],
      });
      const id = await newestMessageId(t.store);
      await waitForRecipients(t.store, id, (x) => x.every((r) => r.status === 'delivered'));
      // 5 go at once (one second's burst), the other 10 at 5 per second: at least ~2 s in all.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_800);
    } finally {
      await t.close();
      await sink.close();
    }
  });
});
