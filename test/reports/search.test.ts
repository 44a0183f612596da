import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { byteCompare, parseCsv, query, recipientFacts, type RecipientFact } from './sql.js';

/**
 * Recipient search through the real paths: messages injected through the Injection API, delivered
 * to the SMTP sink (scripted replies give delivered, failed, deferred), one address suppressed;
 * every expectation is computed here from the rows read behind the store's back.
 */
const WIRE: Record<string, string> = {
  queued: 'Queued',
  delivering: 'Delivering',
  deferred: 'Deferred',
  delivered: 'Delivered',
  failed: 'Failed',
  suppressed: 'Suppressed',
  sandboxed: 'Sandboxed',
};
type Row = {
  from: string;
  to: string;
  subject: string;
  status: string;
  statusDate: string;
  queuedTime: string;
  messageId: string;
  customMessageId: string | null;
  mailingId: string | null;
  recipientId: string;
};
const SORT_KEYS: Record<string, (f: RecipientFact) => string | number> = {
  queuedTime: (f) => f.created_at,
  to: (f) => f.address,
  from: (f) => f.from_address,
  subject: (f) => f.subject,
  status: (f) => f.status,
  statusDate: (f) => f.updated_at,
};

function expected(facts: RecipientFact[], keep: (f: RecipientFact) => boolean, sortField = 'queuedTime', dir: 'asc' | 'dsc' = 'dsc'): Row[] {
  const key = SORT_KEYS[sortField]!;
  const cmp = (a: string | number, b: string | number) => (typeof a === 'number' ? a - (b as number) : byteCompare(a, b as string));
  const sorted = facts.filter(keep).sort((a, b) => cmp(key(a), key(b)) || byteCompare(a.id, b.id));
  if (dir === 'dsc') sorted.reverse();
  return sorted.map((f) => ({
    from: f.from_address,
    to: f.address,
    subject: f.subject,
    status: WIRE[f.status]!,
    statusDate: new Date(f.updated_at).toISOString(),
    queuedTime: new Date(f.created_at).toISOString(),
    messageId: f.message_id,
    customMessageId: f.custom_message_id,
    mailingId: f.mailing_id,
    recipientId: f.id,
  }));
}

