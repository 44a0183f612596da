import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';

describe(`health, readiness and metrics (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port },
      dns: fakeDns({ 'ops.test': { mx: [{ exchange: '127.0.0.1', priority: 1 }] } }),
      delivery: { pollMs: 50 },
    });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: TEST_STORE_KIND });
  });

  it('exposes queue depth, accepted and delivered counts and attempt latency in Prometheus format', async () => {
    await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        { To: [{ EmailAddress: 'm1@ops.test' }, { EmailAddress: 'permfail@ops.test' }], From: { EmailAddress: 's@example.com' }, Subject: 'S', TextBody: 'T' },
      ],
    });
    const id = await newestMessageId(t.store);
    await waitForRecipients(t.store, id, (rs) => rs.every((r) => r.status === 'delivered' || r.status === 'failed'));
    await new Promise((r) => setTimeout(r, 100));
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/postline_accepted_recipients_total\{source="api"\} 2/);
    expect(text).toMatch(/postline_deliveries_total\{outcome="delivered"\} 1/);
    expect(text).toMatch(/postline_deliveries_total\{outcome="failed"\} 1/);
    expect(text).toMatch(/postline_delivery_attempt_seconds_count\{outcome="delivered"\} 1/);
    expect(text).toMatch(/postline_queue_recipients\{status="delivered"\} 1/);
    expect(text).toMatch(/postline_queue_recipients\{status="queued"\} 0/);
  });

  it('answers 503 on /readyz while stopping', async () => {
    const other = await startTestApp({ roles: ['api'] });
    const stopping = other.app.stop();
    // The HTTP server stops accepting: a new request fails or is answered 503, never 200.
    const r = await fetch(`${other.url}/readyz`).then(
      (x) => x.status,
      () => 503,
    );
    expect(r).toBe(503);
    await stopping;
    await other.store.close();
    await other.db.drop();
  });
});
