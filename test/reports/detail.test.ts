import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { query } from './sql.js';

interface DetailEvent {
  type: string;
  time: string;
  eventId: string;
  recipientId: string | null;
  smtpReply: string | null;
  remoteMta: string | null;
  failureCode: number | null;
  failureType: number | null;
  failureDescription: string | null;
  explanation: string | null;
}
interface Detail {
  to: string;
  status: string;
  messageId: string;
  recipientId: string;
  attempts: number;
  lastReply: string | null;
  mx: string | null;
  failureCode: number | null;
  failureDescription: string | null;
  events: DetailEvent[];
  bodyRetained: boolean;
  rendered: string | null;
}

/**
 * Message detail through the real paths: a merge message injected through the Injection API and
 * delivered to the SMTP sink (one recipient refused permanently, one greylisted once then
 * accepted); the detail's events are compared with the events table, its SMTP replies with what
 * the sink answered, and its rendered message with what the sink received.
 */
describe(`message detail (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let key: string;
  let serverId: number;
  let messageId: string;
  const detail = (q: Record<string, string | number>, k: string | null = key) =>
    v2<{ data: Detail[]; total: number } & V2Error>(t, 'GET', `/servers/${serverId}/reports/messages/detail`, { key: k, query: q });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startAppDeliveringToSink(sink, { pollMs: 50, retrySchedule: [200] });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    const r = await inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          From: { EmailAddress: 'shop@example.com', FriendlyName: 'The Shop' },
          Subject: 'Order %%Order%% shipped',
          To: [],
          TextBody: 'Hello %%Name%%, order %%Order%% is on its way.',
          HtmlBody: '<p>Hello <b>%%Name%%</b>, order %%Order%%.</p>',
          MailingId: 'ship',
          MessageId: 'cust-9',
          MergeData: {
            PerMessage: [
              ['ok@sink.test', 'Ann', '1'],
              ['permfail@sink.test', 'Bo', '2'],
              ['tempfail-once@sink.test', 'Cy', '3'],
            ].map(([a, n, o]) => [
              { Field: 'DeliveryAddress', Value: a! },
              { Field: 'Name', Value: n! },
              { Field: 'Order', Value: o! },
            ]),
          },
        },
      ],
    });
    expect(r.body.ErrorCode, r.text).toBe('Success');
    messageId = (await query<{ id: string }>(t.db, 'SELECT id FROM messages'))[0]!.id;
    for (let i = 0; i < 400; i++) {
      const rows = await query<{ status: string }>(t.db, 'SELECT status FROM recipients');
      if (rows.every((x) => x.status === 'delivered' || x.status === 'failed')) break;
      await new Promise((res) => setTimeout(res, 50));
    }
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('by messageId: every recipient, each with its events in order, equal to the events table', async () => {
    const r = await detail({ messageId, sortField: 'to', sortDirection: 'asc' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.total).toBe(3);
    expect(r.body.data.map((d) => [d.to, d.status])).toEqual([
      ['ok@sink.test', 'Delivered'],
      ['permfail@sink.test', 'Failed'],
      ['tempfail-once@sink.test', 'Delivered'],
    ]);
    for (const d of r.body.data) {
      const rows = await query<{ uid: string; type: string; occurred_at: number }>(
        t.db,
        'SELECT uid, type, occurred_at FROM events WHERE recipient_id = ? ORDER BY occurred_at, id',
        [d.recipientId],
      );
      expect(d.events.map((e) => [e.eventId, e.type, e.time])).toEqual(rows.map((e) => [e.uid, e.type, new Date(Number(e.occurred_at)).toISOString()]));
    }
    const byTo = new Map(r.body.data.map((d) => [d.to, d]));
    expect(byTo.get('ok@sink.test')!.events.map((e) => e.type)).toEqual(['Queued', 'Delivered']);
    expect(byTo.get('permfail@sink.test')!.events.map((e) => e.type)).toEqual(['Queued', 'Failed']);
    expect(byTo.get('tempfail-once@sink.test')!.events.map((e) => e.type)).toEqual(['Queued', 'Deferred', 'Delivered']);
  });

  it("the SMTP replies are the sink's: 250 for delivered, the 550 and its FailureCode for the refused, the 451 for the deferral", async () => {
    const r = await detail({ messageId: 'cust-9' });
    const byTo = new Map(r.body.data.map((d) => [d.to, d]));
    const ok = byTo.get('ok@sink.test')!;
    expect(ok.events[1]!.smtpReply).toMatch(/^250 .*Ok: queued/);
    expect(ok.lastReply).toMatch(/^250 /);
    expect(ok.mx).toBe('127.0.0.1');
    const perm = byTo.get('permfail@sink.test')!;
    expect(perm.events[1]!.smtpReply).toContain('550 5.1.1');
    expect(perm.events[1]!).toMatchObject({ failureType: 1, failureCode: 2001 });
    expect(perm.failureCode).toBe(2001);
    // The code explained in words, on the recipient and on its Failed event, with the classifier's own explanation.
    expect(perm.failureDescription).toMatch(/does not exist/);
    expect(perm.events[1]!.failureDescription).toBe(perm.failureDescription);
    expect(perm.events[1]!.explanation).toEqual(expect.any(String));
    expect(ok.failureDescription).toBeNull();
    const temp = byTo.get('tempfail-once@sink.test')!;
    expect(temp.events[1]!.smtpReply).toContain('451 4.7.1');
    expect(temp.attempts).toBe(2);
  });

  it('the rendered message is what the sink received (headers, merged text and HTML), for each recipient', async () => {
    for (const to of ['ok@sink.test', 'tempfail-once@sink.test']) {
      const r = await detail({ toEmailAddress: to });
      expect(r.body.data).toHaveLength(1);
      const d = r.body.data[0]!;
      expect(d.bodyRetained).toBe(true);
      const rendered = await simpleParser(d.rendered!);
      const received = await simpleParser(sink.messages.find((m) => m.rcptTo.includes(to))!.data);
      expect(rendered.messageId).toBe(received.messageId);
      expect(rendered.subject).toBe(received.subject);
      expect(rendered.from?.text).toBe(received.from?.text);
      expect(rendered.to && 'text' in rendered.to ? rendered.to.text : null).toBe(received.to && 'text' in received.to ? received.to.text : null);
      expect(rendered.text).toBe(received.text);
      expect(rendered.html).toBe(received.html);
      expect(rendered.text).toContain(to === 'ok@sink.test' ? 'Hello Ann, order 1' : 'Hello Cy, order 3');
    }
  });

  it("by recipientId: that recipient only; unknown ids and another server's ids: nothing", async () => {
    const all = (await detail({ messageId })).body.data;
    const one = all.find((d) => d.to === 'permfail@sink.test')!;
    const r = await detail({ recipientId: one.recipientId });
    expect(r.body.total).toBe(1);
    // The rendered copy differs only in its random MIME boundaries from one render to the next.
    expect({ ...r.body.data[0], rendered: null }).toEqual({ ...one, rendered: null });
    expect(r.body.data[0]!.rendered).toContain('Hello Bo, order 2');
    expect((await detail({ recipientId: '01ZZZZZZZZZZZZZZZZZZZZZZZZ' })).body).toEqual({ data: [], total: 0 });
    const other = await createTenant(t.store);
    const foreign = await v2<{ data: Detail[]; total: number }>(t, 'GET', `/servers/${other.serverId}/reports/messages/detail`, {
      key: other.managementKey,
      query: { recipientId: one.recipientId },
    });
    expect(foreign.body).toEqual({ data: [], total: 0 });
  });

  it('the date-range form pages over recipients', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const first = await detail({ startDate: day, endDate: day, pageSize: 2, pageNumber: 0, sortField: 'to', sortDirection: 'dsc' });
    const second = await detail({ startDate: day, endDate: day, pageSize: 2, pageNumber: 1, sortField: 'to', sortDirection: 'dsc' });
    expect(first.body.total).toBe(3);
    expect([...first.body.data, ...second.body.data].map((d) => d.to)).toEqual(['tempfail-once@sink.test', 'permfail@sink.test', 'ok@sink.test']);
  });

  it.each([
    [{ pageSize: 0 }, 'validation_failed', 'pageSize'],
    [{ recipientId: '' }, 'validation_failed', 'recipientId'],
    [{ startDate: 'yesterday' }, 'validation_failed', 'startDate'],
    [{ format: 'csv' }, 'unknown_field', 'format'],
  ])('bad input %j: 400 %s, nothing written', async (q, code, field) => {
    const before = await query(t.db, 'SELECT count(*) AS n FROM events');
    const r = await detail(q as Record<string, string | number>);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code, field });
    expect(await query(t.db, 'SELECT count(*) AS n FROM events')).toEqual(before);
  });

  it("no key: 401; another server's key: 403", async () => {
    expect((await detail({ messageId }, null)).status).toBe(401);
    const other = await createTenant(t.store);
    expect((await detail({ messageId }, other.managementKey)).status).toBe(403);
  });
});
