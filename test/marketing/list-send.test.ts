import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink, type SunkMessage } from '../helpers/smtp-sink.js';
import { createKey, createTenant } from '../helpers/api-v2.js';
import { countRows, queryRows, until } from '../helpers/webhooks.js';
import type { ImportContactRow } from '../../src/store/store.js';
import { ListSendExpander } from '../../src/marketing/list-send-expander.js';
import { createLogger } from '../../src/core/log.js';

/**
 * A send to a list of CONTACTS contacts (100,000 on SQLite, about 50 s; 5,000 on PostgreSQL, where
 * 100,000 take about 80 s of the suite: POSTLINE_TEST_LIST_SEND_CONTACTS=100000 runs them), one in ten unsubscribed and one
 * in ten on the suppression list: one API call, and the SMTP sink receives exactly one message per
 * subscribed, unsuppressed contact, merged with that contact's own fields, and none for the others.
 */
const CONTACTS = Number(process.env.POSTLINE_TEST_LIST_SEND_CONTACTS ?? (TEST_STORE_KIND === 'sqlite' ? 100_000 : 5_000));

/** Contact i: its address says what it is (unsub-…: unsubscribed, supp-…: suppressed, ok-…: sent to). */
function contact(i: number): ImportContactRow & { expect: 'sent' | 'unsubscribed' | 'suppressed' } {
  const kind = i % 10 === 3 ? 'unsubscribed' : i % 10 === 7 ? 'suppressed' : 'sent';
  const prefix = kind === 'unsubscribed' ? 'unsub' : kind === 'suppressed' ? 'supp' : 'ok';
  return {
    email: `${prefix}-${i}@d${i % 20}.example.com`,
    // Every 13th contact has no first name and no Plan: the merge gives empty text, not the placeholder.
    firstName: i % 13 === 0 ? null : `First${i}`,
    lastName: `Last${i}`,
    customFields: { Plan: i % 13 === 0 ? '' : `P${i % 5}` },
    expect: kind,
  };
}
const indexOf = (address: string) => Number(/-(\d+)@/.exec(address)![1]);
const expectedLine = (i: number) => {
  const c = contact(i);
  return `Hello ${c.firstName ?? ''} ${c.lastName}, plan ${c.customFields!.Plan}, address ${c.email}.`;
};

/** Runs a statement behind the store's back (bulk test data). */
async function exec(db: TestDb, sqlText: string): Promise<void> {
  if (db.kind === 'sqlite') {
    const raw = new BetterSqlite3(join(db.dataDir, 'postline.db'));
    raw.pragma('busy_timeout = 5000');
    try {
      raw.exec(sqlText);
    } finally {
      raw.close();
    }
    return;
  }
  const c = new pg.Client({ connectionString: db.databaseUrl! });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}

