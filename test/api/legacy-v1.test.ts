import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { inject, startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createAccountKey, createKey, createTenant } from '../helpers/api-v2.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { parseCsv, query } from '../reports/sql.js';

/**
 * The legacy v1 Reporting and Suppression API through real HTTP: messages injected and delivered
 * to the SMTP sink (delivered, refused, suppressed), tracking and complaint events appended at
 * known times; every expected record is computed here from the events table read behind the
 * store's back.
 */
type Rec = Record<string, string | number | boolean | null>;
interface List {
  timestamp: number;
  totalCount: number;
  totalPages: number;
  count: number;
  collection: Rec[];
}
interface V1Err {
  timestamp: number;
  result: string;
  message: string;
  parameter?: string;
}
interface EventFact {
  id: number;
  type: string;
  occurred_at: number;
  data: string | null;
  message_id: string;
  address: string;
  mailing_id: string | null;
  custom_message_id: string | null;
  from_address: string;
  size_bytes: number;
}

const T_OPEN = Date.UTC(2025, 2, 10, 12, 0, 0);
const T_CLICK = Date.UTC(2025, 2, 11, 2, 30, 0);
const T_COMPLAINT = Date.UTC(2025, 2, 12, 8, 0, 0);

describe(`legacy v1 API (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let serverId: number;
  let key: string;
  const basic = (k: string, user = 'someone') => `Basic ${Buffer.from(`${user}:${k}`).toString('base64')}`;

  async function v1(method: string, path: string, q: Record<string, string | number> = {}, auth: string | null = basic(key)) {
    const url = new URL(`${t.url}/v1/${path}`);
    for (const [k, v] of Object.entries(q)) url.searchParams.append(k, String(v));
    const res = await fetch(url, { method, headers: auth === null ? {} : { authorization: auth } });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').startsWith('application/json') ? (JSON.parse(text) as unknown) : null;
    return { status: res.status, headers: res.headers, text, json };
  }
  const list = async (method: string, q: Record<string, string | number> = {}) => {
    const r = await v1('GET', method, { serverId, type: 'JSON', ...q });
    expect(r.status, r.text).toBe(200);
    return r.json as List;
  };

  async function eventFacts(type: string): Promise<EventFact[]> {
    const rows = await query<EventFact>(
      t.db,
      `SELECT e.id, e.type, e.occurred_at, e.data, e.message_id, r.address, r.mailing_id, r.custom_message_id,
      m.from_address, m.size_bytes FROM events e JOIN recipients r ON r.id = e.recipient_id JOIN messages m ON m.id = e.message_id
      WHERE e.server_id = ? AND e.type = ?`,
      [serverId, type],
    );
    return rows
      .map((r) => ({ ...r, id: Number(r.id), occurred_at: Number(r.occurred_at), size_bytes: Number(r.size_bytes) }))
      .sort((a, b) => a.occurred_at - b.occurred_at || a.id - b.id);
  }
  const common = (f: EventFact, tz = 0): Rec => ({
    ServerId: serverId,
    DateTime: f.occurred_at + tz * 60_000,
    MessageId: f.custom_message_id ?? f.message_id,
    MailingId: f.mailing_id,
    ToAddress: f.address,
    FromAddress: f.from_address,
  });
  const dataOf = (f: EventFact) => JSON.parse(f.data ?? '{}') as Record<string, string | number>;
  const EXPECTED: Record<string, { type: string; rec: (f: EventFact) => Rec }> = {
    messagesFailed: {
      type: 'Failed',
      rec: (f) => ({ ...common(f), FailureType: dataOf(f).FailureType!, FailureCode: dataOf(f).FailureCode ?? null, Reason: dataOf(f).Reason! }),
    },
    messagesQueued: { type: 'Queued', rec: (f) => ({ ...common(f), MessageSize: f.size_bytes, FailureCode: null, Reason: null }) },
    messagesProcessed: {
      type: 'Delivered',
      rec: (f) => ({ ...common(f), Disposition: 0, LocalIp: dataOf(f).LocalIp ?? null, MessageSize: f.size_bytes, Response: dataOf(f).Response! }),
    },
    messagesFblReported: {
      type: 'Complaint',
      rec: (f) => ({ ...common(f), OriginalRecipient: f.address, Type: dataOf(f).FblType!, UserAgent: dataOf(f).UserAgent! }),
    },
    messagesOpenClick: { type: 'Tracking', rec: (f) => ({ ...common(f), OriginalRecipient: f.address, EventType: dataOf(f).TrackingType! }) },
  };

  async function settled(expected: number) {
    for (let i = 0; i < 400; i++) {
      const rows = await query<{ status: string }>(t.db, 'SELECT status FROM recipients WHERE server_id = ?', [serverId]);
      if (rows.length === expected && rows.every((r) => !['queued', 'delivering'].includes(r.status))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('recipients did not settle');
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startAppDeliveringToSink(sink, { pollMs: 50, retrySchedule: [3_600_000] });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    await t.store.suppressions.add(serverId, [{ address: 'listed@sink.test', reason: 'Unsubscribe' }], Date.now());
    const send = async (m: Record<string, unknown>) => {
      const r = await inject(t, {
        ServerId: serverId,
        ApiKey: t.credentials.apiKey,
        Messages: [{ TextBody: 'Hello', Subject: 'Hi', From: { EmailAddress: 'news@shop.example' }, ...m }],
      });
      expect(r.body.ErrorCode, r.text).toBe('Success');
    };
    const to = (...a: string[]) => a.map((EmailAddress) => ({ EmailAddress }));
    await send({ MailingId: 'spring', MessageId: 'cust-1', To: to('a1@sink.test', 'permfail1@sink.test') });
    await send({ MailingId: 'weekly', To: to('b1@sink.test', 'listed@sink.test') });
    await send({ To: to('c1@sink.test', 'permfail2@sink.test', 'c2@sink.test') });
    await settled(7);
    // Engagement and a complaint at known times, about recipients that were delivered.
    const [a1] = await query<{ id: string; message_id: string }>(t.db, "SELECT id, message_id FROM recipients WHERE address = 'a1@sink.test'");
    const [b1] = await query<{ id: string; message_id: string }>(t.db, "SELECT id, message_id FROM recipients WHERE address = 'b1@sink.test'");
    await t.store.events.append([
      {
        serverId,
        messageId: a1!.message_id,
        recipientId: a1!.id,
        type: 'Tracking',
        occurredAt: T_OPEN,
        data: { TrackingType: 1, UserAgent: 'Mail/1.0', ClientIp: '203.0.113.9' },
      },
      {
        serverId,
        messageId: a1!.message_id,
        recipientId: a1!.id,
        type: 'Tracking',
        occurredAt: T_CLICK,
        data: { TrackingType: 0, UserAgent: 'Mail/1.0', ClientIp: '203.0.113.9', Url: 'https://shop.example/x' },
      },
      {
        serverId,
        messageId: b1!.message_id,
        recipientId: b1!.id,
        type: 'Complaint',
        occurredAt: T_COMPLAINT,
        data: { FblType: 'abuse', UserAgent: 'Yahoo!-Mail-Feedback/2.0', From: 'news@shop.example', To: 'b1@sink.test', Length: 1234 },
      },
    ]);
  }, 30_000);

  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it.each(Object.keys(EXPECTED))('%s lists its events oldest first with SocketLabs fields (JSON)', async (method) => {
    const e = EXPECTED[method]!;
    const facts = await eventFacts(e.type);
    expect(facts.length).toBeGreaterThan(0);
    const body = await list(method);
    expect(Object.keys(body)).toEqual(['timestamp', 'totalCount', 'totalPages', 'count', 'collection']);
    expect(body.totalCount).toBe(facts.length);
    expect(body.count).toBe(facts.length);
    expect(body.totalPages).toBe(1);
    expect(body.collection).toEqual(facts.map(e.rec));
    // Key order as SocketLabs' records: the common fields first.
    expect(Object.keys(body.collection[0]!)).toEqual(Object.keys(e.rec(facts[0]!)));
  });

  it('messagesFailed tells a refused recipient (1) from a suppressed one (2)', async () => {
    const body = await list('messagesFailed');
    const byAddress = new Map(body.collection.map((r) => [r.ToAddress, r]));
    expect(byAddress.get('permfail1@sink.test')).toMatchObject({ FailureType: 1, MailingId: 'spring', MessageId: 'cust-1', FromAddress: 'news@shop.example' });
    expect(byAddress.get('listed@sink.test')).toMatchObject({ FailureType: 2, FailureCode: 9999, MailingId: 'weekly' });
  });

  it('XML has the JSON shape under <response>, records as collection/item', async () => {
    const json = await list('messagesFailed');
    const r = await v1('GET', 'messagesFailed', { serverId, type: 'xml' });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/xml/);
    const doc = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'item' }).parse(r.text) as {
      response: Record<string, unknown> & { collection: { item: Record<string, string>[] } };
    };
    expect(Object.keys(doc.response)).toEqual(['timestamp', 'totalCount', 'totalPages', 'count', 'collection']);
    expect(doc.response.totalCount).toBe(String(json.totalCount));
    expect(doc.response.collection.item).toEqual(
      json.collection.map((rec) => Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, v === null ? '' : String(v)]))),
    );
  });

  it.each(Object.keys(EXPECTED))('%s in XML, CSV and JSONP says what its JSON says', async (method) => {
    const json = await list(method);
    const asText = (rec: Rec) => Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, v === null ? '' : String(v)]));
    const xml = await v1('GET', method, { serverId, type: 'XML' });
    expect(xml.headers.get('content-type')).toMatch(/^application\/xml/);
    const doc = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'item' }).parse(xml.text) as {
      response: Record<string, unknown> & { collection: { item: Record<string, string>[] } };
    };
    expect({ ...doc.response, timestamp: '' }).toEqual({
      timestamp: '',
      totalCount: String(json.totalCount),
      totalPages: String(json.totalPages),
      count: String(json.count),
      collection: { item: json.collection.map(asText) },
    });
    const csv = await v1('GET', method, { serverId, type: 'csv' });
    const [header, ...rows] = parseCsv(csv.text);
    expect(header).toEqual(Object.keys(json.collection[0]!));
    expect(rows.map((r) => Object.fromEntries(header!.map((c, i) => [c, r[i]])))).toEqual(json.collection.map(asText));
    const jsonp = await v1('GET', method, { serverId, type: 'jsonp', callback: 'cb' });
    expect(jsonp.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect({ ...(JSON.parse(/^\/\*\*\/cb\((.*)\);$/s.exec(jsonp.text)![1]!) as List), timestamp: 0 }).toEqual({ ...json, timestamp: 0 });
  });

  it('XML of an empty list has an empty collection', async () => {
    const r = await v1('GET', 'messagesFblReported', { serverId, type: 'XML', mailingId: 'no-such-mailing' });
    const doc = new XMLParser({ parseTagValue: false }).parse(r.text) as { response: Record<string, string> };
    expect(doc.response).toMatchObject({ totalCount: '0', count: '0', collection: '' });
  });

  it('CSV is a header row of the record fields and a row per record', async () => {
    const json = await list('messagesProcessed');
    const r = await v1('GET', 'messagesProcessed', { serverId, type: 'CSV' });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(r.text);
    expect(header).toEqual(['ServerId', 'DateTime', 'MessageId', 'MailingId', 'ToAddress', 'FromAddress', 'Disposition', 'LocalIp', 'MessageSize', 'Response']);
    expect(rows).toEqual(json.collection.map((rec) => header!.map((c) => (rec[c] === null ? '' : String(rec[c])))));
  });

  it('JSONP wraps the JSON answer in the callback', async () => {
    const json = await list('messagesOpenClick');
    const r = await v1('GET', 'messagesOpenClick', { serverId, type: 'JSONP', callback: 'jQuery1_2.done' });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/javascript/);
    const m = /^\/\*\*\/jQuery1_2\.done\((.*)\);$/s.exec(r.text);
    expect(m, r.text).not.toBeNull();
    expect({ ...(JSON.parse(m![1]!) as List), timestamp: 0 }).toEqual({ ...json, timestamp: 0 });
  });

  it('pages with count and index; totalCount is the whole result', async () => {
    const all = await list('messagesQueued');
    // Seven recipients, one suppressed at accept (no Queued event).
    expect(all.totalCount).toBe((await eventFacts('Queued')).length);
    expect(all.totalCount).toBe(6);
    const pages: Rec[] = [];
    for (let index = 0; index < all.totalCount; index += 4) {
      const p = await list('messagesQueued', { count: 4, index });
      expect(p.totalCount).toBe(6);
      expect(p.totalPages).toBe(2);
      expect(p.count).toBe(Math.min(4, 6 - index));
      pages.push(...p.collection);
    }
    expect(pages).toEqual(all.collection);
    expect((await list('messagesQueued', { count: 3, index: 1 })).collection).toEqual(all.collection.slice(1, 4));
    expect(await list('messagesQueued', { count: 2, index: 6 })).toMatchObject({ totalCount: 6, count: 0, collection: [] });
    // count=0: the total alone, as monitoring scripts ask for it.
    expect(await list('messagesQueued', { count: 0 })).toMatchObject({ totalCount: 6, totalPages: 0, count: 0, collection: [] });
  });

  it("filters by mailingId and by messageId (the customer's or Postline's)", async () => {
    const spring = await list('messagesQueued', { mailingId: 'spring' });
    expect(spring.collection.map((r) => r.ToAddress).sort()).toEqual(['a1@sink.test', 'permfail1@sink.test']);
    expect((await list('messagesQueued', { messageId: 'cust-1' })).totalCount).toBe(2);
    const [c1] = await query<{ message_id: string }>(t.db, "SELECT message_id FROM recipients WHERE address = 'c1@sink.test'");
    const own = await list('messagesQueued', { messageId: c1!.message_id });
    expect(own.collection.map((r) => r.ToAddress).sort()).toEqual(['c1@sink.test', 'c2@sink.test', 'permfail2@sink.test']);
  });

  it('dates are read and written in the timeZone offset; endDate is included', async () => {
    // T_CLICK is 2025-03-11 02:30 UTC: 2025-03-10 20:30 at UTC-6.
    const local = await list('messagesOpenClick', { startDate: '2025-03-10 20:00:00', endDate: '2025-03-10 20:30:00', timeZone: -360 });
    expect(local.collection).toHaveLength(1);
    expect(local.collection[0]).toMatchObject({ EventType: 0, DateTime: T_CLICK - 360 * 60_000 });
    // The same wall-clock range in UTC holds nothing; a whole UTC day holds the open only.
    expect((await list('messagesOpenClick', { startDate: '2025-03-10 20:00:00', endDate: '2025-03-10 20:30:00' })).totalCount).toBe(0);
    const day = await list('messagesOpenClick', { startDate: '2025-03-10', endDate: '2025-03-10 23:59:59' });
    expect(day.collection.map((r) => [r.EventType, r.DateTime])).toEqual([[1, T_OPEN]]);
    // An endDate one second before the event leaves it out.
    expect((await list('messagesOpenClick', { startDate: '2025-03-10 20:00:00', endDate: '2025-03-10 20:29:59', timeZone: -360 })).totalCount).toBe(0);
  });

  it("reads parameters in any case, takes accountId for serverId and ignores other methods' parameters", async () => {
    const r = await v1('GET', 'messagesFblReported', { serverid: serverId, TYPE: 'json', disposition: 0, sortDirection: 'desc', count: '', index: '' });
    expect(r.status, r.text).toBe(200);
    expect((r.json as List).totalCount).toBe(1);
    const old = await v1('GET', 'messagesFblReported', { accountId: serverId, type: 'json' });
    expect((old.json as List).collection[0]).toMatchObject({ AccountId: serverId, OriginalRecipient: 'b1@sink.test', Type: 'abuse', DateTime: T_COMPLAINT });
    expect(Object.keys((old.json as List).collection[0]!)[0]).toBe('AccountId');
  });

  it("accountData gives this month's figures in one object", async () => {
    const r = await v1('GET', 'accountData', { serverId, type: 'JSON' });
    expect(r.status, r.text).toBe(200);
    const body = r.json as { timestamp: number; object: Rec };
    const now = new Date();
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const [queued] = await query<{ n: number }>(t.db, "SELECT count(*) AS n FROM events WHERE server_id = ? AND type = 'Queued' AND occurred_at >= ?", [
      serverId,
      monthStart,
    ]);
    expect(body.object).toMatchObject({
      ServerId: serverId,
      BillingPeriodStart: monthStart,
      PlanBillingPeriodStart: monthStart,
      BillingPeriodEnd: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - 1000,
      BillingPeriodMessageCount: Number(queued!.n),
      MessageAllowance: null,
      IsOverMessageAllowance: false,
    });
    const asText = Object.fromEntries(Object.entries(body.object).map(([k, v]) => [k, v === null ? '' : String(v)]));
    const xml = await v1('GET', 'accountData', { serverId, type: 'XML' });
    const doc = new XMLParser({ parseTagValue: false }).parse(xml.text) as { response: { object: Record<string, string> } };
    expect(doc.response.object).toEqual(asText);
    const [header, row] = parseCsv((await v1('GET', 'accountData', { serverId, type: 'CSV' })).text);
    expect(Object.fromEntries(header!.map((c, i) => [c, row![i]]))).toEqual(asText);
    const jsonp = await v1('GET', 'accountData', { serverId, type: 'JSONP', callback: 'show' });
    expect((JSON.parse(/^\/\*\*\/show\((.*)\);$/s.exec(jsonp.text)![1]!) as { object: Rec }).object).toEqual(body.object);
  });

  it('an event its producer wrote wrong is left out of the records (and logged), not an error', async () => {
    const [c1] = await query<{ id: string; message_id: string }>(t.db, "SELECT id, message_id FROM recipients WHERE address = 'c1@sink.test'");
    const at = Date.UTC(2020, 0, 1, 12);
    await t.store.events.append([
      {
        serverId,
        messageId: c1!.message_id,
        recipientId: c1!.id,
        type: 'Tracking',
        occurredAt: at,
        data: { TrackingType: 7, UserAgent: 'x', ClientIp: '203.0.113.1' },
      },
      {
        serverId,
        messageId: c1!.message_id,
        recipientId: c1!.id,
        type: 'Tracking',
        occurredAt: at + 1000,
        data: { TrackingType: 1, UserAgent: 'x', ClientIp: '203.0.113.1' },
      },
      // About the whole message, no recipient: not a record of any list.
      {
        serverId,
        messageId: c1!.message_id,
        recipientId: null,
        type: 'Tracking',
        occurredAt: at + 2000,
        data: { TrackingType: 1, UserAgent: 'x', ClientIp: '203.0.113.1' },
      },
    ]);
    const r = await list('messagesOpenClick', { startDate: '2020-01-01', endDate: '2020-01-01 23:59:59' });
    expect(r.totalCount).toBe(2);
    expect(r.collection.map((x) => [x.ToAddress, x.EventType, x.DateTime])).toEqual([['c1@sink.test', 1, at + 1000]]);
    expect(r.count).toBe(1);
  });

  it('the OpenAPI document describes every /v1 route (Basic, its parameters, its formats)', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            tags: string[];
            summary: string;
            security: unknown;
            parameters: { name: string }[];
            responses: Record<string, { content?: Record<string, unknown> }>;
          }
        >
      >;
    };
    const v1 = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(v1.sort()).toEqual([
      'DELETE /v1/suppressions',
      'GET /v1/accountData',
      'GET /v1/messagesFailed',
      'GET /v1/messagesFblReported',
      'GET /v1/messagesOpenClick',
      'GET /v1/messagesProcessed',
      'GET /v1/messagesQueued',
      'GET /v1/suppressions',
      'POST /v1/suppressions',
    ]);
    const op = doc.paths['/v1/messagesFailed']!.get!;
    expect(op).toMatchObject({ tags: ['legacy-v1'], security: [{ basic: [] }] });
    expect(op.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['serverId', 'type', 'count', 'index', 'startDate', 'endDate', 'timeZone', 'mailingId', 'messageId']),
    );
    expect(Object.keys(op.responses['200']!.content!).sort()).toEqual(['application/javascript', 'application/json', 'application/xml', 'text/csv']);
    expect(op.responses['4XX'] ?? op.responses['4xx']).toBeDefined();
  });

  describe('suppressions', () => {
    const suppressionRows = (sid: number, address: string) =>
      query<{ reason: string }>(t.db, 'SELECT reason FROM suppressions WHERE server_id = ? AND address = ?', [sid, address]);

    it('add, look up and remove one address; an added address is not delivered to', async () => {
      const q = { serverId, emailAddress: 'Later@Sink.test', type: 'JSON' };
      expect((await v1('GET', 'suppressions', q)).json).toMatchObject({
        object: { ServerId: serverId, EmailAddress: 'later@sink.test', Suppressed: false, Reason: null },
      });
      const added = await v1('POST', 'suppressions', q);
      expect(added.status, added.text).toBe(200);
      expect(added.json).toMatchObject({ object: { EmailAddress: 'later@sink.test', Suppressed: true, Reason: 'CustomerRequest' } });
      expect(await suppressionRows(serverId, 'later@sink.test')).toEqual([{ reason: 'CustomerRequest' }]);
      expect((await v1('GET', 'suppressions', q)).json).toMatchObject({ object: { Suppressed: true, Reason: 'CustomerRequest' } });

      const r = await inject(t, {
        ServerId: serverId,
        ApiKey: t.credentials.apiKey,
        Messages: [{ TextBody: 'x', Subject: 'x', From: { EmailAddress: 'news@shop.example' }, To: [{ EmailAddress: 'later@sink.test' }] }],
      });
      expect(r.body.ErrorCode, r.text).toBe('Success');
      let status = '';
      for (let i = 0; i < 200 && status !== 'suppressed'; i++) {
        [{ status }] = [...(await query<{ status: string }>(t.db, "SELECT status FROM recipients WHERE address = 'later@sink.test'")), { status: '' }];
        await new Promise((res) => setTimeout(res, 25));
      }
      expect(status).toBe('suppressed');
      expect(sink.messages.some((m) => m.rcptTo.includes('later@sink.test'))).toBe(false);

      const removed = await v1('DELETE', 'suppressions', q);
      expect(removed.json).toMatchObject({ object: { EmailAddress: 'later@sink.test', Suppressed: false, Removed: true } });
      expect(await suppressionRows(serverId, 'later@sink.test')).toEqual([]);
      expect((await v1('DELETE', 'suppressions', q)).json).toMatchObject({ object: { Removed: false } });
    });

    it('answers in XML and CSV too', async () => {
      const xml = await v1('GET', 'suppressions', { serverId, emailAddress: 'listed@sink.test', type: 'XML' });
      const doc = new XMLParser({ parseTagValue: false }).parse(xml.text) as { response: { object: Record<string, string> } };
      expect(doc.response.object).toMatchObject({ ServerId: String(serverId), EmailAddress: 'listed@sink.test', Suppressed: 'true', Reason: 'Unsubscribe' });
      const csv = parseCsv((await v1('GET', 'suppressions', { serverId, emailAddress: 'listed@sink.test', type: 'CSV' })).text);
      expect(csv[0]).toEqual(['ServerId', 'EmailAddress', 'Suppressed', 'Reason', 'Detail', 'DateTime']);
      expect(csv[1]!.slice(0, 4)).toEqual([String(serverId), 'listed@sink.test', 'true', 'Unsubscribe']);
    });

    it('refuses a bad or missing address, writing nothing', async () => {
      const before = await query<{ n: number }>(t.db, 'SELECT count(*) AS n FROM suppressions');
      for (const emailAddress of ['not-an-address', '']) {
        const r = await v1('POST', 'suppressions', { serverId, emailAddress });
        expect(r.status, r.text).toBe(400);
        expect(r.json).toMatchObject({ result: 'InvalidParameter', parameter: 'emailAddress' });
      }
      expect(await query<{ n: number }>(t.db, 'SELECT count(*) AS n FROM suppressions')).toEqual(before);
    });

    it("refuses another tenant's server, writing nothing", async () => {
      const other = await createTenant(t.store, 'Stranger');
      const r = await v1('POST', 'suppressions', { serverId: other.serverId, emailAddress: 'x@sink.test' });
      expect(r.status, r.text).toBe(403);
      expect(r.json).toMatchObject({ result: 'Forbidden' });
      expect(await suppressionRows(other.serverId, 'x@sink.test')).toEqual([]);
      const theirs = await v1('POST', 'suppressions', { serverId, emailAddress: 'x@sink.test' }, basic(other.managementKey));
      expect(theirs.status).toBe(403);
      expect(await suppressionRows(serverId, 'x@sink.test')).toEqual([]);
    });
  });

  describe('authentication', () => {
    it('401 with a Basic challenge without credentials or with a bad key', async () => {
      // The key with its last character changed (to another one: a key may end in 'x').
      const wrongSecret = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
      for (const auth of [null, basic('nope'), `Bearer ${key}`, basic(wrongSecret)]) {
        const r = await v1('GET', 'messagesFailed', { serverId }, auth);
        expect(r.status, r.text).toBe(401);
        expect(r.headers.get('www-authenticate')).toBe('Basic realm="SocketLabsMarketingAPI"');
        expect(r.json).toMatchObject({ result: 'Unauthorized' });
      }
    });

    it('a challenge-first client (no credentials until the 401) is never throttled for it', async () => {
      for (let i = 0; i < 25; i++) expect((await v1('GET', 'messagesFailed', { serverId }, null)).status).toBe(401);
      expect((await v1('GET', 'messagesFailed', { serverId })).status).toBe(200);
    });

    it("takes an account key of the server's account; refuses an injection key (403)", async () => {
      const account = await query<{ account_id: number }>(t.db, 'SELECT account_id FROM servers WHERE id = ?', [serverId]);
      const accountKey = (await createAccountKey(t.store, Number(account[0]!.account_id))).key;
      expect((await v1('GET', 'messagesFailed', { serverId }, basic(accountKey, 'admin@example.com'))).status).toBe(200);
      const r = await v1('GET', 'messagesFailed', { serverId }, basic(t.credentials.apiKey));
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ result: 'Forbidden' });
    });
  });

  describe('bad input', () => {
    const cases: [string, Record<string, string | number>, string][] = [
      ['count over 500', { count: 501 }, 'count'],
      ['count not a number', { count: 'ten' }, 'count'],
      ['negative index', { index: -1 }, 'index'],
      ['a date that is not one', { startDate: '2025-02-30' }, 'startDate'],
      ['a date in another format', { endDate: '03/10/2025' }, 'endDate'],
      ['endDate before startDate', { startDate: '2025-03-10', endDate: '2025-03-09' }, 'endDate'],
      ['an unknown type', { type: 'YAML' }, 'type'],
      ['JSONP without a callback', { type: 'JSONP' }, 'callback'],
      ['JSONP with a callback that is code', { type: 'JSONP', callback: 'alert(1)' }, 'callback'],
      ['a timeZone that is no offset', { timeZone: 'CET' }, 'timeZone'],
    ];
    it.each(cases)('%s: 400 naming the parameter', async (_name, q, parameter) => {
      const r = await v1('GET', 'messagesFailed', { serverId, ...q });
      expect(r.status, r.text).toBe(400);
      expect(r.json).toMatchObject({ result: 'InvalidParameter', parameter });
      expect((r.json as V1Err).message.length).toBeGreaterThan(10);
    });

    it('missing serverId: 400 with a live key, 401 without one', async () => {
      const r = await v1('GET', 'messagesFailed', { type: 'JSON' });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ result: 'InvalidParameter', parameter: 'serverId' });
      expect((await v1('GET', 'messagesFailed', { type: 'JSON' }, basic('nope'))).status).toBe(401);
    });

    it("another tenant's server: 403", async () => {
      const other = await createTenant(t.store, 'Other');
      const r = await v1('GET', 'messagesFailed', { serverId: other.serverId });
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ result: 'Forbidden' });
    });

    it('an error asked for as XML is XML', async () => {
      const r = await v1('GET', 'messagesFailed', { serverId, type: 'xml', count: 501 });
      expect(r.status).toBe(400);
      const doc = new XMLParser({ parseTagValue: false }).parse(r.text) as { response: Record<string, string> };
      expect(doc.response).toMatchObject({ result: 'InvalidParameter', parameter: 'count' });
    });

    it('an error asked for as JSONP is a call of the callback', async () => {
      const r = await v1('GET', 'messagesFailed', { serverId, type: 'JSONP', callback: 'onData', count: 501 });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/javascript/);
      expect(JSON.parse(/^\/\*\*\/onData\((.*)\);$/s.exec(r.text)![1]!)).toMatchObject({ result: 'InvalidParameter', parameter: 'count' });
    });

    it("an unknown route or method answers in this API's shape", async () => {
      for (const [method, path] of [
        ['GET', 'messagesDelivered'],
        ['PUT', 'suppressions'],
        ['GET', 'nope/deeper'],
      ] as const) {
        const r = await v1(method, path, { serverId });
        expect(r.status, r.text).toBe(404);
        expect(r.json).toMatchObject({ result: 'NotFound' });
      }
    });
  });

  // Last: it blocks this client for the rest of the window.
  it('wrong keys from one client are throttled (429), then even a right key waits', async () => {
    let last = 0;
    for (let i = 0; i < 25 && last !== 429; i++) last = (await v1('GET', 'messagesFailed', { serverId }, basic('wrong-key'))).status;
    expect(last).toBe(429);
    const r = await v1('GET', 'messagesFailed', { serverId });
    expect(r.status).toBe(429);
    expect(r.json).toMatchObject({ result: 'TooManyRequests' });
    expect(r.headers.get('retry-after')).toBe('60');
  });
});