describe(`recipient search (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let key: string;
  let serverId: number;
  let facts: RecipientFact[];
  const search = (q: Record<string, string | number> = {}, k: string | null = key) =>
    v2<{ data: Row[]; total: number } & V2Error>(t, 'GET', `/servers/${serverId}/reports/recipient-search`, { key: k, query: q });
  /** Every page of a query, concatenated. */
  async function allPages(q: Record<string, string | number>, pageSize: number): Promise<{ rows: Row[]; totals: number[] }> {
    const rows: Row[] = [];
    const totals: number[] = [];
    for (let page = 0; ; page++) {
      const r = await search({ ...q, pageSize, pageNumber: page });
      expect(r.status, r.text).toBe(200);
      totals.push(r.body.total);
      rows.push(...r.body.data);
      if (r.body.data.length < pageSize) return { rows, totals };
    }
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    // tempfail recipients stay deferred for the whole test.
    t = await startAppDeliveringToSink(sink, { pollMs: 50, retrySchedule: [3_600_000] });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    expect((await v2(t, 'POST', `/servers/${serverId}/suppressions`, { key, body: { emailAddress: 'suppressed@sink.test' } })).status).toBe(200);
    const send = async (m: Record<string, unknown>) => {
      const r = await inject(t, { ServerId: serverId, ApiKey: t.credentials.apiKey, Messages: [{ TextBody: 'Hello', ...m }] });
      expect(r.body.ErrorCode, r.text).toBe('Success');
    };
    const to = (...a: string[]) => a.map((EmailAddress) => ({ EmailAddress }));
    await send({
      From: { EmailAddress: 'alice@shop.example' },
      Subject: 'Spring sale 50% off',
      MailingId: 'spring',
      MessageId: 'cust-1',
      To: to('a1@sink.test', 'permfail1@sink.test'),
    });
    await send({ From: { EmailAddress: 'bob@news.example' }, Subject: 'Weekly news', MailingId: 'weekly', To: to('b1@sink.test', 'tempfail1@sink.test') });
    await send({
      From: { EmailAddress: 'alice@shop.example' },
      Subject: 'Spring_sale reminder',
      MailingId: 'spring',
      MessageId: 'cust-3',
      To: to('c1@sink.test', 'suppressed@sink.test'),
    });
    await send({
      From: { EmailAddress: 'carol@ship.example' },
      Subject: 'Your order %%Order%%',
      To: [],
      MergeData: {
        PerMessage: ['d1@sink.test', 'd2@sink.test', 'D3@Sink.test'].map((a, i) => [
          { Field: 'DeliveryAddress', Value: a },
          { Field: 'Order', Value: String(i) },
        ]),
      },
    });
    await send({ From: { EmailAddress: 'Bob@News.example' }, Subject: 'Weekly news', To: to('a1@sink.test') });
    // Until every recipient has its outcome (tempfail: deferred).
    for (let i = 0; i < 400; i++) {
      facts = await recipientFacts(t.db, serverId);
      if (facts.length === 10 && facts.every((f) => !['queued', 'delivering'].includes(f.status))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(facts.map((f) => f.status).sort()).toEqual([
      'deferred',
      'delivered',
      'delivered',
      'delivered',
      'delivered',
      'delivered',
      'delivered',
      'delivered',
      'failed',
      'suppressed',
    ]);
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('no filter: every recipient, newest first, pages that add up to the whole list', async () => {
    const { rows, totals } = await allPages({}, 3);
    expect(totals.every((n) => n === 10)).toBe(true);
    expect(rows).toEqual(expected(facts, () => true));
  });

  it.each([
    ['toEmailAddress (any case)', { toEmailAddress: 'A1@SINK.test' }, (f: RecipientFact) => f.address.toLowerCase() === 'a1@sink.test'],
    ['toEmailAddress of a merge row', { toEmailAddress: 'd3@sink.test' }, (f: RecipientFact) => f.address === 'D3@Sink.test'],
    ['fromEmailAddress (any case)', { fromEmailAddress: 'bob@news.example' }, (f: RecipientFact) => f.from_address.toLowerCase() === 'bob@news.example'],
    ['subject substring, % taken literally', { subject: '%' }, (f: RecipientFact) => f.subject.includes('%')],
    ['subject substring, _ taken literally', { subject: 'g_s' }, (f: RecipientFact) => f.subject.includes('g_s')],
    ['subject substring, any case', { subject: 'WEEKLY' }, (f: RecipientFact) => f.subject.toLowerCase().includes('weekly')],
    ['mailingId', { mailingId: 'spring' }, (f: RecipientFact) => f.mailing_id === 'spring'],
    ["messageId (the customer's)", { messageId: 'cust-3' }, (f: RecipientFact) => f.custom_message_id === 'cust-3'],
    ['status Delivered', { status: 'Delivered' }, (f: RecipientFact) => f.status === 'delivered'],
    ['status Failed', { status: 'Failed' }, (f: RecipientFact) => f.status === 'failed'],
    ['status Deferred', { status: 'Deferred' }, (f: RecipientFact) => f.status === 'deferred'],
    ['status Suppressed', { status: 'Suppressed' }, (f: RecipientFact) => f.status === 'suppressed'],
    ['two filters together', { mailingId: 'spring', status: 'Delivered' }, (f: RecipientFact) => f.mailing_id === 'spring' && f.status === 'delivered'],
  ])('filter: %s', async (_name, q, keep) => {
    const want = expected(facts, keep);
    expect(want.length).toBeGreaterThan(0);
    const r = await search(q);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ data: want, total: want.length });
  });

  it("filter: messageId (Postline's own) gives all of that message's recipients", async () => {
    const merge = facts.find((f) => f.address === 'd1@sink.test')!.message_id;
    const want = expected(facts, (f) => f.message_id === merge);
    expect(want).toHaveLength(3);
    expect((await search({ messageId: merge })).body).toEqual({ data: want, total: 3 });
  });

  it('filter: startDate/endDate select by queued time, [start, end)', async () => {
    const times = [...new Set(facts.map((f) => f.created_at))].sort((a, b) => a - b);
    expect(times.length).toBeGreaterThan(2);
    const [start, end] = [times[1]!, times[times.length - 1]!];
    const want = expected(facts, (f) => f.created_at >= start && f.created_at < end);
    const r = await search({ startDate: new Date(start).toISOString(), endDate: new Date(end).toISOString(), pageSize: 100 });
    expect(r.body).toEqual({ data: want, total: want.length });
    // A date alone: that whole UTC day (today's messages all fall in it).
    const day = new Date(times[0]!).toISOString().slice(0, 10);
    expect((await search({ startDate: day, endDate: day })).body.total).toBe(facts.filter((f) => new Date(f.created_at).toISOString().startsWith(day)).length);
    expect((await search({ endDate: '2001-01-01' })).body).toEqual({ data: [], total: 0 });
  });

  it.each(
    ['queuedTime', 'to', 'from', 'subject', 'status', 'statusDate'].flatMap(
      (s) =>
        [
          [s, 'asc'],
          [s, 'dsc'],
        ] as const,
    ),
  )('sort %s %s, paged', async (sortField, sortDirection) => {
    const { rows } = await allPages({ sortField, sortDirection }, 4);
    expect(rows).toEqual(expected(facts, () => true, sortField, sortDirection));
  });

  it('countLimit: counts at most that many, total then a lower bound (totalExact false); the rows are the same', async () => {
    const all = await search({ pageSize: 3 });
    const capped = await search({ pageSize: 3, countLimit: 4 });
    expect(capped.status, capped.text).toBe(200);
    expect(capped.body).toEqual({ data: all.body.data, total: 4, totalExact: false });
    expect((await search({ pageSize: 3, countLimit: 10 })).body).toEqual({ data: all.body.data, total: 10, totalExact: true });
    // Without countLimit the answer is SocketLabs' envelope, {data, total}, as before.
    expect(Object.keys(all.body).sort()).toEqual(['data', 'total']);
    // The last page is counted exactly whatever the cap: it is not full.
    expect((await search({ pageSize: 4, pageNumber: 2, countLimit: 1 })).body).toMatchObject({ total: 10, totalExact: true });
  });

  it('a page past the end is empty with the total', async () => {
    expect((await search({ pageSize: 5, pageNumber: 7 })).body).toEqual({ data: [], total: 10 });
  });

  it('format=csv: the same rows as JSON for the same query, header first', async () => {
    const queries: Record<string, string>[] = [{}, { mailingId: 'spring', sortField: 'to', sortDirection: 'asc' }, { subject: 'news', sortField: 'subject' }];
    for (const q of queries) {
      const json = await allPages(q, 100);
      const res = await fetch(`${t.url}/api/v2/servers/${serverId}/reports/recipient-search?${new URLSearchParams({ ...q, format: 'csv' })}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const [header, ...rows] = parseCsv(await res.text());
      expect(header).toEqual(['queuedTime', 'to', 'from', 'subject', 'status', 'statusDate', 'messageId', 'customMessageId', 'mailingId', 'recipientId']);
      expect(
        rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] === '' && (h === 'customMessageId' || h === 'mailingId') ? null : r[i]]))),
      ).toEqual(json.rows);
    }
  });

  it.each([
    [{ pageSize: 101 }, 'validation_failed', 'pageSize'],
    [{ pageNumber: -1 }, 'validation_failed', 'pageNumber'],
    [{ countLimit: 0 }, 'validation_failed', 'countLimit'],
    [{ countLimit: 1_000_001 }, 'validation_failed', 'countLimit'],
    [{ countLimit: 'many' }, 'validation_failed', 'countLimit'],
    [{ sortField: 'address' }, 'validation_failed', 'sortField'],
    [{ sortDirection: 'up' }, 'validation_failed', 'sortDirection'],
    [{ status: 'Bounced' }, 'validation_failed', 'status'],
    [{ toEmailAddress: 'not an address' }, 'validation_failed', 'toEmailAddress'],
    [{ startDate: '2025-13-01' }, 'validation_failed', 'startDate'],
    [{ startDate: '2025-02-30' }, 'validation_failed', 'startDate'],
    [{ endDate: '2025-11-04T10:00:00' }, 'validation_failed', 'endDate'],
    [{ startDate: '2025-11-05', endDate: '2025-11-03' }, 'validation_failed', 'endDate'],
    [{ format: 'xml' }, 'validation_failed', 'format'],
    [{ pagesize: 10 }, 'unknown_field', 'pagesize'],
  ])('bad input %j: 400 %s naming %s, and nothing written', async (q, code, field) => {
    const before = await query<{ n: number }>(t.db, 'SELECT count(*) AS n FROM events');
    const r = await search(q as Record<string, string | number>);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code, field });
    expect(r.body.error.message.length).toBeGreaterThan(0);
    expect(await query<{ n: number }>(t.db, 'SELECT count(*) AS n FROM events')).toEqual(before);
  });

  it("no key: 401; another tenant's key: 403 and none of this server's rows", async () => {
    expect((await search({}, null)).status).toBe(401);
    const other = await createTenant(t.store);
    const r = await search({}, other.managementKey);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('wrong_server');
    // Its own server's search shows nothing of this one.
    const own = await v2<{ data: Row[]; total: number }>(t, 'GET', `/servers/${other.serverId}/reports/recipient-search`, { key: other.managementKey });
    expect(own.body).toEqual({ data: [], total: 0 });
  });
});
