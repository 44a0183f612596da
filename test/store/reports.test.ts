import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { DeliveryOutcomeRecord, NewEvent, Store } from '../../src/store/store.js';
import type { NewMessage } from '../../src/core/message.js';
import type { RecipientSearchQuery, RecipientSearchRow, RecipientSearchSort } from '../../src/store/search.js';
import { RECIPIENT_SEARCH_SORTS } from '../../src/store/search.js';
import { HOUR_MS, hourOf, type Dim } from '../../src/core/report-metrics.js';
import { DAY_MS } from '../../src/store/reports.js';
import { testMessage } from '../helpers/messages.js';

/** The reports area of the Store (rollups, recipient search, message detail, event lists), the same assertions on SQLite and PostgreSQL. */
describe(`reports in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let accountId: number;
  let a: number;
  let b: number;
  const MIN = 60_000;
  const H = hourOf(1_700_000_000_000);
  let m1: NewMessage;
  let m2: NewMessage;
  let m3: NewMessage;
  /** a's recipients r1..r5 (r[0] is r1) and b's r6. */
  let r: string[];
  let r6: string;

  const message = (
    serverId: number,
    at: number,
    from: string,
    subject: string,
    rcpts: { address: string; mailingId?: string; customId?: string }[],
    extra: Pick<NewMessage, 'tags' | 'metadata'>,
  ): NewMessage => {
    const m = testMessage(
      serverId,
      at,
      rcpts.map((x) => x.address),
      { message: extra },
    );
    return {
      ...m,
      template: { ...m.template, from: { email: from, name: null }, subject },
      recipients: m.recipients.map((x, i) => ({ ...x, mailingId: rcpts[i]!.mailingId ?? null, messageId: rcpts[i]!.customId ?? null })),
    };
  };
  const outcome = (recipientId: string, status: 'delivered' | 'failed' | 'deferred', at: number): DeliveryOutcomeRecord => ({
    recipientId,
    status,
    attempts: 1,
    nextAttemptAt: status === 'deferred' ? at + 10 * HOUR_MS : null,
    reply: status === 'delivered' ? '250 ok' : status === 'failed' ? '550 5.1.1 no such user' : '451 later',
    mx: 'mx.example',
    failureCode: status === 'failed' ? 2001 : null,
    event:
      status === 'delivered'
        ? { type: 'Delivered', data: {} }
        : status === 'failed'
          ? { type: 'Failed', data: { FailureType: 1, FailureCode: 2001 } }
          : { type: 'Deferred', data: { FailureCode: 4001 } },
  });
  const tracking = (serverId: number, m: NewMessage, recipientId: string, at: number, trackingType: number, machine = false): NewEvent => ({
    serverId,
    messageId: m.id,
    recipientId,
    type: 'Tracking',
    occurredAt: at,
    data: { TrackingType: trackingType, Machine: machine, UserAgent: '', ClientIp: '' },
  });
  /** The rollups of a server's dimension value, hour by hour, with only the metrics that counted something. */
  const rollups = async (serverId: number, dim: Dim = '', dimValue = '') => {
    const rows = await store.reports.readRollups({ serverId, dim, dimValue, fromHour: H - HOUR_MS, toHour: H + 6 * HOUR_MS, grouping: { by: 'hour' } });
    return Object.fromEntries(rows.map((x) => [(x.key - H) / HOUR_MS, Object.fromEntries(Object.entries(x.counts).filter(([, n]) => n !== 0))]));
  };
  const eventsOf = async (...ms: NewMessage[]) => (await Promise.all(ms.map((m) => store.events.list({ messageId: m.id })))).flat();
  const search = (serverId: number, q: Partial<RecipientSearchQuery>, limit = 100, offset = 0, countLimit?: number) =>
    store.reports.searchRecipients(serverId, { sort: 'queuedTime', direction: 'asc', ...q }, { limit, offset, countLimit });
  const ids = async (serverId: number, q: Partial<RecipientSearchQuery>, limit = 100, offset = 0) =>
    (await search(serverId, q, limit, offset)).rows.map((x) => x.recipientId);
  /** a's recipient numbers (1..5) of search rows, for readable expectations. */
  const nums = (rows: readonly string[]) => rows.map((id) => (id === r6 ? 6 : r.indexOf(id) + 1));

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    accountId = (await store.tenancy.createAccount('A', H)).id;
    a = (await store.tenancy.createServer({ accountId, name: 'A' }, H)).id;
    b = (await store.tenancy.createServer({ accountId, name: 'B' }, H)).id;
    m1 = message(
      a,
      H + 10 * MIN,
      'news@brand.example',
      'Spring Sale 50%_off',
      [{ address: 'Ann@x.example', mailingId: 'spring', customId: 'cust-1' }, { address: 'bob@y.example', mailingId: 'spring' }, { address: 'cat@x.example' }],
      { tags: ['promo'], metadata: [{ key: 'campaign', value: 'spring' }] },
    );
    m2 = message(
      a,
      H + 2 * HOUR_MS + 5 * MIN,
      'Info@Other.example',
      'Weekly news',
      [{ address: 'ann@x.example', mailingId: 'weekly', customId: 'cust-4' }, { address: 'dan@z.example' }],
      { tags: ['weekly'], metadata: [] },
    );
    // Server b: the same address, subject, mailing and customer MessageId as a's first recipient.
    m3 = message(b, H + 15 * MIN, 'news@brand.example', 'Spring Sale 50%_off', [{ address: 'ann@x.example', mailingId: 'spring', customId: 'cust-1' }], {
      tags: ['promo'],
      metadata: [],
    });
    await store.queue.commitAccepts([{ messages: [m1, m2, m3], idempotency: null }]);
    r = [...m1.recipients, ...m2.recipients].map((x) => x.id);
    r6 = m3.recipients[0]!.id;
    const [r1, r2, r3, r4, r5] = r as [string, string, string, string, string];

    // m1's recipients are sent in the first hours; m2's and b's later (times are the store's `now`, given).
    expect((await store.queue.claim('w', 100, H + 11 * MIN, H)).length).toBe(3);
    await store.queue.recordOutcomes('w', [outcome(r1, 'delivered', H + 20 * MIN)], H + 20 * MIN);
    await store.queue.recordOutcomes('w', [outcome(r2, 'failed', H + 25 * MIN)], H + 25 * MIN);
    await store.queue.recordOutcomes('w', [outcome(r3, 'deferred', H + 65 * MIN)], H + 65 * MIN);
    expect((await store.queue.claim('w', 100, H + 126 * MIN, H)).length).toBe(3);
    await store.queue.recordOutcomes('w', [outcome(r4, 'delivered', H + 130 * MIN)], H + 130 * MIN);
    await store.queue.recordOutcomes('w', [outcome(r6, 'delivered', H + 30 * MIN)], H + 30 * MIN);
    await store.queue.release('w', [r5], H + 126 * MIN);
    await store.events.append([
      tracking(a, m1, r1, H + 30 * MIN, 1),
      tracking(a, m1, r1, H + 40 * MIN, 1),
      tracking(a, m1, r1, H + 45 * MIN, 0),
      tracking(a, m1, r1, H + 75 * MIN, 1, true),
      // A message-level event (no recipient): it belongs to every recipient of its message.
      { serverId: a, messageId: m1.id, recipientId: null, type: 'Notice', occurredAt: H + 12 * MIN, data: { note: 'm1' } },
      { serverId: a, messageId: m2.id, recipientId: r4, type: 'Complaint', occurredAt: H + 140 * MIN, data: {} },
      tracking(a, m2, r4, H + 145 * MIN, 2),
      tracking(b, m3, r6, H + 35 * MIN, 1),
    ]);
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** What the events written above count for, hour by hour (hours after H). */
  const expectedA = {
    0: {
      queued: 3,
      delivered: 1,
      failedPermanent: 1,
      failedCode2xxx: 1,
      opensHuman: 2,
      uniqueOpens: 1,
      uniqueOpensHuman: 1,
      clicksHuman: 1,
      uniqueClicks: 1,
      uniqueClicksHuman: 1,
    },
    1: { deferred: 1, opensMachine: 1 },
    2: { queued: 2, delivered: 1, complaints: 1, unsubscribes: 1 },
  };
  const expectedB = { 0: { queued: 1, delivered: 1, opensHuman: 1, uniqueOpens: 1, uniqueOpensHuman: 1 } };

  it("keeps rollups that sum, per hour and metric, what each server's events count for, under each of their dimensions", async () => {
    expect(await rollups(a)).toEqual(expectedA);
    expect(await rollups(b)).toEqual(expectedB);
    expect(await rollups(a, 'mailing', 'spring')).toEqual({
      0: {
        queued: 2,
        delivered: 1,
        failedPermanent: 1,
        failedCode2xxx: 1,
        opensHuman: 2,
        uniqueOpens: 1,
        uniqueOpensHuman: 1,
        clicksHuman: 1,
        uniqueClicks: 1,
        uniqueClicksHuman: 1,
      },
      1: { opensMachine: 1 },
    });
    expect(await rollups(a, 'tag', 'weekly')).toEqual({ 2: expectedA[2] });
    expect(await rollups(a, 'meta', 'campaign=spring')).toEqual({ 0: expectedA[0], 1: expectedA[1] });
    expect(await rollups(a, 'from_domain', 'other.example')).toEqual({ 2: expectedA[2] });
    expect(await rollups(a, 'rcpt_domain', 'x.example')).toEqual({
      0: { queued: 2, delivered: 1, opensHuman: 2, uniqueOpens: 1, uniqueOpensHuman: 1, clicksHuman: 1, uniqueClicks: 1, uniqueClicksHuman: 1 },
      1: { deferred: 1, opensMachine: 1 },
      2: { queued: 1, delivered: 1, complaints: 1, unsubscribes: 1 },
    });
    // The range is [fromHour, toHour) in whole hours.
    const ranged = await store.reports.readRollups({
      serverId: a,
      dim: '',
      dimValue: '',
      fromHour: H + HOUR_MS,
      toHour: H + 2 * HOUR_MS,
      grouping: { by: 'hour' },
    });
    expect(ranged.map((x) => [x.key, x.counts.deferred])).toEqual([[H + HOUR_MS, 1]]);
  });

  it('rebuilds the counters of one server from its events (lost rows come back, nothing doubles) and of every server with null', async () => {
    const aEvents = (await eventsOf(m1, m2)).length;
    // Counter rows lost (as retention deletes old hours): every server's rows before the third hour.
    await store.retention.queries().deleteOldRowsIfTableExists('stats_hourly', 'hour_start', H + 2 * HOUR_MS, 1_000);
    expect(await rollups(a)).toEqual({ 2: expectedA[2] });
    expect(await rollups(b)).toEqual({});

    expect(await store.reports.rebuildRollups(a)).toEqual({ events: aEvents });
    expect(await rollups(a)).toEqual(expectedA);
    expect(await rollups(a, 'mailing', 'weekly')).toEqual({ 2: { queued: 1, delivered: 1, complaints: 1, unsubscribes: 1 } });
    expect(await rollups(b)).toEqual({});
    expect(await store.reports.rebuildRollups(a)).toEqual({ events: aEvents });
    expect(await rollups(a)).toEqual(expectedA);

    expect(await store.reports.rebuildRollups(null)).toEqual({ events: (await store.events.list({ limit: 100_000 })).length });
    expect(await rollups(a)).toEqual(expectedA);
    expect(await rollups(b)).toEqual(expectedB);
    expect(await store.reports.rebuildRollups(987_654)).toEqual({ events: 0 });
    expect(await rollups(b)).toEqual(expectedB);
  });

  it('after a rebuild a recipient already opened is not counted unique again; one never opened is', async () => {
    // A server of its own: the events written here stay out of the other tests' counts.
    const d = (await store.tenancy.createServer({ accountId, name: 'opens' }, H)).id;
    const m = message(d, H, 'news@brand.example', 'Opens', [{ address: 'seen@q.example' }, { address: 'new@q.example' }], { tags: [], metadata: [] });
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const [seen, fresh] = m.recipients.map((x) => x.id) as [string, string];
    await store.events.append([tracking(d, m, seen, H + HOUR_MS, 1), tracking(d, m, seen, H + HOUR_MS + 1, 0)]);
    await store.reports.rebuildRollups(d);
    expect((await rollups(d))[1]).toEqual({ opensHuman: 1, uniqueOpens: 1, uniqueOpensHuman: 1, clicksHuman: 1, uniqueClicks: 1, uniqueClicksHuman: 1 });
    await store.events.append([
      tracking(d, m, seen, H + 3 * HOUR_MS, 1),
      tracking(d, m, seen, H + 3 * HOUR_MS + 1, 0),
      tracking(d, m, fresh, H + 3 * HOUR_MS + 2, 1),
      tracking(d, m, fresh, H + 3 * HOUR_MS + 3, 1),
    ]);
    expect((await rollups(d))[3]).toEqual({ opensHuman: 3, uniqueOpens: 1, uniqueOpensHuman: 1, clicksHuman: 1 });
    // And a rebuild of all of it agrees with what was counted live.
    const live = await rollups(d);
    await store.reports.rebuildRollups(d);
    expect(await rollups(d)).toEqual(live);
  });

  it('groups hours into local days by the offsets in force, also across an offset change', async () => {
    const c = (await store.tenancy.createServer({ accountId, name: 'days' }, H)).id;
    const day = Math.floor(H / DAY_MS) * DAY_MS;
    // Queued at 22:30 and 23:30 UTC of one day, and 01:30 of the next.
    const times = [22.5, 23.5, 25.5].map((h) => day + h * HOUR_MS);
    await store.queue.commitAccepts([{ messages: times.map((t) => testMessage(c, t, ['x@days.example'])), idempotency: null }]);
    const byDay = async (offsets: { from: number; offsetMs: number }[]) =>
      (await store.reports.readRollups({ serverId: c, dim: '', dimValue: '', fromHour: day, toHour: day + 2 * DAY_MS, grouping: { by: 'day', offsets } })).map(
        (x) => [x.key - day / DAY_MS, x.counts.queued],
      );
    expect(await byDay([{ from: 0, offsetMs: 0 }])).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(await byDay([{ from: 0, offsetMs: 2 * HOUR_MS }])).toEqual([[1, 3]]);
    expect(await byDay([{ from: 0, offsetMs: -3 * HOUR_MS }])).toEqual([[0, 3]]);
    // From 23:00 UTC on the offset is +2 h: the 22:00 hour stays on the first day, the later ones move.
    expect(
      await byDay([
        { from: 0, offsetMs: 0 },
        { from: day + 23 * HOUR_MS, offsetMs: 2 * HOUR_MS },
      ]),
    ).toEqual([
      [0, 1],
      [1, 2],
    ]);
    // Three offsets: each hour takes the one in force at its start.
    expect(
      await byDay([
        { from: 0, offsetMs: 2 * HOUR_MS },
        { from: day + 23 * HOUR_MS, offsetMs: 0 },
        { from: day + 25 * HOUR_MS, offsetMs: -2 * HOUR_MS },
      ]),
    ).toEqual([
      [0, 2],
      [1, 1],
    ]);
    await expect(
      store.reports.readRollups({ serverId: c, dim: '', dimValue: '', fromHour: day, toHour: day + DAY_MS, grouping: { by: 'day', offsets: [] } }),
    ).rejects.toThrow('offset');
  });

  it("searches a server's recipients by each filter, case-insensitively where documented, and never another server's", async () => {
    expect(await search(a, {})).toMatchObject({ total: 5 });
    expect((await search(a, { recipientId: r[0] })).rows).toEqual([
      {
        recipientId: r[0],
        messageId: m1.id,
        customMessageId: 'cust-1',
        mailingId: 'spring',
        to: 'Ann@x.example',
        from: 'news@brand.example',
        subject: 'Spring Sale 50%_off',
        status: 'delivered',
        queuedAt: H + 10 * MIN,
        statusAt: H + 20 * MIN,
      },
    ]);
    const cases: [Partial<RecipientSearchQuery>, number[]][] = [
      [{ toEmailAddress: 'ANN@X.EXAMPLE' }, [1, 4]],
      [{ fromEmailAddress: 'info@other.example' }, [4, 5]],
      [{ subject: 'SALE' }, [1, 2, 3]],
      [{ subject: '50%_' }, [1, 2, 3]],
      [{ subject: '%' }, [1, 2, 3]],
      [{ subject: '_' }, [1, 2, 3]],
      [{ subject: 'weekly news' }, [4, 5]],
      [{ subject: 'x%y' }, []],
      [{ mailingId: 'spring' }, [1, 2]],
      [{ messageId: m1.id }, [1, 2, 3]],
      [{ messageId: 'cust-4' }, [4]],
      [{ messageId: 'cust-1' }, [1]],
      [{ recipientId: r6 }, []],
      [{ statuses: ['delivered', 'failed'] }, [1, 2, 4]],
      [{ statuses: ['queued'] }, [5]],
      [{ startTime: H + 10 * MIN, endTime: H + 2 * HOUR_MS + 5 * MIN }, [1, 2, 3]],
      [{ startTime: H + 2 * HOUR_MS + 5 * MIN }, [4, 5]],
      [{ endTime: H + 10 * MIN }, []],
      [{ toEmailAddress: 'ann@x.example', statuses: ['delivered'], mailingId: 'weekly' }, [4]],
    ];
    for (const [q, want] of cases) {
      const res = await search(a, q);
      expect([q, nums(res.rows.map((x) => x.recipientId)), res.total]).toEqual([q, want, want.length]);
      // A full first page counts the matches (with the join to messages only for sender and subject).
      const first = await search(a, q, 1);
      expect([q, nums(first.rows.map((x) => x.recipientId)), first.total, first.totalExact]).toEqual([q, want.slice(0, 1), want.length, true]);
    }
    expect(nums(await ids(b, {}))).toEqual([6]);
    expect(nums(await ids(b, { messageId: 'cust-1' }))).toEqual([6]);
    expect(await search(987_654, {})).toEqual({ rows: [], total: 0, totalExact: true });
  });

  it('sorts by every field in both directions, ties by recipient id, in byte order on both stores, and pages with a total', async () => {
    const field = (row: RecipientSearchRow, sort: RecipientSearchSort): string | number =>
      ({ queuedTime: row.queuedAt, to: row.to, from: row.from, subject: row.subject, status: row.status, statusDate: row.statusAt })[sort];
    for (const sort of RECIPIENT_SEARCH_SORTS) {
      for (const direction of ['asc', 'desc'] as const) {
        const { rows, total } = await search(a, { sort, direction });
        const expected = [...rows].sort((x, y) => {
          const [p, q] = [field(x, sort), field(y, sort)];
          const c = p < q ? -1 : p > q ? 1 : x.recipientId < y.recipientId ? -1 : 1;
          return direction === 'asc' ? c : -c;
        });
        expect(
          rows.map((x) => x.recipientId),
          `${sort} ${direction}`,
        ).toEqual(expected.map((x) => x.recipientId));
        expect(total).toBe(5);
        for (const [limit, offset] of [
          [2, 0],
          [2, 2],
          [2, 4],
          [3, 5],
        ]) {
          expect(await search(a, { sort, direction }, limit, offset), `${sort} ${direction} ${limit}@${offset}`).toEqual({
            rows: rows.slice(offset!, offset! + limit!),
            total: 5,
            totalExact: true,
          });
        }
      }
    }
    // Upper case sorts before lower case (byte order), on PostgreSQL too.
    expect(nums(await ids(a, { sort: 'to' }))).toEqual([1, 4, 2, 3, 5]);
    expect(nums(await ids(a, { sort: 'from' }))).toEqual([4, 5, 1, 2, 3]);
    expect(nums(await ids(a, { sort: 'queuedTime', direction: 'desc' }))).toEqual([5, 4, 3, 2, 1]);
  });

  it('counts at most countLimit matches when asked, saying the total is then a lower bound', async () => {
    const cases: [Partial<RecipientSearchQuery>, number, number, number | undefined, number, boolean][] = [
      // query, limit, offset, countLimit -> total, exact
      [{}, 2, 0, 3, 3, false],
      [{}, 2, 0, 5, 5, true],
      [{}, 2, 0, 4, 4, false],
      [{}, 2, 0, undefined, 5, true],
      [{ subject: 'sale' }, 1, 0, 2, 2, false],
      [{ subject: 'sale' }, 1, 0, 3, 3, true],
      // The page asked for is always inside the count: offset 2 + 2 rows > cap 1.
      [{}, 2, 2, 1, 4, false],
      // A page that is not full is the last: exact, whatever the cap.
      [{}, 10, 0, 2, 5, true],
      // Past the end: no rows, and the count reaches at least as far as the page asked for.
      [{}, 2, 10, 3, 5, true],
      [{}, 1, 2, 1, 3, false],
    ];
    for (const [q, limit, offset, countLimit, total, exact] of cases) {
      const res = await search(a, q, limit, offset, countLimit);
      expect([q, limit, offset, countLimit, res.total, res.totalExact]).toEqual([q, limit, offset, countLimit, total, exact]);
      expect(res.rows).toEqual((await search(a, q, limit, offset)).rows);
    }
  });

  it('streams the same rows in the same order as paging through, in batches of at most the size asked, for every sort', async () => {
    for (const sort of RECIPIENT_SEARCH_SORTS) {
      for (const direction of ['asc', 'desc'] as const) {
        for (const q of [{}, { statuses: ['delivered', 'deferred', 'queued'] as const }]) {
          const query: RecipientSearchQuery = { sort, direction, ...q };
          const paged: RecipientSearchRow[] = [];
          for (let offset = 0; ; offset += 2) {
            const page = await store.reports.searchRecipients(a, query, { limit: 2, offset });
            paged.push(...page.rows);
            if (page.rows.length < 2) break;
          }
          for (const size of [1, 2, 3]) {
            const streamed: RecipientSearchRow[] = [];
            for await (const batch of store.reports.streamRecipientSearch(a, query, size)) {
              expect(batch.length).toBeLessThanOrEqual(size);
              expect(batch.length).toBeGreaterThan(0);
              streamed.push(...batch);
            }
            expect(streamed, `${sort} ${direction} ${size}`).toEqual(paged);
          }
        }
      }
    }
    const none: RecipientSearchRow[][] = [];
    for await (const batch of store.reports.streamRecipientSearch(b, { sort: 'to', direction: 'asc', subject: 'weekly' }, 2)) none.push(batch);
    expect(none).toEqual([]);
  });

  it("loads the detail of a server's recipients: their rows, their own and their message's events in order, their templates", async () => {
    const [r1, , , r4] = r as [string, string, string, string];
    const detail = await store.reports.loadRecipientDetail(a, [r1, r6, 'NO-SUCH-RECIPIENT', r4]);
    expect([...detail.recipients.keys()].sort()).toEqual([r1, r4].sort());
    expect(detail.recipients.get(r1)).toEqual(await store.queue.getRecipient(r1));
    // The events of each recipient as the event log has them, the message-level one included.
    const logged = await eventsOf(m1, m2);
    for (const id of [r1, r4]) {
      const messageId = detail.recipients.get(id)!.messageId;
      const want = logged
        .filter((e) => e.recipientId === id || (e.recipientId === null && e.messageId === messageId))
        .sort((x, y) => x.occurredAt - y.occurredAt || x.id - y.id);
      expect(detail.events.get(id)).toEqual(want);
    }
    expect(detail.events.get(r1)!.map((e) => e.type)).toEqual(['Queued', 'Notice', 'Delivered', 'Tracking', 'Tracking', 'Tracking', 'Tracking']);
    expect(detail.events.get(r4)!.map((e) => e.type)).toEqual(['Queued', 'Delivered', 'Complaint', 'Tracking']);
    expect([...detail.templates.keys()].sort()).toEqual([m1.id, m2.id].sort());
    expect(detail.templates.get(m1.id)).toEqual(await store.queue.getMessageTemplate(m1.id));
    expect(detail.events.has(r6)).toBe(false);

    const none = await store.reports.loadRecipientDetail(b, [r1, r4]);
    expect([none.recipients.size, none.events.size, none.templates.size]).toEqual([0, 0, 0]);
    const empty = await store.reports.loadRecipientDetail(a, []);
    expect([empty.recipients.size, empty.events.size, empty.templates.size]).toEqual([0, 0, 0]);
  });

  it("lists a server's recipient events of some types in a time range, oldest first, paged with a total, each with its message and recipient", async () => {
    const r2 = r[1]!;
    const page = async (q: Parameters<Store['reports']['searchEvents']>[1], limit = 100, offset = 0, serverId = a) => {
      const res = await store.reports.searchEvents(serverId, q, { limit, offset });
      return { events: res.rows.map((x) => [x.event.type, nums([x.recipient.id])[0], x.event.occurredAt - H]), total: res.total };
    };
    expect(await page({ types: ['Delivered'] })).toEqual({
      events: [
        ['Delivered', 1, 20 * MIN],
        ['Delivered', 4, 130 * MIN],
      ],
      total: 2,
    });
    // Events of one time keep the order they were written in.
    expect((await page({ types: ['Queued'] })).events.map((e) => e[1])).toEqual([1, 2, 3, 4, 5]);
    expect(await page({ types: ['Tracking'], startTime: H + 40 * MIN, endTime: H + 145 * MIN })).toEqual({
      events: [
        ['Tracking', 1, 40 * MIN],
        ['Tracking', 1, 45 * MIN],
        ['Tracking', 1, 75 * MIN],
      ],
      total: 3,
    });
    expect(await page({ types: ['Delivered', 'Failed', 'Complaint'], mailingId: 'spring' })).toEqual({
      events: [
        ['Delivered', 1, 20 * MIN],
        ['Failed', 2, 25 * MIN],
      ],
      total: 2,
    });
    expect((await page({ types: ['Queued', 'Delivered'], messageId: 'cust-1' })).events.map((e) => e[0])).toEqual(['Queued', 'Delivered']);
    expect((await page({ types: ['Queued'], messageId: m2.id })).events.map((e) => e[1])).toEqual([4, 5]);
    // Only events about a recipient are listed: the message-level one is not.
    expect(await page({ types: ['Notice'] })).toEqual({ events: [], total: 0 });
    expect(await page({ types: [] })).toEqual({ events: [], total: 0 });
    const all = await page({ types: ['Queued', 'Delivered', 'Failed', 'Deferred', 'Tracking', 'Complaint'] });
    expect(all.total).toBe(15);
    expect((await page({ types: ['Queued', 'Delivered', 'Failed', 'Deferred', 'Tracking', 'Complaint'] }, 4, 6)).events).toEqual(all.events.slice(6, 10));
    expect(await page({ types: ['Delivered'] }, 0)).toEqual({ events: [], total: 2 });
    expect(await page({ types: ['Delivered'] }, 10, 0, b)).toEqual({ events: [['Delivered', 6, 30 * MIN]], total: 1 });
    const [row] = (await store.reports.searchEvents(a, { types: ['Failed'] }, { limit: 1, offset: 0 })).rows;
    expect(row!.message).toEqual(await store.queue.getMessage(m1.id));
    expect(row!.recipient).toEqual(await store.queue.getRecipient(r2));
    expect(row!.event).toMatchObject({ serverId: a, messageId: m1.id, recipientId: r2, data: { FailureType: 1, FailureCode: 2001 } });
  });
});