describe(`send to a list (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let serverId: number;
  let key: string;

  async function call<T>(method: string, path: string, body?: unknown, auth: [number, string] = [serverId, key]): Promise<{ status: number; body: T }> {
    const res = await fetch(`${t.url}/marketing/v1${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }
  const message = {
    From: { EmailAddress: 'news@example.com', FriendlyName: 'News' },
    Subject: 'For %%FirstName%%',
    TextBody: 'Hello %%FirstName%% %%LastName%%, plan %%Plan%%, address %%EmailAddress%%.',
    MailingId: 'spring',
    MessageId: 'c-%%ContactId%%',
    Tags: ['newsletter'],
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { relayHost: `127.0.0.1:${sink.port}`, perDestinationConcurrency: 20 },
      delivery: { retrySchedule: [100], pollMs: 50 },
    });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it(`sends one merged message to each subscribed, unsuppressed contact of ${CONTACTS.toLocaleString('en-US')}, and none to the others`, async () => {
    const now = Date.now();
    const listId = (await t.store.marketing.createList(serverId, 'everyone', now))!.id;
    await t.store.marketing.createCustomField(serverId, 'Plan', 20, now);
    let batch: ImportContactRow[] = [];
    const suppressed: { address: string; reason: 'Unsubscribe' }[] = [];
    for (let i = 0; i < CONTACTS; i++) {
      const { expect: kind, ...c } = contact(i);
      batch.push(c);
      if (kind === 'suppressed') suppressed.push({ address: c.email, reason: 'Unsubscribe' });
      if (batch.length === 1000 || i === CONTACTS - 1) {
        expect(await t.store.marketing.importContacts(serverId, listId, batch, now)).toMatchObject({ created: batch.length });
        batch = [];
      }
    }
    await exec(t.db, "UPDATE contacts SET unsubscribed_at = 1 WHERE email LIKE 'unsub-%'");
    for (let i = 0; i < suppressed.length; i += 1000) await t.store.suppressions.add(serverId, suppressed.slice(i, i + 1000), now);
    const want = { sent: 0, unsubscribed: 0, suppressed: 0 };
    for (let i = 0; i < CONTACTS; i++) want[contact(i).expect] += 1;

    const accepted = async () => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      return ['messages', 'recipients'].map((n) => Number(new RegExp(`^postline_accepted_${n}_total\\{source="api"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0));
    };
    const acceptedBefore = await accepted();
    const r = await call<{ sendId: number; state: string; messageId: string }>('POST', `/lists/${listId}/send`, message);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ listId, serverId, contactsSeen: 0, queued: 0 });

    // Each message is checked as it arrives and dropped (100,000 bodies would be a lot to hold).
    const seen = new Map<number, number>();
    const problems: string[] = [];
    const check = (m: SunkMessage) => {
      const i = indexOf(m.rcptTo[0]!);
      seen.set(i, (seen.get(i) ?? 0) + 1);
      const text = m.data.toString('utf8');
      const c = contact(i);
      if (m.rcptTo.length !== 1 || c.expect !== 'sent') problems.push(`sent to ${m.rcptTo.join(',')}`);
      if (!text.includes(expectedLine(i))) problems.push(`${c.email}: body ${JSON.stringify(text.slice(-300))}`);
      if (!text.includes(`\r\nTo: ${c.firstName ? `${c.firstName} ${c.lastName}` : c.lastName} <${c.email}>\r\n`)) problems.push(`${c.email}: To header`);
      if (!text.includes(`\r\nSubject: For ${c.firstName ?? ''}\r\n`)) problems.push(`${c.email}: Subject`);
    };
    const drain = () => {
      for (const m of sink.messages.splice(0)) check(m);
    };
    const progress = await until(
      async () => {
        drain();
        const s = await call<{ state: string; queued: number }>('GET', `/lists/${listId}/sends/${r.body.sendId}`);
        return s.body.state === 'done' && seen.size >= want.sent ? s.body : undefined;
      },
      () => ({ received: seen.size, want }),
      600_000,
    );
    expect(progress).toEqual({
      ...r.body,
      state: 'done',
      contactsSeen: CONTACTS,
      queued: want.sent,
      skippedUnsubscribed: want.unsubscribed,
      skippedSuppressed: want.suppressed,
      updatedOn: expect.any(String),
      finishedOn: expect.any(String),
    });
    // Every recipient is final: nothing more can arrive.
    await until(
      async () => {
        const [row] = await queryRows<{ n: number | string }>(
          t.db,
          `SELECT COUNT(*) AS n FROM recipients WHERE message_id = '${r.body.messageId}' AND status NOT IN ('delivered', 'suppressed')`,
        );
        return Number(row!.n) === 0 ? true : undefined;
      },
      () => 'recipients still in flight',
      120_000,
    );
    drain();
    expect(problems.slice(0, 5)).toEqual([]);
    expect(seen.size).toBe(want.sent);
    // The send is one accepted message; its recipients, suppressed ones too, count as their batches commit (as the Injection API counts them).
    const acceptedAfter = await accepted();
    expect([acceptedAfter[0]! - acceptedBefore[0]!, acceptedAfter[1]! - acceptedBefore[1]!]).toEqual([1, want.sent + want.suppressed]);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);

    // Suppressed contacts: a `suppressed` recipient with its Failed event, as the Injection API does.
    const statuses = await queryRows<{ status: string; n: number | string }>(
      t.db,
      `SELECT status, COUNT(*) AS n FROM recipients WHERE message_id = '${r.body.messageId}' GROUP BY status ORDER BY status`,
    );
    expect(statuses.map((s) => [s.status, Number(s.n)])).toEqual([
      ['delivered', want.sent],
      ['suppressed', want.suppressed],
    ]);
    const events = await queryRows<{ type: string; n: number | string }>(
      t.db,
      `SELECT type, COUNT(*) AS n FROM events WHERE message_id = '${r.body.messageId}' AND type IN ('Queued', 'Failed') GROUP BY type ORDER BY type`,
    );
    expect(events.map((e) => [e.type, Number(e.n)])).toEqual([
      ['Failed', want.suppressed],
      ['Queued', want.sent],
    ]);
    const [msg] = await queryRows<{ recipient_count: number | string; is_merge: number }>(
      t.db,
      `SELECT recipient_count, is_merge FROM messages WHERE id = '${r.body.messageId}'`,
    );
    expect([Number(msg!.recipient_count), Number(msg!.is_merge)]).toEqual([want.sent + want.suppressed, 1]);
    // MailingId and the per-contact MessageId travel with each recipient (and so with its events).
    const [one] = await queryRows<{ mailing_id: string; custom_message_id: string; address: string }>(
      t.db,
      `SELECT mailing_id, custom_message_id, address FROM recipients WHERE message_id = '${r.body.messageId}' AND address LIKE 'ok-1@%'`,
    );
    const [oneContact] = await queryRows<{ id: number | string }>(t.db, `SELECT id FROM contacts WHERE email = '${one!.address}'`);
    expect([one!.mailing_id, one!.custom_message_id]).toEqual(['spring', `c-${Number(oneContact!.id)}`]);
  }, 900_000);
});

describe(`send to a list: refusals and resuming (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let key: string;
  let other: { serverId: number; managementKey: string };
  let listId: number;

  async function call<T>(method: string, path: string, body?: unknown, auth: [number, string] = [serverId, key]): Promise<{ status: number; body: T }> {
    const res = await fetch(`${t.url}/marketing/v1${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }
  const good = { From: { EmailAddress: 'news@example.com' }, Subject: 'Hi %%FirstName%%', HtmlBody: '<p>Hi %%FirstName%%</p>' };
  const written = async () => Promise.all(['messages', 'message_bodies', 'recipients', 'events', 'list_sends'].map((table) => countRows(t.db, table)));

  beforeAll(async () => {
    // API role only: no expander runs, so the test drives expansion itself through the store.
    t = await startTestApp();
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    other = await createTenant(t.store);
    const now = Date.now();
    listId = (await t.store.marketing.createList(serverId, 'small', now))!.id;
    const rows = Array.from({ length: 25 }, (_, i) => ({ email: `p${i}@example.org`, firstName: `P${i}` }));
    await t.store.marketing.importContacts(serverId, listId, rows, now);
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses bad input with a clear error and writes nothing', async () => {
    const now = Date.now();
    const emptyList = (await t.store.marketing.createList(serverId, 'empty', now))!.id;
    const unsubscribedOnly = (await t.store.marketing.createList(serverId, 'gone', now))!.id;
    await t.store.marketing.addContactToListByEmail(serverId, unsubscribedOnly, { email: 'gone@example.org' }, now);
    await t.store.marketing.unsubscribeContact(serverId, 'gone@example.org', now);
    const foreignList = (await t.store.marketing.createList(other.serverId, 'theirs', now))!.id;
    await t.store.marketing.addContactToListByEmail(other.serverId, foreignList, { email: 'theirs@example.org' }, now);
    const before = await written();
    const cases: [string, unknown, number, RegExp][] = [
      ['/lists/999999/send', good, 404, /^no list 999999$/],
      [`/lists/${foreignList}/send`, good, 404, new RegExp(`^no list ${foreignList}$`)],
      [`/lists/${emptyList}/send`, good, 400, /has no subscribed contact/],
      [`/lists/${unsubscribedOnly}/send`, good, 400, /has no subscribed contact/],
      [`/lists/${listId}/send`, { ...good, From: { EmailAddress: 'not an address' } }, 400, /^InvalidFrom: From "not an address" is not a valid address$/],
      [`/lists/${listId}/send`, { ...good, From: null }, 400, /^InvalidFrom: From is missing$/],
      [`/lists/${listId}/send`, { ...good, Subject: '' }, 400, /^EmptySubject/],
      [`/lists/${listId}/send`, { ...good, HtmlBody: null }, 400, /^NoValidBodyParts/],
      [`/lists/${listId}/send`, { ...good, To: [{ EmailAddress: 'x@example.org' }] }, 400, /leave out To, Cc, Bcc and MergeData.PerMessage/],
      [`/lists/${listId}/send`, { ...good, MergeData: { PerMessage: [[{ Field: 'DeliveryAddress', Value: 'x@example.org' }]] } }, 400, /leave out/],
      [
        `/lists/${listId}/send`,
        { ...good, CustomHeaders: [{ Name: 'Subject', Value: 'x' }] },
        400,
        /CustomHeaders\[0\]\.Name: "Subject" is set from the message's own fields/,
      ],
      [
        `/lists/${listId}/send`,
        {
          ...good,
          CustomHeaders: [
            { Name: 'X-Ok', Value: 'x' },
            { Name: 'dkim-signature', Value: 'v=1; d=bank.example; b=AAAA' },
          ],
        },
        400,
        /^CustomHeaders\[1\]\.Name: "dkim-signature" cannot be a custom header: Postline signs with the sending domain's DKIM keys$/,
      ],
      [`/lists/${listId}/send`, { ...good, Subject: 42 }, 400, /^Subject: expected a string$/],
      [`/lists/${listId}/send`, [good], 400, /^the body must be a JSON object$/],
    ];
    for (const [path, body, status, msg] of cases) {
      const r = await call<{ message: string }>('POST', path, body);
      expect([path, r.status, r.body.message]).toEqual([path, status, expect.stringMatching(msg)]);
    }
    // Another server's key cannot see or send to this server's list.
    const r = await call<{ message: string }>('POST', `/lists/${listId}/send`, good, [other.serverId, other.managementKey]);
    expect([r.status, r.body.message]).toEqual([404, `no list ${listId}`]);
    expect(await written()).toEqual(before);
  });

  it('refuses a From whose domain is not verified when the server requires it, and writes nothing', async () => {
    const now = Date.now();
    const strict = await t.store.tenancy.createServer(
      { accountId: (await t.store.tenancy.getServer(serverId))!.accountId, name: 'strict', requireVerifiedDomain: true },
      now,
    );
    const strictKey = (await createKey(t.store, strict.id, 'management')).key;
    const strictList = (await t.store.marketing.createList(strict.id, 'list', now))!.id;
    await t.store.marketing.addContactToListByEmail(strict.id, strictList, { email: 'someone@example.org' }, now);
    const before = await written();
    const r = await call<{ message: string }>('POST', `/lists/${strictList}/send`, good, [strict.id, strictKey]);
    expect([r.status, r.body.message]).toEqual([400, expect.stringMatching(/^InvalidFrom: .*example\.com/)]);
    expect(await written()).toEqual(before);
  });

  it('expands in batches from its cursor: a second expander, or a restart, never adds a contact twice', async () => {
    const r = await call<{ sendId: number; messageId: string }>('POST', `/lists/${listId}/send`, good);
    expect(r.status).toBe(202);
    // A member added after the send was accepted is not part of it.
    await new Promise((res) => setTimeout(res, 5));
    await t.store.marketing.addContactToListByEmail(serverId, listId, { email: 'late@example.org' }, Date.now());
    const first = await t.store.listSends.expand(r.body.sendId, 10, Date.now());
    expect(first).toMatchObject({ state: 'expanding', contactsSeen: 10, queued: 10, batchRecipients: 10 });
    // Two expanders at once (two processes, or one resumed after a crash while the other runs).
    const both = await Promise.all([t.store.listSends.expand(r.body.sendId, 10, Date.now()), t.store.listSends.expand(r.body.sendId, 10, Date.now())]);
    expect(both.filter((s) => s !== undefined).length).toBeGreaterThanOrEqual(1);
    for (;;) {
      const s = await t.store.listSends.expand(r.body.sendId, 10, Date.now());
      if (!s) break;
    }
    expect(await t.store.listSends.expand(r.body.sendId, 10, Date.now())).toBeUndefined();
    const rows = await queryRows<{ address: string }>(t.db, `SELECT address FROM recipients WHERE message_id = '${r.body.messageId}' ORDER BY address`);
    expect(rows.map((x) => x.address)).toEqual(Array.from({ length: 25 }, (_, i) => `p${i}@example.org`).sort());
    const progress = await call<Record<string, unknown>>('GET', `/lists/${listId}/sends/${r.body.sendId}`);
    expect(progress.body).toMatchObject({ state: 'done', contactsSeen: 25, queued: 25, skippedUnsubscribed: 0, skippedSuppressed: 0 });
    const merge = await queryRows<{ merge: string }>(
      t.db,
      `SELECT merge FROM recipients WHERE message_id = '${r.body.messageId}' AND address = 'p3@example.org'`,
    );
    expect(JSON.parse(merge[0]!.merge)).toEqual([
      { field: 'DeliveryAddress', value: 'p3@example.org' },
      { field: 'EmailAddress', value: 'p3@example.org' },
      { field: 'FirstName', value: 'P3' },
      { field: 'LastName', value: '' },
      { field: 'RecipientName', value: 'P3' },
      { field: 'ContactId', value: expect.stringMatching(/^\d+$/) },
    ]);
  });

  it('sends the stored template an ApiTemplate names (its placeholders merge per contact at delivery); an unknown or foreign one writes nothing', async () => {
    const now = Date.now();
    const mine = await t.store.templates.create(
      serverId,
      { name: 'news', subject: 'Template subject', htmlBody: '<p>Dear %%FirstName%%</p>', textBody: null, ampBody: null },
      now,
    );
    const theirs = await t.store.templates.create(other.serverId, { name: 'theirs', subject: null, htmlBody: '<p>x</p>', textBody: null, ampBody: null }, now);
    const { HtmlBody: _html, ...noBody } = good;
    const before = await written();
    for (const id of [theirs.id, 987654]) {
      const r = await call<{ message: string }>('POST', `/lists/${listId}/send`, { ...noBody, ApiTemplate: id });
      expect([r.status, r.body.message]).toEqual([400, `InvalidTemplateId: template ${id} does not exist`]);
    }
    expect(await written()).toEqual(before);

    const r = await call<{ sendId: number; messageId: string }>('POST', `/lists/${listId}/send`, { ...noBody, Subject: '', ApiTemplate: String(mine.id) });
    expect(r.status).toBe(202);
    const tpl = (await t.store.queue.getMessageTemplate(r.body.messageId))!;
    expect([tpl.subject, tpl.htmlBody, tpl.textBody]).toEqual(['Template subject', '<p>Dear %%FirstName%%</p>', null]);
  });

  it('answers 404 for a send of another list or another server', async () => {
    const r = await call<{ sendId: number }>('POST', `/lists/${listId}/send`, good);
    expect((await call('GET', `/lists/${listId}/sends/${r.body.sendId}`)).status).toBe(200);
    expect((await call('GET', `/lists/${listId + 1000}/sends/${r.body.sendId}`)).status).toBe(404);
    expect((await call('GET', `/lists/${listId}/sends/${r.body.sendId}`, undefined, [other.serverId, other.managementKey])).status).toBe(404);
  });

  it('an expander started later (another process, or this one after a restart) finds the sends left unfinished and completes them', async () => {
    const r = await call<{ sendId: number; messageId: string }>('POST', `/lists/${listId}/send`, good);
    await t.store.listSends.expand(r.body.sendId, 7, Date.now()); // a batch committed before the "crash"
    const recipientRows = async () => Number((await queryRows<{ n: number | string }>(t.db, 'SELECT COUNT(*) AS n FROM recipients'))[0]!.n);
    const rowsBefore = await recipientRows();
    let woken = 0;
    let added = 0;
    const expander = new ListSendExpander({
      store: t.store,
      log: createLogger('silent'),
      now: Date.now,
      onExpanded: (n) => {
        woken += 1;
        added += n;
      },
      pollMs: 50,
      batchSize: 10,
    });
    expander.start();
    try {
      await until(
        async () => ((await t.store.listSends.expanding(10)).length === 0 ? true : undefined),
        () => 'sends still expanding',
      );
    } finally {
      await expander.stop();
    }
    expect(woken).toBeGreaterThan(0);
    // What this expander committed (this send's rest, and sends earlier tests left), not the batch before the "crash".
    expect(added).toBe((await recipientRows()) - rowsBefore);
    expect(added).toBeGreaterThanOrEqual(26 - 7);
    const rows = await queryRows<{ n: number | string; d: number | string }>(
      t.db,
      `SELECT COUNT(*) AS n, COUNT(DISTINCT address) AS d FROM recipients WHERE message_id = '${r.body.messageId}'`,
    );
    expect([Number(rows[0]!.n), Number(rows[0]!.d)]).toEqual([26, 26]); // the 25 and late@, added before this send
    expect((await call<{ state: string }>('GET', `/lists/${listId}/sends/${r.body.sendId}`)).body).toMatchObject({
      state: 'done',
      contactsSeen: 26,
      queued: 26,
    });
  });
});
