import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { DeliveryOutcomeRecord, Store, WorkerRegistration } from '../../src/store/store.js';
import { newId } from '../../src/core/ids.js';
import { conflictsRetried } from '../../src/store/conflict-retry.js';
import { testMessage } from '../helpers/messages.js';

const message = testMessage;

/**
 * The worker registry on both dialects: a claim of a dead (stale heartbeat, deregistered or never
 * registered) worker is taken over at once, a live worker's is not, and the writers of held rows
 * (renew, record) lock them in one order, so concurrent batches never deadlock on PostgreSQL.
 */
function delivered(recipientId: string): DeliveryOutcomeRecord {
  return {
    recipientId,
    status: 'delivered',
    attempts: 1,
    nextAttemptAt: null,
    reply: '250 ok',
    mx: 'mx.example',
    failureCode: null,
    event: { type: 'Delivered', data: { Response: '250 ok' } },
  };
}

const worker = (id: string, at: number): WorkerRegistration => ({ id, kind: 'delivery', hostname: 'h', pid: 1, startedAt: at });

function deferred(recipientId: string, at: number): DeliveryOutcomeRecord {
  return {
    recipientId,
    status: 'deferred',
    attempts: 1,
    nextAttemptAt: at,
    reply: '451 later',
    mx: 'mx.example',
    failureCode: 4001,
    event: { type: 'Deferred', data: { Reason: '451 later' } },
  };
}

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const DEAD_AFTER = 20_000;
const STALE = 900_000;

