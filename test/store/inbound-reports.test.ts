import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { InboundReportRecord, Store } from '../../src/store/store.js';
import { newId } from '../../src/core/ids.js';
import { testMessage } from '../helpers/messages.js';

const message = testMessage;

/** recordInboundReport, the store side of asynchronous bounces and complaints, on both stores. */
const failed = (recipientId: string, failureCode = 2001): InboundReportRecord => ({
  recipientId,
  event: { type: 'Failed', data: { FailureType: 1, FailureCode: failureCode, Async: true } },
  failure: { failureCode, reply: '550 5.1.1 User unknown' },
  suppress: failureCode >= 2000 && failureCode < 3000 ? { reason: 'Bounce', detail: `FailureCode ${failureCode}` } : null,
});

describe(`Store contract: inbound reports (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let serverId: number;
  const now = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', now);
    serverId = (await store.tenancy.createServer({ accountId: account.id, name: 'A' }, now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** Accepts one message per address; `deliver` claims and records them delivered (one attempt). */
  async function recipients(addresses: string[], deliver = true) {
    const m = message(serverId, now, addresses);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    if (deliver) {
      const claimed = await store.queue.claim('w1', 1000, now, now - 1);
      await store.queue.recordOutcomes(
        'w1',
        claimed.map((r) => ({
          recipientId: r.id,
          status: 'delivered',
          attempts: 1,
          nextAttemptAt: null,
          reply: '250 ok',
          mx: 'mx',
          failureCode: null,
          event: { type: 'Delivered', data: {} },
        })),
        now,
      );
    }
    return store.queue.listRecipients(m.id);
  }
  const typesOf = async (recipientId: string, messageId: string) =>
    (await store.events.list({ messageId })).filter((e) => e.recipientId === recipientId).map((e) => e.type);

  it('fails a delivered recipient, writes its event and suppresses its address in one go; a second copy is already-failed', async () => {
    const [r] = await recipients(['Gone@Example.com']);
    const res = await store.queue.recordInboundReport(failed(r!.id), now + 1);
    expect(res).toEqual({ kind: 'recorded', serverId, messageId: r!.messageId });
    expect(await store.queue.getRecipient(r!.id)).toMatchObject({ status: 'failed', failureCode: 2001, lastReply: '550 5.1.1 User unknown' });
    expect(await typesOf(r!.id, r!.messageId)).toEqual(['Queued', 'Delivered', 'Failed']);
    expect(await store.suppressions.get(serverId, 'gone@example.com')).toMatchObject({ reason: 'Bounce', detail: 'FailureCode 2001' });

    expect(await store.queue.recordInboundReport(failed(r!.id), now + 2)).toEqual({ kind: 'already-failed' });
    const delay: InboundReportRecord = { recipientId: r!.id, event: { type: 'Deferred', data: { Async: true } } };
    expect(await store.queue.recordInboundReport(delay, now + 3)).toEqual({ kind: 'already-failed' });
    expect(await typesOf(r!.id, r!.messageId)).toEqual(['Queued', 'Delivered', 'Failed']);
  });

  it('records one of two copies of a bounce that arrive together', async () => {
    const [r] = await recipients(['twice@example.com']);
    const results = await Promise.all([store.queue.recordInboundReport(failed(r!.id), now + 1), store.queue.recordInboundReport(failed(r!.id), now + 1)]);
    expect(results.map((x) => x.kind).sort()).toEqual(['already-failed', 'recorded']);
    expect((await typesOf(r!.id, r!.messageId)).filter((t) => t === 'Failed')).toHaveLength(1);
  });

  it('records a delay notice without changing the status; a failure without an address code does not suppress', async () => {
    const [r] = await recipients(['full@example.com']);
    const delay: InboundReportRecord = { recipientId: r!.id, event: { type: 'Deferred', data: { Async: true } } };
    expect((await store.queue.recordInboundReport(delay, now + 1)).kind).toBe('recorded');
    expect(await store.queue.getRecipient(r!.id)).toMatchObject({ status: 'delivered' });
    expect((await store.queue.recordInboundReport(failed(r!.id, 3001), now + 2)).kind).toBe('recorded');
    expect(await store.queue.getRecipient(r!.id)).toMatchObject({ status: 'failed', failureCode: 3001 });
    expect(await store.suppressions.get(serverId, 'full@example.com')).toBeUndefined();
  });

  it('records a complaint once, with its suppression', async () => {
    const [r] = await recipients(['angry@example.com']);
    const complaint: InboundReportRecord = {
      recipientId: r!.id,
      event: { type: 'Complaint', data: { FblType: 'abuse' } },
      suppress: { reason: 'Complaint', detail: 'Complaint (abuse)' },
    };
    expect((await store.queue.recordInboundReport(complaint, now + 1)).kind).toBe('recorded');
    expect(await store.queue.recordInboundReport(complaint, now + 2)).toEqual({ kind: 'duplicate' });
    expect(await typesOf(r!.id, r!.messageId)).toEqual(['Queued', 'Delivered', 'Complaint']);
    expect(await store.suppressions.get(serverId, 'angry@example.com')).toMatchObject({ reason: 'Complaint', updatedAt: now + 1 });
    expect(await store.queue.getRecipient(r!.id)).toMatchObject({ status: 'delivered' });
  });

  it('writes nothing for a recipient never sent, or one that does not exist', async () => {
    const [queued] = await recipients(['never@example.com'], false);
    expect(await store.queue.recordInboundReport(failed(queued!.id), now + 1)).toEqual({ kind: 'not-sent' });
    expect(await store.queue.getRecipient(queued!.id)).toMatchObject({ status: 'queued' });
    expect(await store.suppressions.get(serverId, 'never@example.com')).toBeUndefined();
    expect(await store.queue.recordInboundReport(failed(newId(now)), now + 1)).toEqual({ kind: 'unknown-recipient' });
    expect(await typesOf(queued!.id, queued!.messageId)).toEqual(['Queued']);
  });

  it("a bounce for a recipient being retried makes it final; the worker's outcome then changes nothing", async () => {
    const m = message(serverId, now, ['retry@example.com']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const mine = (await store.queue.claim('w2', 1000, now, now - 1)).find((r) => r.messageId === m.id)!;
    // One attempt already made (its outcome lost, e.g. a timeout after DATA): the remote bounces later.
    await store.queue.recordOutcomes(
      'w2',
      [
        {
          recipientId: mine.id,
          status: 'deferred',
          attempts: 1,
          nextAttemptAt: now,
          reply: '451 timeout',
          mx: 'mx',
          failureCode: 4002,
          event: { type: 'Deferred', data: {} },
        },
      ],
      now,
    );
    const again = (await store.queue.claim('w3', 1000, now + 1, now)).find((r) => r.id === mine.id)!;
    expect(again.status).toBe('delivering');
    expect((await store.queue.recordInboundReport(failed(mine.id), now + 2)).kind).toBe('recorded');
    const n = await store.queue.recordOutcomes(
      'w3',
      [
        {
          recipientId: mine.id,
          status: 'delivered',
          attempts: 2,
          nextAttemptAt: null,
          reply: '250 ok',
          mx: 'mx',
          failureCode: null,
          event: { type: 'Delivered', data: {} },
        },
      ],
      now + 3,
    );
    expect(n).toBe(0);
    expect(await store.queue.getRecipient(mine.id)).toMatchObject({ status: 'failed', failureCode: 2001, lockedBy: null });
  });
});
