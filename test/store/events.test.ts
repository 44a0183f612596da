import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { NewEvent, Store, WebhookEndpoint, WebhookFormat } from '../../src/store/store.js';
import { testMessage } from '../helpers/messages.js';

/** The event log (the events area) and the webhook outbox rows its appends write, the same assertions on SQLite and PostgreSQL. */
describe(`events in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let accountId: number;
  let serverId: number;
  const now = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    accountId = (await store.tenancy.createAccount('A', now)).id;
    serverId = (await store.tenancy.createServer({ accountId, name: 'S' }, now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** Commits a message of `addresses` for the server; returns its id and its recipients' ids. */
  async function accepted(sid: number, addresses: string[], at = now) {
    const m = testMessage(sid, at, addresses);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    return { messageId: m.id, recipients: m.recipients.map((r) => r.id) };
  }

  const endpoint = (sid: number, eventTypes: string[], format: WebhookFormat = 'json', enabled = true): Promise<WebhookEndpoint> =>
    store.webhooks.createEndpoint(
      {
        serverId: sid,
        url: 'http://127.0.0.1:9/hook',
        eventTypes,
        format,
        secretKey: 'K',
        signingSecret: 'whsec_x',
        enabled,
        disabledReason: enabled ? null : 'off',
        validatedAt: now,
      },
      now,
    );

  /** Claims every due outbox row and answers, per endpoint of `endpoints`, the uids of the events it was given (sorted). */
  async function outboxOf(endpoints: Record<string, WebhookEndpoint>, at: number): Promise<Record<string, string[]>> {
    // staleBefore 0: a row an earlier claim of this file holds is never taken again.
    const work = await store.webhooks.claimDeliveries('events-test', 10_000, at, 0);
    const out: Record<string, string[]> = {};
    for (const [name, ep] of Object.entries(endpoints)) {
      out[name] = work
        .filter((w) => w.endpoint.id === ep.id)
        .map((w) => w.event.uid)
        .sort();
    }
    return out;
  }

  it('appends in the order given, whatever the occurrence times, and reads each event back as written', async () => {
    const { messageId, recipients } = await accepted(serverId, ['a@example.com', 'b@example.com']);
    expect(await store.events.append([])).toEqual([]);
    const events: NewEvent[] = [
      { serverId, messageId, recipientId: recipients[0]!, type: 'Delivered', occurredAt: now + 30, data: { Response: '250 ok' } },
      { serverId, messageId, recipientId: recipients[1]!, type: 'Tracking', occurredAt: now + 10, data: { TrackingType: 1, ClientIp: '192.0.2.1' } },
      { serverId, messageId, recipientId: null, type: 'Complaint', occurredAt: now + 20, data: null },
    ];
    const uids = await store.events.append(events);
    expect(uids).toHaveLength(3);
    expect(new Set(uids).size).toBe(3);
    // The accept wrote one Queued event per recipient before these.
    const listed = await store.events.list({ messageId });
    expect(listed.map((e) => e.type)).toEqual(['Queued', 'Queued', 'Delivered', 'Tracking', 'Complaint']);
    const mine = listed.slice(2);
    expect(mine.map((e) => e.uid)).toEqual(uids);
    expect(mine.map(({ id: _id, uid: _uid, ...rest }) => rest)).toEqual(events);
    const ids = listed.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists by message in id order, pages by afterId and limit, and returns at most 1,000 events unless asked for more', async () => {
    const { messageId } = await accepted(serverId, ['big@example.com']);
    const noise = await accepted(serverId, ['noise@example.com']);
    // 1,001 events in one append: more than one insert chunk.
    const uids = await store.events.append(
      Array.from({ length: 1_001 }, (_, i) => ({ serverId, messageId, recipientId: null, type: `Custom${i}`, occurredAt: now + i, data: { i } })),
    );
    await store.events.append([{ serverId, messageId: noise.messageId, recipientId: null, type: 'Complaint', occurredAt: now, data: null }]);
    const all = await store.events.list({ messageId, limit: 5_000 });
    expect(all.map((e) => e.uid)).toEqual([expect.any(String), ...uids]); // its accept's Queued event first
    expect(all.map((e) => e.data)).toEqual([null, ...uids.map((_, i) => ({ i }))]);
    expect(await store.events.list({ messageId })).toEqual(all.slice(0, 1_000));

    // Walk the message's events a page at a time from the last id seen.
    const walked = [];
    let afterId: number | undefined;
    for (;;) {
      const page = await store.events.list({ messageId, afterId, limit: 300 });
      expect(page.length).toBeLessThanOrEqual(300);
      if (page.length === 0) break;
      walked.push(...page);
      afterId = page.at(-1)!.id;
    }
    expect(walked).toEqual(all);
    expect(await store.events.list({ messageId, afterId: all.at(-1)!.id })).toEqual([]);
    // Without a message, afterId reads on into every later event: here the other message's.
    expect((await store.events.list({ afterId: all.at(-1)!.id })).map((e) => [e.messageId, e.type])).toEqual([[noise.messageId, 'Complaint']]);
    expect(await store.events.list({ messageId: 'no-such-message' })).toEqual([]);
  });

  it('writes a batch in one transaction: an event that cannot be stored, after a full chunk, leaves none of the batch', async () => {
    const { messageId } = await accepted(serverId, ['atomic@example.com']);
    const good = Array.from({ length: 1_000 }, (_, i) => ({ serverId, messageId, recipientId: null, type: 'Custom', occurredAt: now + i, data: null }));
    // A type is required; this one fails in the second insert chunk, after the first was written.
    const bad = { serverId, messageId, recipientId: null, type: null as unknown as string, occurredAt: now, data: null };
    await expect(store.events.append([...good, bad])).rejects.toThrow();
    expect((await store.events.list({ messageId, limit: 5_000 })).map((e) => e.type)).toEqual(['Queued']);
    // The same batch without the bad event is written whole.
    expect(await store.events.append(good)).toHaveLength(1_000);
    expect(await store.events.list({ messageId, limit: 5_000 })).toHaveLength(1_001);
  });

  it("gives each event to every enabled endpoint of its server that wants its type, and never to another server's", async () => {
    const s1 = (await store.tenancy.createServer({ accountId, name: 'Hooks 1' }, now)).id;
    const s2 = (await store.tenancy.createServer({ accountId, name: 'Hooks 2' }, now)).id;
    // Accepted before the endpoints exist, so their Queued events are in no outbox.
    const m1 = await accepted(s1, ['r0@example.com', 'r1@example.com', 'r2@example.com', 'r3@example.com']);
    const m2 = await accepted(s2, ['q0@example.com']);
    const eps = {
      all: await endpoint(s1, []),
      deliveredOnly: await endpoint(s1, ['Delivered']),
      // A form endpoint takes the legacy types only: never Queued or Deferred, whatever it asked for.
      form: await endpoint(s1, [], 'form'),
      formQueued: await endpoint(s1, ['Queued', 'Delivered'], 'form'),
      other: await endpoint(s2, []),
    };
    const at = now + 1_000;
    const [deferred, delivered, tracking, complaint, queued, theirs] = await store.events.append([
      { serverId: s1, messageId: m1.messageId, recipientId: m1.recipients[0]!, type: 'Deferred', occurredAt: at, data: { Reason: '451' } },
      { serverId: s1, messageId: m1.messageId, recipientId: m1.recipients[1]!, type: 'Delivered', occurredAt: at, data: { Response: '250' } },
      { serverId: s1, messageId: m1.messageId, recipientId: m1.recipients[2]!, type: 'Tracking', occurredAt: at, data: { TrackingType: 1 } },
      { serverId: s1, messageId: m1.messageId, recipientId: null, type: 'Complaint', occurredAt: at, data: {} },
      { serverId: s1, messageId: m1.messageId, recipientId: m1.recipients[3]!, type: 'Queued', occurredAt: at, data: null },
      { serverId: s2, messageId: m2.messageId, recipientId: m2.recipients[0]!, type: 'Delivered', occurredAt: at, data: { Response: '250' } },
    ]);
    const sorted = (...uids: (string | undefined)[]) => uids.map((u) => u!).sort();
    expect(await outboxOf(eps, at)).toEqual({
      all: sorted(deferred, delivered, tracking, complaint, queued),
      deliveredOnly: sorted(delivered),
      form: sorted(delivered, tracking, complaint),
      formQueued: sorted(delivered),
      other: sorted(theirs),
    });
    // A claimed row carries the event as the log holds it.
    const logged = (await store.events.list({ messageId: m2.messageId })).find((e) => e.uid === theirs);
    expect(logged).toMatchObject({ serverId: s2, type: 'Delivered', recipientId: m2.recipients[0], occurredAt: at, data: { Response: '250' } });
  });

  it('gives an event to the endpoints enabled when it was appended: not to one disabled then, nor to one created later', async () => {
    const sid = (await store.tenancy.createServer({ accountId, name: 'Hooks 3' }, now)).id;
    const m = await accepted(sid, ['x0@example.com', 'x1@example.com']);
    const live = await endpoint(sid, []);
    const disabled = await endpoint(sid, [], 'json', false);
    const at = now + 2_000;
    const [first] = await store.events.append([
      { serverId: sid, messageId: m.messageId, recipientId: m.recipients[0]!, type: 'Delivered', occurredAt: at, data: { Response: '250' } },
    ]);
    await store.webhooks.updateEndpoint(sid, disabled.id, { enabled: true, disabledReason: null }, at);
    const late = await endpoint(sid, []);
    expect(await outboxOf({ live, disabled, late }, at)).toEqual({ live: [first], disabled: [], late: [] });
    // Events appended now reach all three.
    const [second] = await store.events.append([
      { serverId: sid, messageId: m.messageId, recipientId: m.recipients[1]!, type: 'Delivered', occurredAt: at + 1, data: { Response: '250' } },
    ]);
    expect(await outboxOf({ live, disabled, late }, at + 1)).toEqual({ live: [second], disabled: [second], late: [second] });
  });

  it("queues an endpoint's rows in order per recipient (per message for an event about no recipient), not across them", async () => {
    const sid = (await store.tenancy.createServer({ accountId, name: 'Hooks 4' }, now)).id;
    const m = await accepted(sid, ['o0@example.com', 'o1@example.com']);
    const ep = await endpoint(sid, []);
    const at = now + 3_000;
    const ev = (recipientId: string | null, type: string): NewEvent => ({
      serverId: sid,
      messageId: m.messageId,
      recipientId,
      type,
      occurredAt: at,
      data: null,
    });
    const [r0a, r0b, r1, msgA, msgB] = await store.events.append([
      ev(m.recipients[0]!, 'Delivered'),
      ev(m.recipients[0]!, 'Tracking'),
      ev(m.recipients[1]!, 'Delivered'),
      ev(null, 'Complaint'),
      ev(null, 'Complaint'),
    ]);
    // The first event of each recipient and of the message itself is due; each second one waits behind it.
    const first = (await store.webhooks.claimDeliveries('events-order', 100, at, 0)).filter((w) => w.endpoint.id === ep.id);
    expect(first.map((w) => w.event.uid).sort()).toEqual([r0a, r1, msgA].sort());
    await store.webhooks.recordAttempts(
      'events-order',
      first.map((w) => ({
        deliveryId: w.deliveryId,
        endpointId: ep.id,
        ok: true,
        posted: true,
        httpStatus: 200,
        durationMs: 1,
        error: null,
        responseSnippet: null,
        next: { status: 'delivered' as const, attempts: 1, nextAttemptAt: at },
      })),
      at + 1,
    );
    const second = (await store.webhooks.claimDeliveries('events-order', 100, at + 1, 0)).filter((w) => w.endpoint.id === ep.id);
    expect(second.map((w) => w.event.uid).sort()).toEqual([r0b, msgB].sort());
  });
});
