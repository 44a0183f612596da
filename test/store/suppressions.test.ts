import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { DeliveryOutcomeRecord, Store } from '../../src/store/store.js';
import type { SuppressionReason } from '../../src/core/suppression.js';
import { testMessage } from '../helpers/messages.js';

const message = testMessage;

/** The suppression part of the Store contract, on SQLite (npm test) and PostgreSQL (npm run test:pg). */
describe(`Store contract: suppressions (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let a: number;
  let b: number;
  const now = 1_700_000_000_000;
  const entry = (address: string, reason: SuppressionReason = 'Bounce', detail: string | null = null) => ({ address, reason, detail });
  const list = async (serverId: number) => (await store.suppressions.search(serverId, { sort: 'address', direction: 'asc', limit: 100_000, offset: 0 })).rows;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', now);
    a = (await store.tenancy.createServer({ accountId: account.id, name: 'A' }, now)).id;
    b = (await store.tenancy.createServer({ accountId: account.id, name: 'B' }, now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('adds lower-cased, upserts (latest reason wins, creation time kept) and collapses duplicates', async () => {
    expect(await store.suppressions.add(a, [entry('X@Example.com', 'Complaint', 'fbl'), entry('x@example.COM', 'Unsubscribe', 'link')], now)).toBe(1);
    expect(await store.suppressions.get(a, 'x@EXAMPLE.com')).toEqual({
      serverId: a,
      address: 'x@example.com',
      reason: 'Unsubscribe',
      detail: 'link',
      createdAt: now,
      updatedAt: now,
    });
    await store.suppressions.add(a, [entry('x@example.com', 'CustomerRequest')], now + 5);
    expect(await store.suppressions.get(a, 'x@example.com')).toMatchObject({ reason: 'CustomerRequest', detail: null, createdAt: now, updatedAt: now + 5 });
    expect(await store.suppressions.get(b, 'x@example.com')).toBeUndefined();
    expect(await store.suppressions.add(a, [], now)).toBe(0);
  });

  it('clips long details and refuses an unknown reason or server, writing nothing of the call', async () => {
    await store.suppressions.add(a, [entry('long@example.com', 'Bounce', 'y'.repeat(5_000))], now);
    expect((await store.suppressions.get(a, 'long@example.com'))!.detail).toHaveLength(1_000);
    await expect(
      store.suppressions.add(a, [entry('ok1@example.com'), { address: 'ok2@example.com', reason: 'Nope' as SuppressionReason }], now),
    ).rejects.toThrow('unknown suppression reason');
    await expect(store.suppressions.add(987_654, [entry('ghost@example.com')], now)).rejects.toThrow();
    expect(await store.suppressions.get(a, 'ok1@example.com')).toBeUndefined();
    await store.suppressions.remove(a, ['long@example.com']);
  });

  it('removes many at once and counts only what was listed', async () => {
    await store.suppressions.add(a, [entry('r1@example.com'), entry('r2@example.com'), entry('r3@example.com')], now);
    expect(await store.suppressions.remove(a, ['R1@example.com', 'r1@example.com', 'r2@example.com', 'nope@example.com'])).toBe(2);
    expect(await store.suppressions.remove(b, ['r3@example.com'])).toBe(0);
    expect(await store.suppressions.remove(a, [])).toBe(0);
    expect(await store.suppressions.get(a, 'r3@example.com')).toBeTruthy();
    await store.suppressions.remove(a, ['r3@example.com', 'x@example.com']);
  });

  it('searches with paging, both sorts in both directions, prefix and literal substring filters, and a total', async () => {
    const names = ['d%x@s.example', 'a_b@s.example', 'c@s.example', 'b@t.example', 'e@s.example'];
    for (const [i, n] of names.entries()) await store.suppressions.add(a, [entry(n)], now + (i < 3 ? 100 : 200)); // ties on update time
    const q = (over: object) => store.suppressions.search(a, { sort: 'address', direction: 'asc', limit: 10, offset: 0, ...over });
    const addrs = async (over: object) => (await q(over)).rows.map((r) => r.address.split('@')[0]);
    expect(await addrs({})).toEqual(['a_b', 'b', 'c', 'd%x', 'e']);
    expect(await addrs({ direction: 'desc' })).toEqual(['e', 'd%x', 'c', 'b', 'a_b']);
    expect(await addrs({ sort: 'updatedAt' })).toEqual(['a_b', 'c', 'd%x', 'b', 'e']);
    expect(await addrs({ sort: 'updatedAt', direction: 'desc' })).toEqual(['e', 'b', 'd%x', 'c', 'a_b']);
    expect(await addrs({ limit: 2, offset: 2 })).toEqual(['c', 'd%x']);
    expect((await q({ limit: 2, offset: 2 })).total).toBe(5);
    expect(await q({ contains: 'T.EXAMPLE' })).toMatchObject({ total: 1, rows: [{ address: 'b@t.example' }] });
    expect(await addrs({ contains: '_' })).toEqual(['a_b']);
    expect(await addrs({ contains: '%' })).toEqual(['d%x']);
    expect(await addrs({ startsWith: 'D%' })).toEqual(['d%x']);
    expect(await addrs({ startsWith: 'a_' })).toEqual(['a_b']);
    expect(await addrs({ startsWith: 'a%' })).toEqual([]);
    expect((await store.suppressions.search(b, { sort: 'address', direction: 'asc', limit: 10, offset: 0 })).total).toBe(0);
    await store.suppressions.remove(a, names);
  });

  it('streams every entry in order in bounded batches, also across ties and in reverse', async () => {
    const many = Array.from({ length: 53 }, (_, i) => entry(`s${String(i).padStart(3, '0')}@stream.example`));
    for (let i = 0; i < many.length; i += 10) await store.suppressions.add(a, many.slice(i, i + 10), now + Math.floor(i / 20));
    for (const [sort, direction] of [
      ['address', 'asc'],
      ['address', 'desc'],
      ['updatedAt', 'asc'],
      ['updatedAt', 'desc'],
    ] as const) {
      const batches: number[] = [];
      const seen: { address: string; updatedAt: number }[] = [];
      for await (const rows of store.suppressions.stream(a, { sort, direction, contains: 'stream' }, 7)) {
        batches.push(rows.length);
        seen.push(...rows);
      }
      expect(
        batches.every((n) => n <= 7),
        `${sort} ${direction}`,
      ).toBe(true);
      const expected = [...seen].sort((x, y) => (sort === 'updatedAt' ? x.updatedAt - y.updatedAt : 0) || (x.address < y.address ? -1 : 1));
      if (direction === 'desc') expected.reverse();
      expect(
        seen.map((s) => s.address),
        `${sort} ${direction}`,
      ).toEqual(expected.map((s) => s.address));
      expect(new Set(seen.map((s) => s.address)).size).toBe(53);
    }
    const none = [];
    for await (const rows of store.suppressions.stream(b, { sort: 'address', direction: 'asc' }, 7)) none.push(rows);
    expect(none).toEqual([]);
    await store.suppressions.remove(
      a,
      many.map((m) => m.address),
    );
  });

  it('answers suppressedAmong for thousands of addresses in batches, case-insensitively, per server', async () => {
    const listed = Array.from({ length: 1_500 }, (_, i) => entry(`m${i}@among.example`, i % 2 ? 'Complaint' : 'Bounce'));
    await store.suppressions.add(a, listed, now);
    const asked = [...Array.from({ length: 2_500 }, (_, i) => `M${i}@among.example`), 'm1@among.example'];
    const found = await store.suppressions.listedAmong(a, asked);
    expect(found.size).toBe(1_500);
    expect(found.get('m0@among.example')).toBe('Bounce');
    expect(found.get('m1@among.example')).toBe('Complaint');
    expect(found.has('m1500@among.example')).toBe(false);
    expect((await store.suppressions.listedAmong(b, asked)).size).toBe(0);
    expect((await store.suppressions.listedAmong(a, [])).size).toBe(0);
    await store.suppressions.remove(
      a,
      listed.map((l) => l.address),
    );
  });

  it('accepts a suppressed recipient as final (suppressed, Failed 2/9999, no Queued) in the same commit, and never claims it', async () => {
    await store.suppressions.add(a, [entry('held@accept.example', 'Complaint')], now);
    const m1 = message(a, now + 1, ['ok@accept.example', 'HELD@accept.example']);
    const m2 = message(b, now + 1, ['held@accept.example']); // another server's list does not apply
    expect(
      await store.queue.commitAccepts([
        { messages: [m1], idempotency: null },
        { messages: [m2], idempotency: null },
      ]),
    ).toEqual([{ kind: 'committed' }, { kind: 'committed' }]);
    const rs = await store.queue.listRecipients(m1.id);
    expect(rs.map((r) => [r.address, r.status, r.failureCode])).toEqual([
      ['ok@accept.example', 'queued', null],
      ['HELD@accept.example', 'suppressed', 9999],
    ]);
    const events = await store.events.list({ messageId: m1.id });
    expect(events.map((e) => [e.recipientId, e.type])).toEqual([
      [rs[0]!.id, 'Queued'],
      [rs[1]!.id, 'Failed'],
    ]);
    expect(events[1]!.data).toMatchObject({ FailureType: 2, FailureCode: 9999, SuppressionReason: 'Complaint' });
    expect((await store.queue.listRecipients(m2.id))[0]!.status).toBe('queued');
    const claimed = await store.queue.claim('w', 10_000, now + 10 * 24 * 3600_000, now - 1);
    expect(claimed.some((r) => r.id === rs[1]!.id)).toBe(false);
    expect(claimed.some((r) => r.id === rs[0]!.id)).toBe(true);
    expect((await store.queue.listRecipients(m1.id))[1]!).toMatchObject({ status: 'suppressed', lockedBy: null });
    await store.queue.release(
      'w',
      claimed.map((r) => r.id),
      now + 2,
    );
  });

  it('records a suppression with the outcome that causes it, only when that outcome is applied', async () => {
    // Two recipients with one address (two messages in real life): one batch suppresses it once.
    const m = message(a, now + 3, ['gone@outcome.example', 'Gone@Outcome.example', 'stale@outcome.example']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const claimed = (await store.queue.claim('owner', 10_000, now + 10 * 24 * 3600_000, now - 1)).filter((r) => r.messageId === m.id);
    expect(claimed).toHaveLength(3);
    const failed = (id: string): DeliveryOutcomeRecord => ({
      recipientId: id,
      status: 'failed',
      attempts: 1,
      nextAttemptAt: null,
      reply: '550 5.1.1 no such user',
      mx: 'mx',
      failureCode: 2001,
      event: { type: 'Failed', data: { FailureType: 1, FailureCode: 2001 } },
      suppress: { reason: 'Bounce', detail: 'FailureCode 2001: 550 5.1.1 no such user' },
    });
    const [gone, gone2, stale] = [
      claimed.find((r) => r.address === 'gone@outcome.example')!,
      claimed.find((r) => r.address === 'Gone@Outcome.example')!,
      claimed.find((r) => r.address.startsWith('stale'))!,
    ];
    // A worker that no longer owns the claim changes nothing, suppression included.
    expect(await store.queue.recordOutcomes('intruder', [failed(stale.id)], now + 4)).toBe(0);
    expect(await store.suppressions.get(a, 'stale@outcome.example')).toBeUndefined();
    expect(await store.queue.recordOutcomes('owner', [failed(gone.id), failed(gone2.id), { ...failed(stale.id), suppress: null }], now + 5)).toBe(3);
    expect(await store.suppressions.get(a, 'GONE@outcome.example')).toMatchObject({
      reason: 'Bounce',
      detail: 'FailureCode 2001: 550 5.1.1 no such user',
      createdAt: now + 5,
    });
    expect(await store.suppressions.get(a, 'stale@outcome.example')).toBeUndefined();
  });

  it('suppresses a recipient by id with its event in one transaction (complaints, unsubscribes)', async () => {
    const m = message(b, now + 6, ['Reader@fbl.example']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const rid = m.recipients[0]!.id;
    const s = await store.suppressions.suppressRecipient(
      { recipientId: rid, reason: 'Complaint', detail: 'abuse report', event: { type: 'Complaint', data: { FblType: 'abuse' } } },
      now + 7,
    );
    expect(s).toEqual({ serverId: b, address: 'reader@fbl.example', reason: 'Complaint', detail: 'abuse report', createdAt: now + 7, updatedAt: now + 7 });
    const events = await store.events.list({ messageId: m.id });
    expect(events.map((e) => [e.type, e.recipientId, e.data])).toEqual([
      ['Queued', rid, null],
      ['Complaint', rid, { FblType: 'abuse' }],
    ]);
    const unsub = await store.suppressions.suppressRecipient({ recipientId: rid, reason: 'Unsubscribe', detail: null }, now + 8);
    expect(unsub).toMatchObject({ reason: 'Unsubscribe', createdAt: now + 7, updatedAt: now + 8 });
    expect((await store.events.list({ messageId: m.id })).length).toBe(2);
    expect(await store.suppressions.suppressRecipient({ recipientId: 'NOPE', reason: 'Complaint', detail: null }, now)).toBeUndefined();
    expect((await list(b)).map((x) => x.address)).toEqual(['reader@fbl.example']);
  });

  it('counts one unsubscribe per recipient: replays, also at once, write no event, rollup or suppression change', async () => {
    const t0 = now + 3_600_000 * 5;
    const m = message(b, t0, ['Leaver@unsub.example', 'other@unsub.example']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const [leaver, other] = m.recipients.map((r) => r.id) as [string, string];
    const unsubscribe = (id: string, at: number) =>
      store.suppressions.suppressRecipient(
        {
          recipientId: id,
          reason: 'Unsubscribe',
          detail: 'unsubscribe link',
          event: { type: 'Tracking', data: { TrackingType: 2, UserAgent: '', ClientIp: '', Machine: false } },
        },
        at,
      );
    // Five at once: on PostgreSQL five transactions race for the recipient's row.
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => unsubscribe(leaver, t0 + i)));
    const first = answers.find((x) => x !== undefined && x.createdAt === x.updatedAt)!;
    expect(first).toMatchObject({ address: 'leaver@unsub.example', reason: 'Unsubscribe' });
    for (const x of answers) expect(x).toEqual(first);
    // Later replays: the entry stays as the first one wrote it.
    expect(await unsubscribe(leaver, t0 + 100)).toEqual(first);
    const tracking = (await store.events.list({ messageId: m.id })).filter((e) => e.type === 'Tracking');
    expect(tracking.map((e) => e.recipientId)).toEqual([leaver]);
    const rollups = await store.reports.readRollups({
      serverId: b,
      dim: '',
      dimValue: '',
      fromHour: t0 - 3_600_000,
      toHour: t0 + 3_600_000,
      grouping: { by: 'hour' },
    });
    expect(rollups.reduce((n, r) => n + r.counts.unsubscribes, 0)).toBe(1);
    // Another recipient of the same message is its own first unsubscribe.
    await unsubscribe(other, t0 + 200);
    expect((await store.events.list({ messageId: m.id })).filter((e) => e.type === 'Tracking').map((e) => e.recipientId)).toEqual([leaver, other]);
    // A replay after the operator removed the entry does not put it back: the person unsubscribed once.
    await store.suppressions.remove(b, ['leaver@unsub.example']);
    expect(await unsubscribe(leaver, t0 + 300)).toBeUndefined();
    expect(await store.suppressions.get(b, 'leaver@unsub.example')).toBeUndefined();
  });
});
