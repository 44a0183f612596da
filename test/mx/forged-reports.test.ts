import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { startApp, type RunningApp } from '../../src/app.js';
import { ensureBootstrap, type Credentials } from '../../src/accept/bootstrap.js';
import type { Store, StoredRecipient } from '../../src/store/store.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink, type SunkMessage } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { waitForRecipients, newestMessageId } from '../helpers/wait.js';
import { newId } from '../../src/core/ids.js';

/**
 * Reports someone other than the reporting server could have written: the attacker is a recipient
 * who reads their own Return-Path and Message-ID and aims reports at the recipients around them.
 * None may change anything; each is logged as mx.report_forged. The genuine report, built from
 * what the recipient really received, still fails and suppresses.
 */
const FIXTURES = join(import.meta.dirname, '../fixtures/reports');
const BOUNCE_DOMAIN = 'bounces.harbor-outfitters.example';
const COMPLAINTS = `fbl@${BOUNCE_DOMAIN}`;
const FIXTURE_ID = /01m7[0-9a-z]{22}/gi;
const NAMED_RECIPIENT = /^(Final-Recipient|Original-Recipient|Original-Rcpt-To):(\s*(?:rfc822;\s*)?).*$/gim;

/** A fixture report whose Postline ids read `idPart` (an id, or id-tag) and whose named recipient is `address`. */
const report = (file: string, idPart: string, address: string): string =>
  readFileSync(join(FIXTURES, file), 'utf8').replace(FIXTURE_ID, idPart).replace(NAMED_RECIPIENT, `$1:$2${address}`);

