import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startReceiver, until, type WebhookReceiver } from '../helpers/webhooks.js';

type SmtpError = { responseCode?: number; response?: string };

/** The poster's end states and the route switch, through the running app (MX, store, poster, receiver). */
describe(`inbound poster: give up, disabled routes, metrics (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let key: string;
  let routeId: number;
  const send = async (to: string, subject: string) => {
    const transport = createTransport({ host: '127.0.0.1', port: t.app.mxPort!, secure: false, ignoreTLS: true });
    try {
      return await transport
        .sendMail({ envelope: { from: 'a@sender.example', to: [to] }, raw: `Subject: ${subject}\r\nFrom: a@sender.example\r\n\r\nbody\r\n` })
        .then(
          (i) => ({ ok: true as const, response: i.response }),
          (e: SmtpError) => ({ ok: false as const, code: e.responseCode, response: e.response }),
        );
    } finally {
      transport.close();
    }
  };
  const posts = async () => (await t.store.inbound.listPosts(t.credentials.serverId, routeId, { limit: 100, offset: 0, direction: 'asc' })).rows;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp({
      roles: ['api', 'smtp', 'webhooks'],
      config: { webhookAllowCidrs: ['127.0.0.1'], smtpHost: '127.0.0.1' },
      webhooks: { retrySchedule: [50, 50], pollMs: 50, timeoutMs: 5_000 },
    });
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    routeId = (
      await v2<{ data: { id: number } }>(t, 'POST', `/servers/${t.credentials.serverId}/inbound-routes`, {
        key,
        body: { match: 'desk.example', url: receiver.url },
      })
    ).body.data.id;
  });
  beforeEach(() => {
    receiver.status = 200;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('retries on non-2xx along the schedule, then gives up, recording every attempt', async () => {
    receiver.status = (r) => (String(r.json?.Type) === 'Validation' ? 200 : 500);
    expect((await send('help@desk.example', 'doomed')).ok).toBe(true);
    const [post] = await until(
      async () => {
        const p = await posts();
        return p[0]?.status === 'gave_up' ? p : undefined;
      },
      () => 'not given up',
    );
    expect(post).toMatchObject({ attempts: 3, lastStatus: 500, lastError: 'HTTP 500', nextAttemptAt: null });
    const log = await t.store.inbound.listAttempts(t.credentials.serverId, routeId, post!.id, { limit: 10, offset: 0, direction: 'asc' });
    expect(log.rows.map((a) => [a.ok, a.httpStatus, a.responseSnippet])).toEqual([
      [false, 500, 'status 500'],
      [false, 500, 'status 500'],
      [false, 500, 'status 500'],
    ]);
    // Counted just after the attempt is recorded.
    const metrics = await until(
      async () => {
        const text = await t.app.metrics.registry.getSingleMetricAsString('postline_inbound_posts_total');
        return /outcome="gave_up"/.test(text) ? text : undefined;
      },
      () => 'no gave_up metric',
    );
    expect(metrics).toMatch(/postline_inbound_posts_total\{outcome="gave_up"\} 1/);
    expect(metrics).toMatch(/postline_inbound_posts_total\{outcome="failed"\} 2/);
    expect(await t.app.metrics.registry.getSingleMetricAsString('postline_inbound_messages_total')).toMatch(/postline_inbound_messages_total 1/);
  });

  it('a disabled route refuses its mail at RCPT (550 5.2.1), at once; enabled again, it takes mail', async () => {
    const off = await v2(t, 'PATCH', `/servers/${t.credentials.serverId}/inbound-routes/${routeId}`, { key, body: { enabled: false } });
    expect(off.status).toBe(200);
    const refused = await send('help@desk.example', 'while disabled');
    expect(refused).toMatchObject({ ok: false, code: 550 });
    expect(refused.response).toMatch(/5\.2\.1/);
    await v2(t, 'PATCH', `/servers/${t.credentials.serverId}/inbound-routes/${routeId}`, { key, body: { enabled: true } });
    expect((await send('help@desk.example', 'enabled again')).ok).toBe(true);
    const got = await until(
      () => receiver.received.find((x) => JSON.stringify(x.json).includes('enabled again')),
      () => receiver.received.length,
    );
    expect(got.json).toMatchObject({ InboundRcptTo: 'help@desk.example' });
    expect(receiver.received.some((x) => JSON.stringify(x.json).includes('while disabled'))).toBe(false);
  });
});
