import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { DeliveryOutcomeRecord, Store } from '../../src/store/store.js';
import { testMessage } from '../helpers/messages.js';

const message = testMessage;

/**
 * recordOutcomes writes outcomes that set the same values (a failing domain's recipients deferred
 * together) with one statement: the result must be exactly what a row-by-row write gave.
 */
describe(`Store contract: recording a batch of outcomes (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let server: number;
  const now = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', now);
    server = (await store.tenancy.createServer({ accountId: account.id, name: 'A' }, now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('applies each outcome, grouped or not, only to rows the worker holds, with one event each', async () => {
    const addresses = Array.from({ length: 1_205 }, (_, i) => `r${i}@down.example`);
    const m = message(server, now, [...addresses, 'ok@up.example', 'late@down.example']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const claimed = await store.queue.claim('w', 10_000, now + 1, now - 1);
    expect(claimed).toHaveLength(1_207);
    const by = new Map(claimed.map((r) => [r.address, r]));
    const deferred = (id: string, nextAttemptAt: number): DeliveryOutcomeRecord => ({
      recipientId: id,
      status: 'deferred',
      attempts: 1,
      nextAttemptAt,
      reply: 'MX lookup for down.example failed: EREFUSED',
      mx: null,
      failureCode: 4999,
      event: { type: 'Deferred', data: { FailureCode: 4999, Attempts: 1 } },
    });
    // 'late' lost its claim to another worker: nothing of its outcome may be written.
    await store.queue.release('w', [by.get('late@down.example')!.id], now + 2);
    const outcomes: DeliveryOutcomeRecord[] = [
      ...addresses.slice(0, 1_200).map((a) => deferred(by.get(a)!.id, now + 60_000)), // one group, over a chunk of 1,000
      ...addresses.slice(1_200).map((a) => deferred(by.get(a)!.id, now + 61_000)), // the same but for the retry time
      {
        recipientId: by.get('ok@up.example')!.id,
        status: 'delivered',
        attempts: 1,
        nextAttemptAt: null,
        reply: '250 ok',
        mx: 'mx.up.example',
        failureCode: null,
        event: { type: 'Delivered', data: { Response: '250 ok' } },
      },
      deferred(by.get('late@down.example')!.id, now + 60_000),
    ];
    expect(await store.queue.recordOutcomes('w', outcomes, now + 3)).toBe(1_206);
    const rows = new Map((await store.queue.listRecipients(m.id)).map((r) => [r.address, r]));
    for (const [i, a] of addresses.entries()) {
      expect(rows.get(a)).toMatchObject({
        status: 'deferred',
        attempts: 1,
        nextAttemptAt: i < 1_200 ? now + 60_000 : now + 61_000,
        failureCode: 4999,
        lastReply: 'MX lookup for down.example failed: EREFUSED',
        lockedBy: null,
      });
    }
    expect(rows.get('ok@up.example')).toMatchObject({ status: 'delivered', lastMx: 'mx.up.example', lastReply: '250 ok' });
    expect(rows.get('late@down.example')).toMatchObject({ status: 'queued', attempts: 0, failureCode: null });
    const events = (await store.events.list({ messageId: m.id, limit: 10_000 })).filter((e) => e.type !== 'Queued');
    expect(events).toHaveLength(1_206);
    const perRecipient = new Map<string | null, string[]>();
    for (const e of events) perRecipient.set(e.recipientId, [...(perRecipient.get(e.recipientId) ?? []), e.type]);
    expect(perRecipient.size).toBe(1_206);
    expect(perRecipient.get(by.get('ok@up.example')!.id)).toEqual(['Delivered']);
    expect(perRecipient.get(by.get('r0@down.example')!.id)).toEqual(['Deferred']);
    expect(perRecipient.has(by.get('late@down.example')!.id)).toBe(false);
  });
});