describe(`MX listener: forged bounces and complaints change nothing (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let db: TestDb;
  let store: Store;
  let app: RunningApp;
  let credentials: Credentials;
  const logs: Record<string, unknown>[] = [];
  /** The attacker and the recipients accepted right beside them, in one injection. */
  let attacker: StoredRecipient;
  let neighbours: StoredRecipient[];

  beforeAll(async () => {
    sink = await startSmtpSink();
    db = await createTestDb();
    store = await db.open();
    credentials = (await ensureBootstrap(store, db.dataDir, Date.now())).credentials;
    const config = loadConfig(
      {},
      {
        dataDir: db.dataDir,
        databaseUrl: db.databaseUrl,
        httpHost: '127.0.0.1',
        httpPort: 0,
        logLevel: 'info',
        hostname: 'postline.test',
        mxPort: 0,
        submissionPort: 0,
        smtpHost: '127.0.0.1',
        outboundPort: sink.port,
        bounceDomain: BOUNCE_DOMAIN,
      },
    );
    const out = new Writable({
      write(chunk, _enc, cb) {
        logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        cb();
      },
    });
    app = await startApp(
      {
        config,
        log: createLogger('info', out),
        store,
        now: Date.now,
        dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
        delivery: { pollMs: 50 },
      },
      ['api', 'smtp', 'delivery'],
    );
    const res = await fetch(`http://127.0.0.1:${app.httpPort}/api/v1/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ServerId: credentials.serverId,
        ApiKey: credentials.apiKey,
        Messages: [
          {
            To: ['mallory', 'alice', 'bob', 'carol', 'dave'].map((n) => ({ EmailAddress: `${n}@sink.test` })),
            From: { EmailAddress: 'sender@example.com' },
            Subject: 'Hello',
            TextBody: 'Body',
          },
        ],
      }),
    });
    expect(((await res.json()) as { ErrorCode: string }).ErrorCode).toBe('Success');
    const rs = await waitForRecipients(store, await newestMessageId(store), (x) => x.length === 5 && x.every((r) => r.status === 'delivered'));
    attacker = rs[0]!;
    neighbours = rs.slice(1);
    expect(attacker!.address).toBe('mallory@sink.test');
  });
  afterAll(async () => {
    await app?.stop();
    await store?.close();
    await db?.drop();
    await sink?.close();
  });

  const sunk = (address: string): SunkMessage => sink.messages.find((m) => m.rcptTo.includes(address))!;
  const messageIdOf = (m: SunkMessage): string => /^Message-ID: <([^>]+)>/im.exec(m.data.toString())![1]!;
  async function mx(raw: string, to: string): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: app.mxPort!, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      return (await transport.sendMail({ envelope: { from: '', to: [to] }, raw })).response;
    } finally {
      transport.close();
    }
  }
  /** Everything a report could change: every event, every recipient's status, the suppression list. */
  async function state() {
    const rs = await store.queue.listRecipients(attacker.messageId);
    return {
      events: (await store.events.list({ limit: 1_000_000 })).length,
      statuses: rs.map((r) => `${r.address}:${r.status}`),
      suppressed: (await Promise.all(rs.map((r) => store.suppressions.get(credentials.serverId, r.address)))).filter((s) => s !== undefined).length,
    };
  }
  const forgedLogs = () => logs.filter((l) => l.event === 'mx.report_forged');
  const counter = async () => (await app.metrics.registry.getSingleMetric('postline_inbound_reports_total')!.get()).values;

  it('each recipient receives its own tagged Return-Path and Message-ID; ids of one injection are not a step of one apart', () => {
    for (const r of [attacker, ...neighbours]) {
      const m = sunk(r.address);
      expect(m.mailFrom).toMatch(new RegExp(`^b\\+${r.id.toLowerCase()}-[0-9a-hjkmnp-tv-z]{13}@${BOUNCE_DOMAIN.replace(/\./g, '\\.')}$`));
      const tag = m.mailFrom.slice(2 + 26 + 1, 2 + 26 + 1 + 13);
      expect(messageIdOf(m)).toBe(`${r.id.toLowerCase()}-${tag}@postline.test`);
    }
    const tags = new Set([attacker, ...neighbours].map((r) => sunk(r.address).mailFrom.split(/[-@]/)[1]));
    expect(tags.size).toBe(5);
  });

  it("DSNs aimed at the neighbours (no tag, the attacker's tag, a made-up tag) and at a random id change nothing and are logged", async () => {
    const before = await state();
    const logged = forgedLogs().length;
    const mine = sunk(attacker.address).mailFrom.split(/[-@]/)[1]!;
    const attempts: { to: string; reason: string; target: string }[] = [];
    for (const n of neighbours) {
      const id = n.id.toLowerCase();
      attempts.push({ to: `b+${id}@${BOUNCE_DOMAIN}`, reason: 'untagged', target: n.id });
      attempts.push({ to: `b+${id}-${mine}@${BOUNCE_DOMAIN}`, reason: 'bad-tag', target: n.id });
      attempts.push({ to: `b+${id}-0123456789abc@${BOUNCE_DOMAIN}`, reason: 'bad-tag', target: n.id });
    }
    const random = newId().toLowerCase();
    attempts.push({ to: `b+${random}-${mine}@${BOUNCE_DOMAIN}`, reason: 'bad-tag', target: random.toUpperCase() });
    for (const a of attempts) {
      const n = neighbours.find((x) => x.id === a.target);
      // The report names the victim both ways: as the envelope recipient and in its Final-Recipient.
      expect(await mx(report('postfix-5.1.1-user-unknown.eml', a.to.slice(2, a.to.indexOf('@')), n?.address ?? 'x@sink.test'), a.to)).toMatch(/^250 /);
    }
    expect(await state()).toEqual(before);
    expect(before.statuses.every((s) => s.endsWith(':delivered'))).toBe(true);
    expect(
      forgedLogs()
        .slice(logged)
        .map((l) => ({ reason: l.reason, recipientId: l.recipientId, tracedVia: l.tracedVia })),
    ).toEqual(attempts.map((a) => ({ reason: a.reason, recipientId: a.target, tracedVia: 'rcpt-to' })));
    const values = await counter();
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'bounce', outcome: 'untagged' }, value: 4 }));
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'bounce', outcome: 'bad-tag' }, value: 9 }));
  });

  it('a report traced by a Message-ID or Original-Mail-From without a tag changes nothing and is logged', async () => {
    const before = await state();
    const logged = forgedLogs().length;
    const victim = neighbours[0]!;
    // Postfix attaches the original without a Return-Path: only its Message-ID names the recipient.
    expect(await mx(report('postfix-5.1.1-user-unknown.eml', victim.id.toLowerCase(), victim.address), COMPLAINTS)).toMatch(/^250 /);
    expect(await mx(report('postfix-5.1.1-user-unknown.eml', victim.id.toLowerCase(), victim.address), `b@${BOUNCE_DOMAIN}`)).toMatch(/^250 /);
    // An ARF complaint whose Original-Mail-From and quoted Message-ID carry the bare id.
    expect(await mx(report('arf-yahoo.eml', victim.id.toLowerCase(), victim.address), COMPLAINTS)).toMatch(/^250 /);
    expect(await state()).toEqual(before);
    expect(forgedLogs().slice(logged)).toEqual([
      expect.objectContaining({ kind: 'bounce', reason: 'untagged', recipientId: victim.id, tracedVia: 'message-id', rcptTo: [COMPLAINTS] }),
      expect.objectContaining({ kind: 'bounce', reason: 'untagged', recipientId: victim.id, tracedVia: 'message-id', rcptTo: [`b@${BOUNCE_DOMAIN}`] }),
      expect.objectContaining({ kind: 'complaint', reason: 'untagged', recipientId: victim.id, tracedVia: 'original-mail-from' }),
    ]);
  });

  it("a report proven for the attacker's own recipient but naming a neighbour's address changes nothing and is logged", async () => {
    const before = await state();
    const logged = forgedLogs().length;
    const own = sunk(attacker.address);
    const ownIdPart = own.mailFrom.slice(2, own.mailFrom.indexOf('@'));
    const victim = neighbours[1]!;
    expect(await mx(report('postfix-5.1.1-user-unknown.eml', ownIdPart, victim.address), own.mailFrom)).toMatch(/^250 /);
    expect(await mx(report('postfix-4.4.1-delayed.eml', ownIdPart, victim.address), own.mailFrom)).toMatch(/^250 /);
    expect(await mx(report('arf-yahoo.eml', ownIdPart, victim.address), COMPLAINTS)).toMatch(/^250 /);
    expect(await state()).toEqual(before);
    expect(forgedLogs().slice(logged)).toEqual([
      expect.objectContaining({ kind: 'bounce', reason: 'recipient-mismatch', recipientId: attacker.id, tracedVia: 'rcpt-to' }),
      expect.objectContaining({ kind: 'delay', reason: 'recipient-mismatch', recipientId: attacker.id, tracedVia: 'rcpt-to' }),
      expect.objectContaining({ kind: 'complaint', reason: 'recipient-mismatch', recipientId: attacker.id, tracedVia: 'original-mail-from' }),
    ]);
  });

  it('the genuine reports, written from what the recipients received, still fail and suppress', async () => {
    const logged = forgedLogs().length;
    // A DSN to the Return-Path the recipient's mail was sent with.
    const bounced = neighbours[2]!;
    const m = sunk(bounced.address);
    expect(await mx(report('postfix-5.1.1-user-unknown.eml', m.mailFrom.slice(2, m.mailFrom.indexOf('@')), bounced.address), m.mailFrom.toUpperCase())).toMatch(
      /^250 .*recorded/,
    );
    expect(await store.queue.getRecipient(bounced.id)).toMatchObject({ status: 'failed', failureCode: 2001 });
    expect(await store.suppressions.get(credentials.serverId, bounced.address)).toMatchObject({ reason: 'Bounce' });
    // A complaint that quotes only the Message-ID it received (no Original-Mail-From).
    const complained = neighbours[3]!;
    const arf = report('arf-yahoo.eml', messageIdOf(sunk(complained.address)).split('@')[0]!, complained.address).replace(/^Original-Mail-From:.*\n/m, '');
    expect(arf).not.toMatch(/Original-Mail-From/);
    expect(await mx(arf, COMPLAINTS)).toMatch(/^250 .*recorded/);
    expect((await store.events.list({ messageId: complained.messageId })).filter((e) => e.recipientId === complained.id).map((e) => e.type)).toEqual([
      'Queued',
      'Delivered',
      'Complaint',
    ]);
    expect(await store.suppressions.get(credentials.serverId, complained.address)).toMatchObject({ reason: 'Complaint' });
    expect(forgedLogs().length).toBe(logged);
    expect(logs.filter((l) => l.event === 'mx.recorded').map((l) => l.tracedVia)).toEqual(['rcpt-to', 'message-id']);
    // The others were never touched.
    expect((await store.queue.getRecipient(attacker.id))!.status).toBe('delivered');
    expect((await store.queue.getRecipient(neighbours[0]!.id))!.status).toBe('delivered');
  });
});
