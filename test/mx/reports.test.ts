import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import { RawSmtp } from '../smtp/raw-client.js';
import type { StoredRecipient } from '../../src/store/store.js';
import { loadVerpKeyring } from '../../src/bounce/verp-keys.js';
import { tracedLocalPart, type VerpKeyring } from '../../src/core/verp.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/reports');
const BOUNCE_DOMAIN = 'bounces.harbor-outfitters.example';
const COMPLAINTS = `fbl@${BOUNCE_DOMAIN}`;
/** Every fixture names one Postline recipient id, lower-cased (test/fixtures/reports/README.md). */
const FIXTURE_ID = /01m7[0-9a-z]{22}/gi;

/** The address fields of the fixtures that name the recipient a report is about. */
const NAMED_RECIPIENT = /^(Final-Recipient|Original-Recipient|Original-Rcpt-To):(\s*(?:rfc822;\s*)?).*$/gim;

describe(`MX listener: asynchronous bounces and complaints (${TEST_STORE_KIND})`, () => {
  let verp: VerpKeyring;
  /**
   * A real report from the fixtures, about recipient `r` instead of the recipient it was written
   * for: its id with the tag Postline wrote beside it (Return-Path, Message-ID), its address in
   * the fields that name the recipient.
   */
  const reportAbout = (file: string, r: { id: string; address: string }): string =>
    readFileSync(join(FIXTURES, file), 'utf8')
      .replace(FIXTURE_ID, tracedLocalPart(r.id, verp.tag(r.id)))
      .replace(NAMED_RECIPIENT, `$1:$2${r.address}`);
  const returnPath = (recipientId: string): string => `b+${tracedLocalPart(recipientId, verp.tag(recipientId))}@${BOUNCE_DOMAIN}`;

  let sink: SmtpSink;
  let t: TestApp;
  let n = 0;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'smtp', 'delivery'],
      config: { outboundPort: sink.port, submissionPort: 0, smtpHost: '127.0.0.1', bounceDomain: BOUNCE_DOMAIN },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
    });
    verp = await loadVerpKeyring(t.store);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  const send = (to: string) =>
    inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: [{ EmailAddress: to }], From: { EmailAddress: 'sender@example.com' }, Subject: 'Hello', TextBody: 'Body' }],
    });
  /** Injects one message to a new address at the sink and waits until it is delivered. */
  async function delivered(): Promise<StoredRecipient> {
    expect((await send(`user${++n}@sink.test`)).body.ErrorCode).toBe('Success');
    const [r] = await waitForRecipients(t.store, await newestMessageId(t.store), (rs) => rs.every((x) => x.status === 'delivered'));
    return r!;
  }
  /** Sends a report to the MX port over STARTTLS from the null reverse-path; resolves to the final reply. */
  async function mx(raw: string, to: string[]): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: t.app.mxPort!, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      return (await transport.sendMail({ envelope: { from: '', to }, raw })).response;
    } finally {
      transport.close();
    }
  }
  const eventsOf = async (r: StoredRecipient) => (await t.store.events.list({ messageId: r.messageId })).filter((e) => e.recipientId === r.id);
  const allEvents = async () => (await t.store.events.list({ limit: 1_000_000 })).length;
  const counter = async () => (await t.app.metrics.registry.getSingleMetric('postline_inbound_reports_total')!.get()).values;

  it('records a bounce to the Return-Path after Delivered: Failed event, status failed, address suppressed, later sends suppressed', async () => {
    const r = await delivered();
    const reply = await mx(reportAbout('postfix-5.1.1-user-unknown.eml', r), [returnPath(r.id).toUpperCase()]);
    expect(reply).toMatch(/^250 /);

    const events = await eventsOf(r);
    expect(events.map((e) => e.type)).toEqual(['Queued', 'Delivered', 'Failed']);
    expect(events[2]!.data).toEqual({
      FailureType: 1,
      FailureCode: 2001,
      BounceStatus: '5.1.1',
      Async: true,
      Reason: '550 5.1.1 <jordan.reyes@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      DiagnosticCode: 'smtp; 550 5.1.1 <jordan.reyes@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      RemoteMta: 'mail.example.org',
      Explanation: expect.any(String),
    });
    expect(await t.store.queue.getRecipient(r.id)).toMatchObject({ status: 'failed', failureCode: 2001 });
    const listed = await t.store.suppressions.get(t.credentials.serverId, r.address);
    expect(listed).toMatchObject({ reason: 'Bounce' });
    expect(listed!.detail).toContain('FailureCode 2001');

    // A new message to the address is accepted but never sent.
    await send(r.address);
    // A suppressed recipient gets no Queued event: its message is the one of the newest event.
    const newest = (await t.store.events.list({ limit: 1_000_000 })).at(-1)!;
    const [again] = await t.store.queue.listRecipients(newest.messageId);
    expect(again).toMatchObject({ address: r.address, status: 'suppressed' });
    expect((await t.store.events.list({ messageId: again!.messageId })).at(-1)!.data).toMatchObject({ FailureType: 2, FailureCode: 9999 });

    // The same DSN delivered twice changes nothing; a DSN about the suppressed (never sent) recipient neither.
    const before = await allEvents();
    expect(await mx(reportAbout('postfix-5.1.1-user-unknown.eml', r), [returnPath(r.id)])).toMatch(/^250 /);
    expect(await mx(reportAbout('postfix-5.1.1-user-unknown.eml', again!), [returnPath(again!.id)])).toMatch(/^250 /);
    expect(await allEvents()).toBe(before);
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toEqual(listed);
    expect(await t.store.queue.getRecipient(again!.id)).toMatchObject({ status: 'suppressed' });
    const values = await counter();
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'bounce', outcome: 'recorded' }, value: 1 }));
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'bounce', outcome: 'already-failed' }, value: 1 }));
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'bounce', outcome: 'not-sent' }, value: 1 }));
  });

  it('traces a bounce by the envelope alone when the original headers do not name the recipient', async () => {
    const r = await delivered();
    // Amazon SES rewrote the Message-ID: only the Return-Path the report is sent to names the recipient.
    const report = reportAbout('amazon-ses.eml', r);
    expect(await mx(report, [COMPLAINTS])).toMatch(/^250 /);
    expect((await eventsOf(r)).map((e) => e.type)).toEqual(['Queued', 'Delivered']);
    expect(await mx(report, [returnPath(r.id)])).toMatch(/^250 /);
    expect((await eventsOf(r)).at(-1)!).toMatchObject({ type: 'Failed', data: { FailureType: 1, FailureCode: 2001, Async: true } });
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toMatchObject({ reason: 'Bounce' });
  });

  it('traces a bounce by the original headers it quotes, sent to the complaint address', async () => {
    const r = await delivered();
    expect(await mx(reportAbout('postline-original-headers.eml', r), [COMPLAINTS])).toMatch(/^250 /);
    const failed = (await eventsOf(r)).at(-1)!;
    expect(failed.type).toBe('Failed');
    expect(failed.data).toMatchObject({ FailureType: 1, FailureCode: 2001, BounceStatus: '5.1.1', Async: true, RemoteMta: 'EXCH02.corp.example.com' });
    expect(await t.store.queue.getRecipient(r.id)).toMatchObject({ status: 'failed', failureCode: 2001 });
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toMatchObject({ reason: 'Bounce' });
  });

  it('traces a bounce by the original headers it quotes, sent to the bare bounce address', async () => {
    const r = await delivered();
    expect(await mx(reportAbout('sendmail-5.1.1.eml', r), [`b@${BOUNCE_DOMAIN}`])).toMatch(/^250 /);
    expect((await eventsOf(r)).at(-1)!).toMatchObject({ type: 'Failed', data: { FailureCode: 2001, RemoteMta: 'inbound.example.edu' } });
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toMatchObject({ reason: 'Bounce' });
  });

  it('fails without suppressing when the remote gave up on a temporary failure (full mailbox)', async () => {
    const r = await delivered();
    expect(await mx(reportAbout('mailbox-full-5.2.2.eml', r), [returnPath(r.id)])).toMatch(/^250 /);
    expect((await eventsOf(r)).at(-1)!).toMatchObject({ type: 'Failed', data: { FailureType: 0, FailureCode: 3001, Async: true } });
    expect(await t.store.queue.getRecipient(r.id)).toMatchObject({ status: 'failed', failureCode: 3001 });
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toBeUndefined();
  });

  it('records a delay notice as a Deferred event only', async () => {
    const r = await delivered();
    expect(await mx(reportAbout('postfix-4.4.1-delayed.eml', r), [returnPath(r.id)])).toMatch(/^250 /);
    const events = await eventsOf(r);
    expect(events.map((e) => e.type)).toEqual(['Queued', 'Delivered', 'Deferred']);
    expect(events[2]!.data).toMatchObject({ FailureCode: 4003, BounceStatus: '4.4.1', RemoteMta: 'relay.example.net', Async: true });
    expect(await t.store.queue.getRecipient(r.id)).toMatchObject({ status: 'delivered', failureCode: null });
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toBeUndefined();
  });

  it('records an ARF complaint: Complaint event and suppression (Complaint), once', async () => {
    const r = await delivered();
    const report = reportAbout('arf-yahoo.eml', r);
    expect(await mx(report, [COMPLAINTS])).toMatch(/^250 /);
    const events = await eventsOf(r);
    expect(events.map((e) => e.type)).toEqual(['Queued', 'Delivered', 'Complaint']);
    expect(events[2]!.data).toEqual({
      FblType: 'abuse',
      UserAgent: 'Yahoo!-Mail-Feedback/2.0',
      From: 'sender@example.com',
      To: r.address,
      // As received: SMTP carries CRLF line ends (the fixture file has LF).
      Length: Buffer.byteLength(report.replace(/\r?\n/g, '\r\n')),
    });
    const listed = await t.store.suppressions.get(t.credentials.serverId, r.address);
    expect(listed).toMatchObject({ reason: 'Complaint' });
    expect(await t.store.queue.getRecipient(r.id)).toMatchObject({ status: 'delivered' });

    // The feedback loop sends it again: nothing more.
    expect(await mx(report, [COMPLAINTS])).toMatch(/^250 /);
    expect((await eventsOf(r)).length).toBe(3);
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toEqual(listed);
  });

  it('accepts auto-replies, read receipts, success notices and ordinary mail to the bounce address and writes nothing', async () => {
    const r = await delivered();
    const before = await allEvents();
    for (const file of [
      'auto-reply-out-of-office.eml',
      'auto-reply-vacation-sieve.eml',
      'mdn-read-receipt.eml',
      'dsn-relayed-success.eml',
      'ordinary-message.eml',
    ]) {
      expect(await mx(reportAbout(file, r), [returnPath(r.id)]), file).toMatch(/^250 /);
    }
    expect(await allEvents()).toBe(before);
    expect(await t.store.queue.getRecipient(r.id)).toMatchObject({ status: 'delivered' });
    expect(await t.store.suppressions.get(t.credentials.serverId, r.address)).toBeUndefined();
  });

  it('accepts a report it cannot trace, or that names no recipient of ours, and writes nothing', async () => {
    const before = await allEvents();
    // A well-formed id with its valid tag that names no recipient (deleted by retention, say).
    const unknown = { id: '01M7ZZZZZZZZZZZZZZZZZZZZZZ', address: 'nobody@sink.test' };
    expect(await mx(reportAbout('postfix-5.1.1-user-unknown.eml', unknown), [returnPath(unknown.id)])).toMatch(/^250 /);
    expect(await mx(reportAbout('arf-yahoo.eml', unknown), [COMPLAINTS])).toMatch(/^250 /);
    // Untraceable: a plain-text report quoting nothing of ours, to the complaint address.
    expect(await mx(reportAbout('exim-delay-warning-plain.eml', unknown), [COMPLAINTS])).toMatch(/^250 /);
    expect(await allEvents()).toBe(before);
    const values = await counter();
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'bounce', outcome: 'unknown-recipient' }, value: 1 }));
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'complaint', outcome: 'unknown-recipient' }, value: 1 }));
    expect(values).toContainEqual(expect.objectContaining({ labels: { kind: 'delay', outcome: 'untraced' }, value: 1 }));
  });

  it('refuses every other recipient at RCPT (never an open relay) and writes nothing', async () => {
    const before = await allEvents();
    const c = await RawSmtp.connect(t.app.mxPort!);
    expect((await c.reply()).code).toBe(220);
    expect((await c.cmd('EHLO relay.example')).text).toMatch(/STARTTLS/);
    expect((await c.cmd('MAIL FROM:<>')).code).toBe(250);
    for (const rcpt of [
      'someone@gmail.example', // a relay attempt to an outside domain
      `postmaster@${BOUNCE_DOMAIN}`, // another local part of the bounce domain
      `b+not-an-id@${BOUNCE_DOMAIN}`,
      `b+01m7w2y7m07px5vpa00k793s0k@other.example`, // a bounce address of another domain
      'fbl@postline.test', // the complaint local part at the hostname, which is not the bounce domain here
    ]) {
      expect(await c.cmd(`RCPT TO:<${rcpt}>`), rcpt).toEqual({ code: 550, text: '5.7.1 Relaying denied: no such mailbox here' });
    }
    expect((await c.cmd('RCPT TO:<not an address>')).code).toBe(501);
    expect((await c.cmd('DATA')).code).toBe(503);
    expect((await c.cmd('AUTH PLAIN AGZvbwBiYXI=')).code).toBe(500); // no AUTH on the MX
    c.end();
    expect(await allEvents()).toBe(before);
  });
});