describe(`worker registry and claim takeover (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let serverId: number;
  // Each test works in its own hour, so the due rows of one are never due in another.
  const base = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', base);
    serverId = (await store.tenancy.createServer({ accountId: account.id, name: 'S' }, base)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** Commits one message of `n` recipients at `at` and returns its recipient ids. */
  async function queue(at: number, n: number, tag: string): Promise<string[]> {
    const m = message(
      serverId,
      at,
      Array.from({ length: n }, (_, i) => `${tag}${i}@claims.example`),
    );
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    return m.recipients.map((r) => r.id);
  }
  const statusOf = async (ids: string[]) =>
    Promise.all(
      ids.map(async (id) => {
        const r = (await store.queue.getRecipient(id))!;
        return { status: r.status, lockedBy: r.lockedBy };
      }),
    );

  it("takes over a dead worker's claims at once and leaves a live worker's alone", async () => {
    const t0 = base + 3_600_000;
    await store.workers.register([worker('w-live', t0), worker('w-dead', t0), worker('taker', t0)], t0, false);
    const live = await queue(t0, 3, 'live');
    const dead = await queue(t0 + 1, 3, 'dead');
    expect((await store.queue.claim('w-live', 3, t0 + 1, t0 + 1 - STALE, t0 + 1 - DEAD_AFTER)).map((r) => r.id).sort()).toEqual([...live].sort());
    expect((await store.queue.claim('w-dead', 3, t0 + 2, t0 + 2 - STALE, t0 + 2 - DEAD_AFTER)).map((r) => r.id).sort()).toEqual([...dead].sort());

    // Both heartbeats are recent: nothing to take.
    expect(await store.queue.claim('taker', 100, t0 + 10_000, t0 + 10_000 - STALE, t0 + 10_000 - DEAD_AFTER)).toEqual([]);
    await store.workers.heartbeat([worker('w-live', t0), worker('taker', t0)], t0 + 15_000);
    const t2 = t0 + 25_000;
    // Without the registry rule only the claim age counts, and 25 s is far from stale.
    expect(await store.queue.claim('taker', 100, t2, t2 - STALE)).toEqual([]);
    const taken = await store.queue.claim('taker', 100, t2, t2 - STALE, t2 - DEAD_AFTER);
    expect(taken.map((r) => r.id).sort()).toEqual([...dead].sort());
    expect(taken.every((r) => r.lockedBy === 'taker' && r.lockedAt === t2)).toBe(true);
    expect(await statusOf(live)).toEqual(live.map(() => ({ status: 'delivering', lockedBy: 'w-live' })));

    // The dead worker's late outcomes change nothing; the live worker's are recorded.
    expect(
      await store.queue.recordOutcomes(
        'w-dead',
        dead.map((id) => deferred(id, t2 + 60_000)),
        t2 + 1,
      ),
    ).toBe(0);
    expect(await store.queue.renew('w-dead', dead, t2 + 1)).toBe(0);
    expect(await statusOf(dead)).toEqual(dead.map(() => ({ status: 'delivering', lockedBy: 'taker' })));
    expect(await store.queue.recordOutcomes('w-live', live.map(delivered), t2 + 2)).toBe(3);
    expect(await statusOf(live)).toEqual(live.map(() => ({ status: 'delivered', lockedBy: null })));
    expect(await store.queue.recordOutcomes('taker', dead.map(delivered), t2 + 3)).toBe(3);
    // One outcome event per recipient: the dead worker's late batch wrote none.
    const events = (await store.events.list({ limit: 1_000_000 })).filter((e) => [...live, ...dead].includes(e.recipientId ?? '') && e.type !== 'Queued');
    expect(events.map((e) => `${e.type} ${e.recipientId}`).sort()).toEqual([...live, ...dead].map((id) => `Delivered ${id}`).sort());
  });

  it('takes over at once the claims of a deregistered or never registered worker', async () => {
    const t0 = base + 2 * 3_600_000;
    // The taker is live too (an unregistered claimer's own claims would be free for anyone).
    await store.workers.register([worker('w-gone', t0), worker('taker', t0)], t0, false);
    const gone = await queue(t0, 2, 'gone');
    expect(await store.queue.claim('w-gone', 2, t0, t0 - STALE, t0 - DEAD_AFTER)).toHaveLength(2);
    const never = await queue(t0 + 1, 2, 'never');
    expect(await store.queue.claim('w-never', 2, t0 + 1, t0 + 1 - STALE)).toHaveLength(2);
    // w-gone is registered and live: only the never registered worker's claims are taken.
    expect((await store.queue.claim('taker', 100, t0 + 2, t0 + 2 - STALE, t0 + 2 - DEAD_AFTER)).map((r) => r.id).sort()).toEqual([...never].sort());
    await store.workers.deregister(['w-gone']);
    expect((await store.workers.list()).map((w) => w.id)).not.toContain('w-gone');
    const taken = await store.queue.claim('taker', 100, t0 + 3, t0 + 3 - STALE, t0 + 3 - DEAD_AFTER);
    expect(taken.map((r) => r.id).sort()).toEqual([...gone].sort());
    expect(await store.queue.recordOutcomes('taker', [...gone, ...never].map(delivered), t0 + 4)).toBe(4);
  });

  it("never takes its own claims for a dead worker's: a worker whose heartbeat lapsed (database away, clock jump) still holds them", async () => {
    const t0 = base + 7 * 3_600_000;
    await store.workers.register([worker('w-lapsed', t0)], t0, false);
    const mine = await queue(t0, 3, 'lapsed');
    expect(await store.queue.claim('w-lapsed', 3, t0, t0 - STALE, t0 - DEAD_AFTER)).toHaveLength(3);
    // 60 s without a heartbeat: to anyone else these are a dead worker's claims ...
    const t1 = t0 + 60_000;
    expect(await store.queue.claim('w-lapsed', 100, t1, t1 - STALE, t1 - DEAD_AFTER)).toEqual([]);
    expect(await statusOf(mine)).toEqual(mine.map(() => ({ status: 'delivering', lockedBy: 'w-lapsed' })));
    await store.workers.register([worker('w-other', t1)], t1, false);
    expect((await store.queue.claim('w-other', 100, t1, t1 - STALE, t1 - DEAD_AFTER)).map((r) => r.id).sort()).toEqual([...mine].sort());
    expect(await store.queue.recordOutcomes('w-other', mine.map(delivered), t1 + 1)).toBe(3);
  });

  it('a heartbeat re-inserts a removed registration; registering as the sole process removes the others', async () => {
    const t0 = base + 3 * 3_600_000;
    await store.workers.register([worker('a', t0), worker('b', t0)], t0, false);
    await store.workers.deregister(['a']);
    await store.workers.heartbeat([worker('a', t0)], t0 + 5_000);
    expect((await store.workers.list()).find((w) => w.id === 'a')).toMatchObject({ heartbeatAt: t0 + 5_000, startedAt: t0, kind: 'delivery' });
    await store.workers.register([worker('c', t0 + 6_000)], t0 + 6_000, true);
    expect((await store.workers.list()).map((w) => w.id)).toEqual(['c']);
    await store.workers.deregister(['c']);
  });

  it('concurrent renewals and outcome batches of two workers, in shuffled orders, never conflict', async () => {
    const t0 = base + 4 * 3_600_000;
    await queue(t0, 300, 'busy');
    // PostgreSQL: three connections. SQLite has one connection per process (one writer at a time).
    const pg = TEST_STORE_KIND === 'postgres';
    const other = pg ? await db.open() : store;
    const third = pg ? await db.open() : store;
    const before = conflictsRetried();
    let recorded = 0;
    try {
      for (let round = 0; round < 25; round++) {
        const at = t0 + round * 1_000;
        // Two workers hold half each; outcomes defer them as due at once, so every round claims them again.
        const mine = (await store.queue.claim('w1', 150, at, at - STALE)).map((r) => r.id);
        const theirs = (await other.queue.claim('w2', 150, at, at - STALE)).map((r) => r.id);
        expect(mine.length + theirs.length).toBe(300);
        const half = (ids: string[], k: number) => shuffled(ids).slice(0, Math.ceil(ids.length / 2) + k);
        const counts = await Promise.all([
          store.queue.renew('w1', shuffled(mine), at + 1),
          third.queue.renew('w1', shuffled(mine), at + 1),
          other.queue.recordOutcomes(
            'w1',
            half(mine, 0).map((id) => deferred(id, at)),
            at + 2,
          ),
          third.queue.recordOutcomes(
            'w2',
            half(theirs, 0).map((id) => deferred(id, at)),
            at + 2,
          ),
          store.queue.renew('w2', shuffled(theirs), at + 1),
          other.queue.recordOutcomes(
            'w2',
            shuffled(theirs).map((id) => deferred(id, at)),
            at + 3,
          ),
          store.queue.recordOutcomes(
            'w1',
            shuffled(mine).map((id) => deferred(id, at)),
            at + 3,
          ),
        ]);
        recorded += counts[2]! + counts[3]! + counts[5]! + counts[6]!;
        // Every held row was recorded exactly once (by whichever batch locked it first).
        const status = await store.queue.countRecipientsByStatus();
        expect(status.delivering ?? 0).toBe(0);
      }
    } finally {
      if (pg) {
        await other.close();
        await third.close();
      }
    }
    expect(recorded).toBe(25 * 300);
    expect(conflictsRetried() - before).toBe(0);
    // Settle them, so the tests after this one find no due rows of it.
    const rest = await store.queue.claim('w1', 300, t0 + 100_000, t0 - STALE);
    expect(
      await store.queue.recordOutcomes(
        'w1',
        rest.map((r) => delivered(r.id)),
        t0 + 100_001,
      ),
    ).toBe(300);
  });

  it('records a batch of more than one chunk of outcomes in one call, each with its event', async () => {
    const t0 = base + 6 * 3_600_000;
    await store.workers.register([worker('big', t0)], t0, false);
    const ids = await queue(t0, 1_200, 'big');
    const claimed = (await store.queue.claim('big', 2_000, t0, t0 - STALE, t0 - DEAD_AFTER)).map((r) => r.id);
    expect(claimed.sort()).toEqual([...ids].sort());
    expect(await store.queue.recordOutcomes('big', shuffled(ids).map(delivered), t0 + 1)).toBe(1_200);
    const rows = await store.queue.listRecipients((await store.queue.getRecipient(ids[0]!))!.messageId);
    expect(rows.every((r) => r.status === 'delivered' && r.lockedBy === null && r.lastReply === '250 ok' && r.attempts === 1)).toBe(true);
    const events = (await store.events.list({ limit: 1_000_000 })).filter((e) => e.type === 'Delivered' && ids.includes(e.recipientId ?? ''));
    expect(events).toHaveLength(1_200);
  });

  it("takes over a dead inbound poster's post claims at once, not a live one's", async () => {
    const t0 = base + 7 * 3_600_000;
    const route = (await store.inbound.createRoute(
      {
        serverId,
        match: 'in.claims.example',
        kind: 'domain',
        url: 'http://127.0.0.1:9/in',
        secretKey: 'K',
        signingSecret: 'whsec_x',
        enabled: true,
        validatedAt: t0,
      },
      t0,
    ))!;
    await store.inbound.commitMessages([
      {
        id: newId(t0),
        mailFrom: 'a@sender.example',
        remoteIp: '192.0.2.1',
        helo: null,
        receivedAt: t0,
        raw: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
        posts: [{ routeId: route.id, serverId, rcptTo: 'x@in.claims.example' }],
      },
    ]);
    await store.workers.register([worker('p-dead', t0), worker('p-live', t0)], t0, false);
    const first = await store.inbound.claimPosts('p-dead', 10, t0 + 1, t0 + 1 - STALE, undefined, t0 + 1 - DEAD_AFTER);
    expect(first).toHaveLength(1);
    expect(await store.inbound.claimPosts('p-live', 10, t0 + 10_000, t0 + 10_000 - STALE, undefined, t0 + 10_000 - DEAD_AFTER)).toEqual([]);
    await store.workers.heartbeat([worker('p-live', t0)], t0 + 15_000);
    const t2 = t0 + 25_000;
    expect(await store.inbound.claimPosts('p-live', 10, t2, t2 - STALE)).toEqual([]);
    expect((await store.inbound.claimPosts('p-live', 10, t2, t2 - STALE, undefined, t2 - DEAD_AFTER)).map((w) => w.postId)).toEqual([first[0]!.postId]);
  });

  it("takes over a dead webhook dispatcher's outbox claims at once, not a live one's", async () => {
    const t0 = base + 5 * 3_600_000;
    await store.webhooks.createEndpoint(
      {
        serverId,
        url: 'http://127.0.0.1:9/hook',
        eventTypes: [],
        format: 'json',
        secretKey: 'K',
        signingSecret: 'whsec_x',
        enabled: true,
        disabledReason: null,
        validatedAt: t0,
      },
      t0,
    );
    await store.workers.register([worker('d-dead', t0), worker('d-live', t0)], t0, false);
    const [rid] = await queue(t0, 1, 'hook'); // its Queued event goes to the outbox
    const first = await store.webhooks.claimDeliveries('d-dead', 10, t0 + 1, t0 + 1 - STALE, undefined, t0 + 1 - DEAD_AFTER);
    expect(first.map((w) => w.recipient?.id)).toEqual([rid]);
    expect(await store.webhooks.claimDeliveries('d-live', 10, t0 + 10_000, t0 + 10_000 - STALE, undefined, t0 + 10_000 - DEAD_AFTER)).toEqual([]);
    await store.workers.heartbeat([worker('d-live', t0)], t0 + 15_000);
    const t2 = t0 + 25_000;
    expect(await store.webhooks.claimDeliveries('d-live', 10, t2, t2 - STALE)).toEqual([]);
    const taken = await store.webhooks.claimDeliveries('d-live', 10, t2, t2 - STALE, undefined, t2 - DEAD_AFTER);
    expect(taken.map((w) => w.deliveryId)).toEqual(first.map((w) => w.deliveryId));
    // Held by a live dispatcher now: nobody else takes it.
    await store.workers.heartbeat([worker('d-dead', t0)], t2);
    expect(await store.webhooks.claimDeliveries('d-dead', 10, t2 + 1, t2 + 1 - STALE, undefined, t2 + 1 - DEAD_AFTER)).toEqual([]);
  });
});
