import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startHoldingReceiver, startReceiver, until, type HoldingReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import { WEBHOOK_POSTS_PER_ENDPOINT } from '../../src/webhooks/dispatcher.js';
import { testMessage } from '../helpers/messages.js';

const message = testMessage;

/**
 * Two tenants, each with its own endpoint: one that holds every POST open (a slow or hanging
 * receiver), one that answers at once. The slow tenant's events are older and more than a claim
 * used to take, so a dispatcher that posts claimed batches in order would hold the healthy
 * tenant's events behind them.
 */
describe(`webhook endpoints do not hold each other back (${TEST_STORE_KIND})`, () => {
  const SLOW_EVENTS = 300;
  const FAST_EVENTS = 150;
  let t: TestApp;
  let slow: HoldingReceiver;
  let fast: WebhookReceiver;

  beforeAll(async () => {
    // The slow receiver answers when the test lets it, or after 15 s at the latest; the dispatcher waits 20 s.
    slow = await startHoldingReceiver(15_000);
    fast = await startReceiver();
    t = await startTestApp({ roles: ['webhooks'], config: { webhookAllowCidrs: ['127.0.0.1'] }, webhooks: { pollMs: 50, timeoutMs: 20_000 } });
  });
  afterAll(async () => {
    await t?.close();
    await slow?.close();
    await fast?.close();
  });

  it('every event of the healthy endpoint arrives while the slow one still holds its posts; then the slow one gets all of its own, once each', async () => {
    const now = Date.now();
    const slowServer = t.credentials.serverId;
    const account = await t.store.tenancy.createAccount('Healthy tenant', now);
    const fastServer = (await t.store.tenancy.createServer({ accountId: account.id, name: 'Healthy' }, now)).id;
    for (const [serverId, url] of [
      [slowServer, slow.url],
      [fastServer, fast.url],
    ] as const) {
      await t.store.webhooks.createEndpoint(
        {
          serverId,
          url,
          eventTypes: [],
          format: 'json',
          secretKey: 'K',
          signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          enabled: true,
          disabledReason: null,
          validatedAt: now,
        },
        now,
      );
    }
    const addresses = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);
    // One commit: both tenants' events are due together, the slow tenant's first.
    await t.store.queue.commitAccepts([
      { messages: [message(slowServer, now, addresses('slow', SLOW_EVENTS))], idempotency: null },
      { messages: [message(fastServer, now + 1, addresses('fast', FAST_EVENTS))], idempotency: null },
    ]);

    await until(
      () => (fast.events().length >= FAST_EVENTS ? true : undefined),
      () => ({ fast: fast.events().length, slowOpen: slow.open, slowAnswered: slow.answered.length }),
    );
    // The healthy endpoint has everything, and the slow one has not been answered once: its posts
    // did not stand in the way. It holds at most its lane's posts, no more.
    expect(slow.answered.length).toBe(0);
    expect(slow.open).toBeGreaterThan(0);
    expect(slow.maxOpen).toBeLessThanOrEqual(WEBHOOK_POSTS_PER_ENDPOINT);
    expect(new Set(fast.events().map((e) => e.EventId)).size).toBe(FAST_EVENTS);
    expect(new Set(fast.events().map((e) => e.Address))).toEqual(new Set(addresses('fast', FAST_EVENTS)));

    slow.release();
    await until(
      () => (slow.answered.length >= SLOW_EVENTS ? true : undefined),
      () => slow.answered.length,
      60_000,
    );
    expect(new Set(slow.answered.map((r) => r.json!.EventId)).size).toBe(SLOW_EVENTS);
    expect(new Set(slow.answered.map((r) => r.json!.Address))).toEqual(new Set(addresses('slow', SLOW_EVENTS)));
    expect(slow.maxOpen).toBeLessThanOrEqual(WEBHOOK_POSTS_PER_ENDPOINT);
  }, 90_000);
});
