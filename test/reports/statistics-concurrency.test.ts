import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { NewEvent, Store } from '../../src/store/store.js';
import type { NewMessage } from '../../src/core/message.js';
import { newId } from '../../src/core/ids.js';
import { HOUR_MS } from '../../src/core/report-metrics.js';

/**
 * Rollups under concurrent writers, through the store: 64 transactions at once add events of
 * the same recipients and hours (on PostgreSQL, five connections), in different orders. Without
 * the sorted upsert order of addToRollups, PostgreSQL reports "deadlock detected" here (checked).
 * No transaction may fail (no deadlock on the counter rows), the counters must equal what was
 * written, and a recipient opened by several transactions at once is counted once as unique.
 */
describe(`reports: rollups under concurrent writers (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let serverId: number;
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const recipients: { id: string; messageId: string }[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('a', Date.now());
    serverId = (await store.tenancy.createServer({ accountId: account.id, name: 's' }, Date.now())).id;
    const template = {
      from: { email: 'news@brand.example', friendlyName: null },
      replyTo: null,
      to: [],
      cc: [],
      bcc: [],
      subject: 'hi',
      textBody: 'x',
      htmlBody: null,
      ampBody: null,
      charset: null,
      headers: [],
      attachments: [],
      messageId: null,
      mailingId: null,
      globalMerge: [],
    } as unknown as NewMessage['template'];
    const messages: NewMessage[] = [0, 1, 2].map((m) => ({
      id: newId(hour),
      serverId,
      createdAt: hour,
      source: 'api',
      template,
      isMerge: false,
      sizeBytes: 1,
      metadata: [{ key: 'k', value: `v${m}` }],
      tags: ['all', `t${m}`],
      recipients: Array.from({ length: 10 }, (_, i) => ({
        id: newId(hour),
        address: `u${m}-${i}@d${i % 3}.example`,
        kind: 'to' as const,
        merge: null,
        mailingId: `m${m}`,
        messageId: null,
      })),
    }));
    await store.queue.commitAccepts([{ messages, idempotency: null }]);
    for (const m of messages) for (const r of m.recipients) recipients.push({ id: r.id, messageId: m.id });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const statsOf = async (dim: '' | 'tag' | 'rcpt_domain', dimValue: string) => {
    const rows = await store.reports.readRollups({ serverId, dim, dimValue, fromHour: hour - HOUR_MS, toHour: hour + 3 * HOUR_MS, grouping: { by: 'hour' } });
    const sum: Record<string, number> = {};
    for (const r of rows) for (const [m, n] of Object.entries(r.counts)) sum[m] = (sum[m] ?? 0) + n;
    return sum;
  };

  it('64 transactions at once, each every recipient in its own order: none fails, every count adds up, each first open counts once', async () => {
    const ev = (r: { id: string; messageId: string }, type: string, at: number, data: Record<string, unknown> | null): NewEvent => ({
      serverId,
      messageId: r.messageId,
      recipientId: r.id,
      type,
      occurredAt: at,
      data,
    });
    const batches = Array.from({ length: 48 }, (_, b) => {
      // A different order per transaction: rotated and, every other one, reversed.
      const order = [...recipients.slice(b % recipients.length), ...recipients.slice(0, b % recipients.length)];
      if (b % 2 === 1) order.reverse();
      // Spread over three hours (more counter rows, each locked in that transaction's own order if unsorted).
      return order.flatMap((r, i) => [ev(r, 'Delivered', hour + ((b + i) % 3) * HOUR_MS, { Response: '250 ok' })]);
    });
    // Opens in transactions of their own: those wait on each other's recipient rows (first-open
    // marks), which would serialise the Delivered ones too and hide an unordered upsert.
    const opens = Array.from({ length: 16 }, (_, b) => recipients.map((r) => ev(r, 'Tracking', hour + HOUR_MS, { TrackingType: 1, Machine: b % 4 === 0 })));
    const results = await Promise.allSettled([...batches, ...opens].map((events) => store.events.append(events)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);

    const all = await statsOf('', '');
    expect(all).toMatchObject({ queued: 30, delivered: 48 * 30, opensHuman: 12 * 30, opensMachine: 4 * 30, uniqueOpens: 30 });
    // A person's first open: every recipient had one (12 of the 16 transactions were people's).
    expect(all.uniqueOpensHuman).toBe(30);
    expect(await statsOf('tag', 'all')).toEqual(all);
    expect(await statsOf('tag', 't1')).toMatchObject({ queued: 10, delivered: 48 * 10, uniqueOpens: 10 });
    expect(await statsOf('rcpt_domain', 'd0.example')).toMatchObject({ queued: 12, delivered: 48 * 12, uniqueOpens: 12 });

    // The rebuild agrees with what the concurrent writers left.
    const before = await statsOf('', '');
    await store.reports.rebuildRollups(serverId);
    expect(await statsOf('', '')).toEqual(before);
  });
});
