import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { createTransport } from 'nodemailer';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { waitForRecipients } from '../helpers/wait.js';
import { reportAboutRecipient } from '../helpers/verp.js';
import { createKey, createTenant, v2, type V2Error } from '../helpers/api-v2.js';
import { cli } from '../helpers/process.js';
import type { StoredEvent, StoredMessage, StoredRecipient } from '../../src/store/store.js';

/**
 * Statistics end to end, through the real paths: mail injected over HTTP and delivered to the
 * SMTP sink (accepted, refused for good, deferred until it expires), a suppressed recipient,
 * opens and clicks on the real tracking URLs (a person's and a scanner's), a one-click
 * unsubscribe, a complaint (ARF to the MX listener). Every count the API answers is then checked
 * against what this test counts in the events table itself; filters, buckets, CSV and a rebuild
 * must agree with it too.
 */
const BOUNCE_DOMAIN = 'bounces.postline.test';
const HUMAN_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/130.0';
const SCANNER_UA = 'Barracuda Sentinel (EE)';

interface Stats {
  totals: Record<string, number>;
  rates: Record<string, number | null>;
  buckets: ({ start: string; label: string } & Record<string, number>)[];
}

/** A row count behind the store's back: what a refused request must not change. */
async function countRows(db: TestDb, table: string): Promise<number> {
  if (db.kind === 'sqlite') {
    const raw = new BetterSqlite3(join(db.dataDir, 'postline.db'), { readonly: true });
    try {
      return (raw.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      raw.close();
    }
  }
  const c = new pg.Client({ connectionString: db.databaseUrl! });
  await c.connect();
  try {
    return Number((await c.query(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0].n);
  } finally {
    await c.end();
  }
}

/** What one event and its recipient's message are, for counting by hand. */
interface Row {
  e: StoredEvent;
  r: StoredRecipient;
  m: StoredMessage;
}

/**
 * The statistics counted from events, written independently of src/reporting: each metric as a
 * filter over the rows, unique counts as distinct recipients.
 */
function countByHand(rows: readonly Row[]): Record<string, number> {
  const d = (x: Row) => (x.e.data ?? {}) as Record<string, unknown>;
  const n = (f: (x: Row) => boolean) => rows.filter(f).length;
  const distinct = (f: (x: Row) => boolean) => new Set(rows.filter(f).map((x) => x.r.id)).size;
  const failed = (x: Row) => x.e.type === 'Failed';
  const code = (x: Row) => d(x).FailureCode as number | undefined;
  const family = (lo: number) => (x: Row) => failed(x) && code(x) !== undefined && code(x)! >= lo && code(x)! < lo + 1000;
  const track = (type: number, machine?: boolean) => (x: Row) =>
    x.e.type === 'Tracking' && d(x).TrackingType === type && (machine === undefined || (d(x).Machine === true) === machine);
  const c = {
    queued: n((x) => x.e.type === 'Queued'),
    delivered: n((x) => x.e.type === 'Delivered'),
    deferred: n((x) => x.e.type === 'Deferred'),
    failed: n(failed),
    failedTemporary: n((x) => failed(x) && d(x).FailureType === 0),
    failedPermanent: n((x) => failed(x) && d(x).FailureType === 1),
    suppressed: n((x) => failed(x) && d(x).FailureType === 2),
    failedCode1xxx: n(family(1000)),
    failedCode2xxx: n(family(2000)),
    failedCode3xxx: n(family(3000)),
    failedCode4xxx: n(family(4000)),
    failedCode5xxx: n(family(5000)),
    failedCode9xxx: n(family(9000)),
    failedCodeOther: 0,
    complaints: n((x) => x.e.type === 'Complaint'),
    opens: n(track(1)),
    opensHuman: n(track(1, false)),
    opensMachine: n(track(1, true)),
    uniqueOpens: distinct(track(1)),
    uniqueOpensHuman: distinct(track(1, false)),
    clicks: n(track(0)),
    clicksHuman: n(track(0, false)),
    clicksMachine: n(track(0, true)),
    uniqueClicks: distinct(track(0)),
    uniqueClicksHuman: distinct(track(0, false)),
    unsubscribes: n(track(2)),
  };
  c.failedCodeOther = c.failed - c.failedCode1xxx - c.failedCode2xxx - c.failedCode3xxx - c.failedCode4xxx - c.failedCode5xxx - c.failedCode9xxx;
  return c;
}

describe(`reports: statistics from the rollups (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let key: string;
  let serverId: number;
  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

  const stats = (query: Record<string, string>, k: string | null = key) =>
    v2<{ data: Stats } & V2Error>(t, 'GET', `/servers/${serverId}/reports/statistics`, { key: k, query });
  const ok = async (query: Record<string, string>): Promise<Stats> => {
    const r = await stats(query);
    expect(r.status, r.text).toBe(200);
    return r.body.data;
  };
  /** Every event of the server, with its recipient and message. */
  async function rows(): Promise<Row[]> {
    const events = (await t.store.events.list({ limit: 1_000_000 })).filter((e) => e.serverId === serverId);
    const out: Row[] = [];
    for (const e of events) {
      const r = (await t.store.queue.getRecipient(e.recipientId!))!;
      out.push({ e, r, m: (await t.store.queue.getMessage(e.messageId))! });
    }
    return out;
  }
  async function mx(raw: string, to: string) {
    const transport = createTransport({ host: '127.0.0.1', port: t.app.mxPort!, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      return (await transport.sendMail({ envelope: { from: '', to: [to] }, raw })).response;
    } finally {
      transport.close();
    }
  }
  async function html(address: string): Promise<string> {
    const m = sink.messages.find((x) => x.rcptTo.includes(address))!;
    return String((await simpleParser(m.data)).html);
  }
  async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'smtp', 'delivery'],
      config: { outboundPort: sink.port, submissionPort: 0, mxPort: 0, smtpHost: '127.0.0.1', bounceDomain: BOUNCE_DOMAIN },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] }, 'other.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      // tempfail@ is deferred every 300 ms until its 3-second lifetime runs out: Failed, FailureType 0.
      delivery: { pollMs: 50, retrySchedule: [300], lifetimeMs: 3_000 },
    });
    serverId = t.credentials.serverId;
    await t.store.tenancy.updateServer(serverId, { tracking: { opens: true, clicks: true, unsubscribes: true, domain: t.url } });
    key = (await createKey(t.store, serverId, 'management')).key;
    expect((await v2(t, 'POST', `/servers/${serverId}/suppressions`, { key, body: { emailAddress: 'suppressed@sink.test' } })).status).toBe(200);

    const body = '<html><body><p>Hello</p><a href="https://shop.example/sale">sale</a></body></html>';
    const spring = ['opener', 'clicker', 'scanned', 'unsub', 'complainer', 'permfail', 'tempfail', 'suppressed'].map((l) => `${l}@sink.test`);
    const sent = await inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          To: spring.map((EmailAddress) => ({ EmailAddress })),
          From: { EmailAddress: 'news@Brand.example' },
          Subject: 'Spring sale',
          HtmlBody: body,
          MailingId: 'spring-sale',
          Tags: ['news', 'promo', 'promo'],
          Metadata: [{ Key: 'campaign', Value: 'spring' }],
        },
        {
          To: [{ EmailAddress: 'someone@other.test' }, { EmailAddress: 'permfail-2@other.test' }],
          From: { EmailAddress: 'alerts@other-brand.example' },
          Subject: 'Alert',
          TextBody: 'alert',
          MailingId: 'alerts',
          Tags: ['alerts'],
          Metadata: [{ Key: 'campaign', Value: 'ops' }],
        },
      ],
    });
    expect(sent.body.ErrorCode).toBe('Success');
    const queued = (await t.store.events.list({ limit: 1_000_000 })).filter((e) => e.type === 'Queued' || e.type === 'Failed');
    const messageIds = [...new Set(queued.map((e) => e.messageId))];
    expect(messageIds).toHaveLength(2);
    const final = (xs: StoredRecipient[]) => xs.every((r) => ['delivered', 'failed', 'suppressed'].includes(r.status));
    const recipients = new Map<string, StoredRecipient>();
    for (const id of messageIds) for (const r of await waitForRecipients(t.store, id, final)) recipients.set(r.address, r);
    expect(recipients.get('tempfail@sink.test')!.status).toBe('failed');

    // Engagement, more than 2 s after delivery (sooner, a click is a scanner's by timing).
    const pixel = (p: string) => /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(p)![1]!;
    const link = (p: string) => /href="([^"]+\/t\/c\/[^"]+)"/.exec(p)![1]!;
    const get = (url: string, ua: string) => fetch(url, { redirect: 'manual', headers: { 'user-agent': ua } }).then((r) => r.arrayBuffer());
    const opener = await html('opener@sink.test');
    await get(pixel(opener), HUMAN_UA);
    await get(pixel(opener), HUMAN_UA); // a second open: counted, not unique
    const clicker = await html('clicker@sink.test');
    await get(pixel(clicker), SCANNER_UA);
    await get(pixel(clicker), HUMAN_UA); // a person's open after a machine's: unique human, not unique
    await get(link(clicker), HUMAN_UA);
    await new Promise((r) => setTimeout(r, 1_100)); // out of the click-burst window
    await get(link(clicker), HUMAN_UA);
    const scanned = await html('scanned@sink.test');
    await get(pixel(scanned), SCANNER_UA);
    await get(link(scanned), SCANNER_UA);
    const unsubMessage = sink.messages.find((x) => x.rcptTo.includes('unsub@sink.test'))!;
    const unsubUrl = /^List-Unsubscribe:\s*<([^>]+)>/m.exec(unsubMessage.data.toString())![1]!;
    const res = await fetch(unsubUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    const complainer = recipients.get('complainer@sink.test')!;
    const arf = await reportAboutRecipient(t.store, 'arf-yahoo.eml', complainer);
    expect(await mx(arf, `fbl@${BOUNCE_DOMAIN}`)).toMatch(/^250 /);
    await eventually('the tracking and complaint events', async () => {
      const events = await t.store.events.list({ limit: 1_000_000 });
      return events.filter((e) => e.type === 'Tracking').length === 9 && events.some((e) => e.type === 'Complaint');
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('every statistic equals the count of the events table, and the script produced each kind of event', async () => {
    const expected = countByHand(await rows());
    // Each kind happened (a statistic that is always 0 would prove nothing).
    expect(expected).toMatchObject({ queued: 9, suppressed: 1, complaints: 1, unsubscribes: 1, opens: 5, uniqueOpens: 3, clicks: 3, failedTemporary: 1 });
    for (const m of [
      'delivered',
      'deferred',
      'failedPermanent',
      'failedCode2xxx',
      'failedCode4xxx',
      'failedCode9xxx',
      'opensHuman',
      'opensMachine',
      'uniqueOpensHuman',
      'clicksHuman',
      'clicksMachine',
      'uniqueClicksHuman',
    ])
      expect(expected[m], m).toBeGreaterThan(0);
    const s = await ok({ startDate: yesterday, endDate: tomorrow });
    expect(s.totals).toEqual(expected);
    const attempted = expected.delivered! + expected.failedTemporary! + expected.failedPermanent!;
    expect(s.rates.delivery).toBeCloseTo(expected.delivered! / attempted, 5);
    expect(s.rates.bounce).toBeCloseTo((expected.failedTemporary! + expected.failedPermanent!) / attempted, 5);
    expect(s.rates.complaint).toBeCloseTo(1 / expected.delivered!, 5);
    expect(s.rates.open).toBeCloseTo(expected.uniqueOpensHuman! / expected.delivered!, 5);
    expect(s.rates.click).toBeCloseTo(expected.uniqueClicksHuman! / expected.delivered!, 5);
  });

  it('each filter counts only its mail: mailing, tag, metadata pair, From domain, recipient domain', async () => {
    const all = await rows();
    const cases: [Record<string, string>, (x: Row) => boolean][] = [
      [{ mailingId: 'spring-sale' }, (x) => x.r.mailingId === 'spring-sale'],
      [{ mailingId: 'alerts' }, (x) => x.r.mailingId === 'alerts'],
      [{ tag: 'promo' }, (x) => x.m.tags.includes('promo')],
      [{ metadataKey: 'campaign', metadataValue: 'ops' }, (x) => x.m.metadata.some((k) => k.key === 'campaign' && k.value === 'ops')],
      [{ sendingDomain: 'BRAND.example' }, (x) => x.m.fromAddress.toLowerCase().endsWith('@brand.example')],
      [{ recipientDomain: 'other.test' }, (x) => x.r.domain === 'other.test'],
    ];
    for (const [filter, keep] of cases) {
      const mine = all.filter(keep);
      expect(mine.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(mine.length, JSON.stringify(filter)).toBeLessThan(all.length);
      expect((await ok({ startDate: yesterday, endDate: tomorrow, ...filter })).totals, JSON.stringify(filter)).toEqual(countByHand(mine));
    }
    expect((await ok({ startDate: yesterday, endDate: tomorrow, tag: 'no-such-tag' })).totals.queued).toBe(0);
  });

  it('buckets: hours, days and months in a time zone sum to the totals; each event counts in the bucket of its hour', async () => {
    const all = await rows();
    const totals = countByHand(all);
    const hourly = await ok({ startDate: yesterday, endDate: tomorrow, bucket: 'hour', timeZone: 'Asia/Kolkata' });
    const start = Date.parse(hourly.buckets[0]!.start);
    // Local days in +05:30 run 00:30 to 00:30 in whole hours: yesterday 00:30 IST is 19:00 UTC the day before.
    expect(new Date(start).toISOString()).toBe(new Date(Date.parse(`${yesterday}T00:00:00Z`) - 5 * 3_600_000).toISOString());
    expect(hourly.buckets).toHaveLength(72);
    expect(hourly.buckets[0]!.label).toBe(`${yesterday}T00:30`);
    const sum = (bs: Stats['buckets'], m: string) => bs.reduce((s, b) => s + b[m]!, 0);
    for (const m of Object.keys(totals)) expect(sum(hourly.buckets, m), m).toBe(totals[m]);
    for (const b of hourly.buckets) {
      const from = Date.parse(b.start);
      expect(b.queued, b.label).toBe(all.filter((x) => x.e.type === 'Queued' && x.e.occurredAt >= from && x.e.occurredAt < from + 3_600_000).length);
    }
    const daily = await ok({ startDate: yesterday, endDate: tomorrow, bucket: 'day', timeZone: 'America/New_York' });
    expect(daily.buckets.map((b) => b.label)).toEqual([yesterday, today, tomorrow]);
    expect(daily.totals).toEqual(totals);
    const monthly = await ok({ startDate: `${today.slice(0, 7)}-01`, endDate: tomorrow, bucket: 'month' });
    expect(monthly.buckets.map((b) => b.label)).toEqual([...new Set([today.slice(0, 7), tomorrow.slice(0, 7)])]);
    expect(monthly.totals).toEqual(totals);
    // A range before the mail: every bucket present, all zero.
    const before = await ok({ startDate: '2020-01-01', endDate: '2020-01-03' });
    expect(before.buckets.map((b) => b.label)).toEqual(['2020-01-01', '2020-01-02', '2020-01-03']);
    expect(before.totals.queued! + before.totals.delivered!).toBe(0);
    expect(before.rates).toEqual({ delivery: null, bounce: null, complaint: null, open: null, click: null });
  });

  it('format=csv: a header and one row per bucket, the same numbers as JSON', async () => {
    const q = { startDate: yesterday, endDate: tomorrow, bucket: 'hour', tag: 'news' };
    const json = await ok(q);
    const r = await stats({ ...q, format: 'csv' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = r.text
      .trimEnd()
      .split('\r\n')
      .map((l) => l.split(','));
    const header = lines[0]!;
    expect(header.slice(0, 4)).toEqual(['start', 'label', 'queued', 'delivered']);
    expect(lines).toHaveLength(json.buckets.length + 1);
    for (const [i, b] of json.buckets.entries()) {
      expect(Object.fromEntries(header.map((h, j) => [h, lines[i + 1]![j]]))).toEqual(Object.fromEntries(header.map((h) => [h, String(b[h])])));
    }
  });

  it('a rebuild from the events gives the same numbers as the live rollups', async () => {
    const queries = [
      {} as Record<string, string>,
      { mailingId: 'spring-sale' },
      { tag: 'promo' },
      { recipientDomain: 'sink.test' },
      { sendingDomain: 'other-brand.example' },
      { metadataKey: 'campaign', metadataValue: 'spring' },
    ].map((f): Record<string, string> => ({ startDate: yesterday, endDate: tomorrow, bucket: 'hour', ...f }));
    const live = await Promise.all(queries.map(ok));
    const rowsBefore = await countRows(t.db, 'stats_hourly');
    expect(rowsBefore).toBeGreaterThan(0);
    expect(await t.store.reports.rebuildRollups(serverId)).toEqual({ events: (await rows()).length });
    expect(await countRows(t.db, 'stats_hourly')).toBe(rowsBefore);
    expect(await Promise.all(queries.map(ok))).toEqual(live);
    await t.store.reports.rebuildRollups(null);
    expect(await Promise.all(queries.map(ok))).toEqual(live);
    // The CLI, as an operator runs it after an upgrade (the built dist/), while the server runs.
    const env = { POSTLINE_DATA_DIR: t.db.dataDir, POSTLINE_DATABASE_URL: t.db.databaseUrl ?? undefined };
    const run = await cli(['reports', 'rebuild', '--server', String(serverId), '--json'], env);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ serverId, events: (await rows()).length });
    expect(await Promise.all(queries.map(ok))).toEqual(live);
    const bad = await cli(['reports', 'rebuild', '--server', '99999'], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/server 99999 does not exist/);
    for (const args of [
      ['reports', 'frobnicate'],
      ['reports', 'rebuild', '--server', 'abc'],
    ]) {
      const r = await cli(args, env);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/usage: postline reports rebuild|--server needs a positive whole number/);
    }
    expect(await countRows(t.db, 'stats_hourly')).toBe(rowsBefore);
  });

  it('bad input: 400 with a code and the parameter at fault; nothing is written', async () => {
    const before = [await countRows(t.db, 'stats_hourly'), await countRows(t.db, 'events'), await countRows(t.db, 'suppressions')];
    const cases: [Record<string, string>, string, string | undefined, RegExp][] = [
      [{ startDate: yesterday }, 'validation_failed', 'endDate', /required/],
      [{ startDate: '2026-02-30', endDate: tomorrow }, 'validation_failed', 'startDate', /not a date/],
      [{ startDate: 'yesterday', endDate: tomorrow }, 'validation_failed', 'startDate', /not a date/],
      [{ startDate: yesterday, endDate: '2026-13-01' }, 'validation_failed', 'endDate', /not a date/],
      [{ startDate: tomorrow, endDate: yesterday }, 'validation_failed', 'endDate', /must be after startDate/],
      [{ startDate: '2026-01-01T10:00:00Z', endDate: '2026-01-01T10:00:00Z' }, 'validation_failed', 'endDate', /must be after/],
      [{ startDate: '2020-01-01', endDate: '2026-01-01', bucket: 'hour' }, 'validation_failed', 'bucket', /at most 1000/],
      [{ startDate: '2020-01-01', endDate: '2026-01-01' }, 'validation_failed', 'bucket', /2193 day buckets/],
      [{ startDate: yesterday, endDate: tomorrow, bucket: 'week' }, 'validation_failed', 'bucket', /one of: hour, day, month/],
      [{ startDate: yesterday, endDate: tomorrow, timeZone: 'Mars/Olympus' }, 'validation_failed', 'timeZone', /not a time zone/],
      [
        { startDate: yesterday, endDate: tomorrow, mailingId: 'spring-sale', tag: 'promo' },
        'conflicting_filters',
        'tag',
        /one filter at a time: mailingId and tag/,
      ],
      [
        { startDate: yesterday, endDate: tomorrow, sendingDomain: 'brand.example', metadataKey: 'campaign', metadataValue: 'spring' },
        'conflicting_filters',
        'sendingDomain',
        /one filter at a time/,
      ],
      [{ startDate: yesterday, endDate: tomorrow, metadataKey: 'campaign' }, 'validation_failed', 'metadataValue', /go together/],
      [{ startDate: yesterday, endDate: tomorrow, tag: '' }, 'validation_failed', 'tag', /fewer than 1|at least 1|NOT have fewer/],
      [{ startDate: yesterday, endDate: tomorrow, format: 'xml' }, 'validation_failed', 'format', /one of: json, csv/],
      [{ startDate: yesterday, endDate: tomorrow, pagesize: '10' }, 'unknown_field', 'pagesize', /unknown/],
    ];
    for (const [query, code, field, message] of cases) {
      const r = await stats(query);
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error, JSON.stringify(query)).toMatchObject({ code, ...(field ? { field } : {}) });
      expect(r.body.error.message, JSON.stringify(query)).toMatch(message);
      // A refused CSV is refused the same way (JSON error, no partial CSV).
      if (query.format === undefined) expect((await stats({ ...query, format: 'csv' })).status).toBe(400);
    }
    expect([await countRows(t.db, 'stats_hourly'), await countRows(t.db, 'events'), await countRows(t.db, 'suppressions')]).toEqual(before);
  });

  it("keys: none is 401; another tenant's keys are refused; an account key of the server's account is accepted", async () => {
    const q = { startDate: yesterday, endDate: tomorrow };
    const none = await stats(q, null);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const other = await createTenant(t.store);
    for (const k of [other.managementKey, other.accountKey]) {
      const r = await stats(q, k);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('wrong_server');
      expect(r.text).not.toContain('queued');
    }
    const injection = await stats(q, t.credentials.apiKey);
    expect(injection.status).toBe(403);
    expect((await stats(q, t.credentials.accountKey)).status).toBe(200);
    // The other tenant's own statistics are its own: all zero.
    const theirs = await v2<{ data: Stats }>(t, 'GET', `/servers/${other.serverId}/reports/statistics`, { key: other.managementKey, query: q });
    expect(theirs.status).toBe(200);
    expect(Object.values(theirs.body.data.totals).every((n) => n === 0)).toBe(true);
  });
});
