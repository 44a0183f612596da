import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';

/**
 * A worker whose backlog waits longer than the claim timeout (one connection to a slow
 * destination) renews its claims, so its own poll never takes them back as a dead worker's and
 * nothing is delivered twice.
 */
describe(`claims renewed while held (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port, perDestinationConcurrency: 1 },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      // 8 messages at 250 ms each over one connection: the last waits ~2 s, over three claim timeouts.
      delivery: { staleMs: 600, pollMs: 50 },
    });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('delivers each recipient of a slow backlog exactly once', async () => {
    const to = Array.from({ length: 8 }, (_, i) => ({ EmailAddress: `slow${i}@sink.test` }));
    const res = await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: to, From: { EmailAddress: 'f@example.com' }, Subject: 's', TextBody: 'b' }],
    });
    expect(res.body.ErrorCode).toBe('Success');
    const rs = await waitForRecipients(t.store, await newestMessageId(t.store), (xs) => xs.every((r) => r.status === 'delivered'));
    expect(rs.map((r) => r.attempts)).toEqual(Array(8).fill(1));
    // Settled: nothing left in the worker (a reclaimed duplicate would still be queued behind the slow sends).
    while (t.app.worker!.inFlightCount > 0) await new Promise((r) => setTimeout(r, 50));
    const perAddress = new Map<string, number>();
    for (const m of sink.messages) for (const a of m.rcptTo) perAddress.set(a, (perAddress.get(a) ?? 0) + 1);
    expect([...perAddress.values()]).toEqual(Array(8).fill(1));
  });
});
