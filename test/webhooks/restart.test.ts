import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { countRows, startReceiver, until, type WebhookReceiver } from '../helpers/webhooks.js';
import { startApp } from '../../src/app.js';
import { createLogger } from '../../src/core/log.js';

describe(`webhook outbox across a restart (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    // A process without the webhooks role stands for one killed before it posted anything.
    t = await startTestApp({ roles: ['api'], config: { webhookAllowCidrs: ['127.0.0.1'] } });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('events committed before the stop are posted by the dispatcher that starts afterwards', async () => {
    const key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    expect((await v2(t, 'POST', `/servers/${t.credentials.serverId}/webhooks`, { key, body: { url: receiver.url, eventTypes: ['Queued'] } })).status).toBe(200);
    await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        { To: [{ EmailAddress: 'a@example.com' }, { EmailAddress: 'b@example.com' }], From: { EmailAddress: 's@example.com' }, Subject: 'S', TextBody: 'B' },
      ],
    });
    expect(await countRows(t.db, 'webhook_deliveries')).toBe(2);
    await t.app.stop();
    expect(receiver.events()).toEqual([]);
    const later = await startApp({ config: t.config, log: createLogger('silent'), store: t.store, now: Date.now, webhooks: { pollMs: 50 } }, ['webhooks']);
    try {
      const events = await until(
        () => (receiver.events().length >= 2 ? receiver.events() : undefined),
        () => receiver.received,
      );
      expect(events.map((e) => e.Address).sort()).toEqual(['a@example.com', 'b@example.com']);
    } finally {
      await later.stop();
      // t.close() stops the first app again: harmless, it is already stopped.
    }
  });
});
