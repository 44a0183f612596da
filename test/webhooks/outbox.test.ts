import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { queryRows } from '../helpers/webhooks.js';
import type { Store, WebhookEndpoint } from '../../src/store/store.js';
import { withEventWake } from '../../src/store/event-wake.js';
import { testMessage } from '../helpers/messages.js';

const message = testMessage;

describe(`webhook outbox in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let serverId: number;
  let otherServer: number;
  let now = 1_700_000_000_000;
  const endpoint = (eventTypes: string[] = [], sid = serverId, enabled = true): Promise<WebhookEndpoint> =>
    store.webhooks.createEndpoint(
      {
        serverId: sid,
        url: 'http://127.0.0.1:9/hook',
        eventTypes,
        format: 'json',
        secretKey: 'K',
        signingSecret: 'whsec_x',
        enabled,
        disabledReason: enabled ? null : 'off',
        validatedAt: now,
      },
      now,
    );
  const outbox = () =>
    queryRows<{ endpoint_id: number; event_uid: string; status: string }>(
      db,
      `SELECT d.endpoint_id, d.event_uid, d.status, e.type FROM webhook_deliveries d JOIN events e ON e.uid = d.event_uid WHERE e.server_id = ${serverId} ORDER BY d.id`,
    );
  const outboxCount = async () => (await outbox()).length;

  // A fresh database per test: the queue and the outbox are global, and each test reads them whole.
  beforeEach(async () => {
    now += 60_000;
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', now);
    serverId = (await store.tenancy.createServer({ accountId: account.id, name: 'S' }, now)).id;
    otherServer = (await store.tenancy.createServer({ accountId: account.id, name: 'T' }, now)).id;
  });
  afterEach(async () => {
    await store.close();
    await db.drop();
  });

  it('writes no outbox rows for a server without enabled endpoints', async () => {
    await endpoint([], serverId, false);
    await endpoint([], otherServer);
    await store.queue.commitAccepts([{ messages: [message(serverId, now, ['a@example.com'])], idempotency: null }]);
    expect(await outboxCount()).toBe(0);
  });

  it('wakes the in-process dispatcher after a commit that wrote outbox rows, and only then', async () => {
    let wakes = 0;
    const woken = withEventWake(store, () => {
      wakes++;
    });
    await endpoint(['Failed'], serverId);
    await endpoint([], otherServer, false);
    // Queued events only, and no endpoint takes them: nothing to post, no wake.
    await woken.queue.commitAccepts([{ messages: [message(serverId, now, ['a@example.com'])], idempotency: null }]);
    await woken.queue.commitAccepts([{ messages: [message(otherServer, now, ['b@example.com'])], idempotency: null }]);
    expect(await outboxCount()).toBe(0);
    expect(wakes).toBe(0);
    // A suppressed recipient's Failed event is subscribed to: one row, one wake.
    await store.suppressions.add(serverId, [{ address: 'c@example.com', reason: 'Bounce', detail: null }], now);
    await woken.queue.commitAccepts([{ messages: [message(serverId, now, ['c@example.com'])], idempotency: null }]);
    expect(await outboxCount()).toBe(1);
    expect(wakes).toBe(1);
  });

  it('every event writer fills the outbox in its transaction, filtered by event type', async () => {
    const all = await endpoint();
    const failedOnly = await endpoint(['Failed', 'Tracking']);
    const m = message(serverId, now, ['a@example.com', 'b@example.com']);
    await store.suppressions.add(serverId, [{ address: 'b@example.com', reason: 'Bounce', detail: null }], now);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    // accept: a Queued event for a, the accept-time suppression Failed event for b
    const [claimed] = await store.queue.claim('w', 10, now + 1, 0);
    await store.queue.recordOutcomes(
      'w',
      [
        {
          recipientId: claimed!.id,
          status: 'delivered',
          attempts: 1,
          nextAttemptAt: null,
          reply: '250 ok',
          mx: 'mx',
          failureCode: null,
          event: { type: 'Delivered', data: { Response: '250 ok' } },
        },
      ],
      now + 2,
    );
    await store.events.append([
      {
        serverId,
        messageId: m.id,
        recipientId: claimed!.id,
        type: 'Tracking',
        occurredAt: now + 3,
        data: { TrackingType: 1, ClientIp: '1.2.3.4', UserAgent: 'x' },
      },
    ]);
    await store.suppressions.suppressRecipient(
      { recipientId: claimed!.id, reason: 'Complaint', detail: null, event: { type: 'Complaint', data: {} } },
      now + 4,
    );
    await store.suppressions.add(serverId, [], now);
    const rows = await outbox();
    const typesFor = (id: number) =>
      rows
        .filter((r) => Number(r.endpoint_id) === id)
        .map((r) => (r as unknown as { type: string }).type)
        .sort();
    expect(typesFor(all.id)).toEqual(['Complaint', 'Delivered', 'Failed', 'Queued', 'Tracking']);
    expect(typesFor(failedOnly.id)).toEqual(['Failed', 'Tracking']);
    expect(rows.every((r) => r.status === 'pending')).toBe(true);
  });

  it("claims a recipient's events in order per endpoint, reclaims stale claims, and checks the owner when recording", async () => {
    const ep = await endpoint();
    const m = message(serverId, now, ['a@example.com']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const [r] = await store.queue.claim('w', 10, now + 1, 0);
    await store.queue.recordOutcomes(
      'w',
      [
        {
          recipientId: r!.id,
          status: 'delivered',
          attempts: 1,
          nextAttemptAt: null,
          reply: '250',
          mx: null,
          failureCode: null,
          event: { type: 'Delivered', data: { Response: '250' } },
        },
      ],
      now + 2,
    );
    // Only the Queued event is due: Delivered waits behind it.
    const first = await store.webhooks.claimDeliveries('d1', 10, now + 10, now - 1_000_000);
    expect(first.map((w) => w.event.type)).toEqual(['Queued']);
    expect(first[0]).toMatchObject({ endpoint: { id: ep.id }, message: { id: m.id }, recipient: { id: r!.id } });
    expect(await store.webhooks.claimDeliveries('d2', 10, now + 10, now - 1_000_000)).toEqual([]);
    // d1 "crashes": after the stale time another dispatcher takes the claim over.
    const taken = await store.webhooks.claimDeliveries('d2', 10, now + 20, now + 11);
    expect(taken.map((w) => w.deliveryId)).toEqual([first[0]!.deliveryId]);
    // The old owner's late result is ignored; the new owner's counts.
    const ok = (id: number) => ({
      deliveryId: id,
      endpointId: ep.id,
      ok: true,
      posted: true,
      httpStatus: 200,
      durationMs: 1,
      error: null,
      responseSnippet: null,
      next: { status: 'delivered' as const, attempts: 1, nextAttemptAt: now },
    });
    await store.webhooks.recordAttempts('d1', [ok(first[0]!.deliveryId)], now + 21);
    expect((await store.webhooks.listAttempts(serverId, ep.id, { limit: 10, offset: 0, direction: 'asc' })).total).toBe(0);
    await store.webhooks.recordAttempts('d2', [ok(first[0]!.deliveryId)], now + 22);
    const next = await store.webhooks.claimDeliveries('d2', 10, now + 30, now - 1_000_000);
    expect(next.map((w) => w.event.type)).toEqual(['Delivered']);
    // A failed attempt keeps the row due later and starts the endpoint's failure streak.
    const failing = await store.webhooks.recordAttempts(
      'd2',
      [{ ...ok(next[0]!.deliveryId), ok: false, httpStatus: 500, error: 'HTTP 500', next: { status: 'failed', attempts: 1, nextAttemptAt: now + 1_000 } }],
      now + 31,
    );
    expect(failing).toEqual([{ endpointId: ep.id, failingSince: now + 31 }]);
    expect(await store.webhooks.claimDeliveries('d2', 10, now + 999, now - 1_000_000)).toEqual([]);
    expect((await store.webhooks.claimDeliveries('d2', 10, now + 1_000, now - 1_000_000)).map((w) => w.event.type)).toEqual(['Delivered']);
    expect((await store.webhooks.getEndpoint(serverId, ep.id))!.failingSince).toBe(now + 31);
    // Another server cannot see this endpoint or its attempts.
    expect(await store.webhooks.getEndpoint(otherServer, ep.id)).toBeUndefined();
    expect((await store.webhooks.listAttempts(otherServer, ep.id, { limit: 10, offset: 0, direction: 'asc' })).total).toBe(0);
  });

  it("claims by lane: at most each endpoint's room, skipping the endpoints this process holds its fill of; released rows are claimable again", async () => {
    // Two tenants: each server's events go to its own endpoint only.
    const slow = await endpoint();
    const fast = await endpoint([], otherServer);
    // The slow endpoint's backlog is older, so a claim by age alone would be all of it.
    await store.queue.commitAccepts([
      {
        messages: [
          message(
            serverId,
            now,
            Array.from({ length: 10 }, (_, i) => `s${i}@example.com`),
          ),
        ],
        idempotency: null,
      },
    ]);
    await store.queue.commitAccepts([
      {
        messages: [
          message(
            otherServer,
            now + 1,
            Array.from({ length: 10 }, (_, i) => `f${i}@example.com`),
          ),
        ],
        idempotency: null,
      },
    ]);
    const count = (work: { endpoint: { id: number } }[]) => [slow.id, fast.id].map((id) => work.filter((w) => w.endpoint.id === id).length);
    expect(count(await store.webhooks.claimDeliveries('x', 6, now + 10, 0))).toEqual([6, 0]);
    // Each lane gets at most 3, less what the claimer holds: the slow one 1 (holding 2), the fast one 3.
    const first = await store.webhooks.claimDeliveries('d', 100, now + 10, 0, { perLane: 3, held: new Map([[slow.id, 2]]) });
    expect(count(first)).toEqual([1, 3]);
    // Full: the slow endpoint is skipped, the fast one still gets its room; the limit bounds the whole claim.
    expect(
      count(
        await store.webhooks.claimDeliveries('d', 100, now + 10, 0, {
          perLane: 3,
          held: new Map([
            [slow.id, 3],
            [fast.id, 1],
          ]),
        }),
      ),
    ).toEqual([0, 2]);
    expect(count(await store.webhooks.claimDeliveries('d', 2, now + 10, 0, { perLane: 3, held: new Map() }))).toEqual([2, 0]);
    // Given back (only by their owner), unposted rows are claimable at once.
    await store.webhooks.releaseDeliveries(
      'other',
      first.map((w) => w.deliveryId),
    );
    expect(count(await store.webhooks.claimDeliveries('e', 100, now + 10, 0, { perLane: 100, held: new Map() }))).toEqual([1, 5]);
    await store.webhooks.releaseDeliveries(
      'd',
      first.map((w) => w.deliveryId),
    );
    expect(count(await store.webhooks.claimDeliveries('e', 100, now + 10, 0, { perLane: 100, held: new Map() }))).toEqual([1, 3]);
  });

  it('does not claim for a disabled endpoint; deleting an endpoint removes its rows', async () => {
    const ep = await endpoint();
    await store.queue.commitAccepts([{ messages: [message(serverId, now, ['a@example.com'])], idempotency: null }]);
    await store.webhooks.updateEndpoint(serverId, ep.id, { enabled: false, disabledReason: 'x' }, now);
    expect(await store.webhooks.claimDeliveries('d', 10, now + 10, 0)).toEqual([]);
    expect(await store.webhooks.deleteEndpoint(serverId, ep.id)).toBe(true);
    expect(await outboxCount()).toBe(0);
  });

  it('replays a time range: new rows for events before the endpoint, delivered rows reset, a cap refuses and writes nothing', async () => {
    const m = message(serverId, now, ['a@example.com', 'b@example.com']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const ep = await endpoint(['Queued']);
    expect(await outboxCount()).toBe(0);
    expect(await store.webhooks.replayEvents(serverId, ep.id, { from: now, to: now + 1, max: 1 }, now + 5)).toEqual({ ok: false, matching: 2 });
    expect(await outboxCount()).toBe(0);
    expect(await store.webhooks.replayEvents(serverId, ep.id, { from: now + 1, to: now + 2, max: 10 }, now + 5)).toEqual({ ok: true, queued: 0 });
    expect(await store.webhooks.replayEvents(serverId, ep.id, { from: now, to: now + 1, max: 10 }, now + 5)).toEqual({ ok: true, queued: 2 });
    // Already pending: nothing to do.
    expect(await store.webhooks.replayEvents(serverId, ep.id, { from: now, to: now + 1, max: 10 }, now + 5)).toEqual({ ok: true, queued: 0 });
    // Two recipients of one message: ordering is per recipient, so their events do not wait for each other.
    const work = await store.webhooks.claimDeliveries('d', 10, now + 5, 0);
    expect(work).toHaveLength(2);
    await store.webhooks.recordAttempts(
      'd',
      work.map((w) => ({
        deliveryId: w.deliveryId,
        endpointId: ep.id,
        ok: true,
        posted: true,
        httpStatus: 200,
        durationMs: 1,
        error: null,
        responseSnippet: null,
        next: { status: 'delivered' as const, attempts: 1, nextAttemptAt: now },
      })),
      now + 6,
    );
    expect((await outbox()).map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(await store.webhooks.replayEvents(serverId, ep.id, { from: now, to: now + 1, max: 10 }, now + 7)).toEqual({ ok: true, queued: 2 });
    expect((await outbox()).map((r) => r.status)).toEqual(['pending', 'pending']);
    // Another server's endpoint id queues nothing.
    expect(await store.webhooks.replayEvents(otherServer, ep.id, { from: now, to: now + 1, max: 10 }, now + 7)).toEqual({ ok: true, queued: 0 });
  });
});
