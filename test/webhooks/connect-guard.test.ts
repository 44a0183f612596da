import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startReceiver, until, type WebhookReceiver } from '../helpers/webhooks.js';
import type { Store } from '../../src/store/store.js';
import { newId } from '../../src/core/ids.js';
import { createLogger } from '../../src/core/log.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import { createUrlGuard } from '../../src/net/url-guard.js';

describe(`the address rule at connect time (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await store.close();
    await db.drop();
  });

  it('refuses to connect to an endpoint saved while loopback was allowed, once it no longer is', async () => {
    const now = Date.now();
    const account = await store.tenancy.createAccount('A', now);
    const serverId = (await store.tenancy.createServer({ accountId: account.id, name: 'S' }, now)).id;
    const ep = await store.webhooks.createEndpoint(
      {
        serverId,
        url: receiver.url,
        eventTypes: [],
        format: 'json',
        secretKey: 'K',
        signingSecret: 'whsec_' + Buffer.alloc(32, 7).toString('base64'),
        enabled: true,
        disabledReason: null,
        validatedAt: now,
      },
      now,
    );
    await store.queue.commitAccepts([
      {
        idempotency: null,
        messages: [
          {
            id: newId(now),
            serverId,
            createdAt: now,
            source: 'api',
            isMerge: false,
            sizeBytes: 10,
            metadata: [],
            tags: [],
            template: {
              from: { email: 'f@example.com', name: null },
              replyTo: null,
              to: [{ email: 'a@example.com', name: null }],
              cc: [],
              bcc: [],
              subject: 'S',
              textBody: 'B',
              htmlBody: null,
              ampBody: null,
              charset: null,
              headers: [],
              attachments: [],
              messageId: null,
              mailingId: null,
              globalMerge: [],
            },
            recipients: [{ id: newId(now), address: 'a@example.com', kind: 'to', merge: null, mailingId: null, messageId: null }],
          },
        ],
      },
    ]);
    const dispatcher = new WebhookDispatcher({
      store,
      log: createLogger('silent'),
      now: Date.now,
      guard: createUrlGuard(),
      workerId: 'w',
      pollMs: 50,
      retrySchedule: [60_000],
    });
    dispatcher.start();
    try {
      const log = await until(
        async () => {
          const r = await store.webhooks.listAttempts(serverId, ep.id, { limit: 10, offset: 0, direction: 'asc' });
          // Rows, not the total: the two are separate reads, and the count may see an attempt the row read did not.
          return r.rows.length > 0 ? r : undefined;
        },
        () => null,
      );
      expect(log.rows[0]).toMatchObject({ ok: false, httpStatus: null, eventType: 'Queued' });
      expect(log.rows[0]!.error).toMatch(/refused.*127\.0\.0\.1 is loopback/);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await dispatcher.stop();
    }
  });
});
