import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideMxRcpt, mailboxFor, mxAddressesOf, MAX_MX_RECIPIENTS } from '../../src/mx/recipient-policy.js';
import { isForgery, planReport } from '../../src/mx/report-plan.js';
import type { TraceVerdict } from '../../src/bounce/trace.js';
import { parseReport } from '../../src/bounce/parse-report.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { StoredRecipient } from '../../src/store/store.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/reports');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

describe('MX recipient policy', () => {
  const book = mxAddressesOf({ bounceDomain: 'Bounces.Example.com', hostname: 'mta.example.com', complaintAddress: null });

  it('derives its mailboxes from the bounce domain (default the hostname)', () => {
    expect(book).toEqual({ bounceDomain: 'bounces.example.com', complaintAddress: 'fbl@bounces.example.com' });
    expect(mxAddressesOf({ bounceDomain: null, hostname: 'mta.example.com', complaintAddress: null }).bounceDomain).toBe('mta.example.com');
  });

  it.each([
    ['b+01m7w2y7m07px5vpa00k793s0k@bounces.example.com', 'bounce'],
    ['B+01M7W2Y7M07PX5VPA00K793S0K@BOUNCES.EXAMPLE.COM', 'bounce'],
    ['b@bounces.example.com', 'bounce'],
    ['b+01m7w2y7m07px5vpa00k793s0k-0123456789abc@bounces.example.com', 'bounce'], // with its trace tag
    ['B+01M7W2Y7M07PX5VPA00K793S0K-0123456789ABC@bounces.example.com', 'bounce'],
    ['b+01m7w2y7m07px5vpa00k793s0k-x@bounces.example.com', 'bounce'], // a wrong tag is judged with the report, not at RCPT
    ['b+01m7w2y7m07px5vpa00k793s0k-@bounces.example.com', null],
    ['b+01m7w2y7m07px5vpa00k793s0k-not.a.tag@bounces.example.com', null],
    [`b+01m7w2y7m07px5vpa00k793s0k-${'a'.repeat(33)}@bounces.example.com`, null],
    ['FBL@bounces.example.com', 'complaint'],
    ['b+01m7w2y7m07px5vpa00k793s0@bounces.example.com', null], // 25 characters
    ['b+01m7w2y7m07px5vpa00k793s0ku@bounces.example.com', null], // 27 characters, or a U
    ['b+01m7w2y7m07px5vpa00k793s0k@example.com', null],
    ['b+01m7w2y7m07px5vpa00k793s0k@evil.bounces.example.com', null],
    ['postmaster@bounces.example.com', null],
    ['fbl@mta.example.com', null],
    ['someone@gmail.com', null],
  ])('%s -> %s', (address, mailbox) => {
    expect(mailboxFor(address, book)).toBe(mailbox);
  });

  it('refuses at RCPT with the relay reply, bad syntax with 501, and more than the cap with 452', () => {
    const base = { book, recipientCount: 0, alreadyListed: false };
    expect(decideMxRcpt({ ...base, address: 'fbl@bounces.example.com' })).toEqual({ ok: true });
    expect(decideMxRcpt({ ...base, address: 'x@elsewhere.example' })).toEqual({ ok: false, code: 550, message: '5.7.1 Relaying denied: no such mailbox here' });
    expect(decideMxRcpt({ ...base, address: 'not an address' })).toMatchObject({ ok: false, code: 501 });
    expect(decideMxRcpt({ ...base, address: 'b@bounces.example.com', recipientCount: MAX_MX_RECIPIENTS })).toMatchObject({ ok: false, code: 452 });
    expect(decideMxRcpt({ ...base, address: 'b@bounces.example.com', recipientCount: MAX_MX_RECIPIENTS, alreadyListed: true })).toEqual({ ok: true });
  });

  it('configuration refuses a complaint address outside the bounce domain or in the bounce form', () => {
    expect(loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'abuse@mta.example.com' }).complaintAddress).toBe(
      'abuse@mta.example.com',
    );
    expect(() => loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'abuse@other.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTLINE_BOUNCE_DOMAIN: 'b.example.com', POSTLINE_COMPLAINT_ADDRESS: 'abuse@mta.example.com' })).toThrow(/bounce domain/);
    expect(() => loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'b+x@mta.example.com' })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'no-at-sign' })).toThrow(ConfigError);
  });
});

describe('planReport', () => {
  const recipient = (id: string, address = 'someone@example.org'): StoredRecipient => ({
    id,
    messageId: 'M',
    serverId: 1,
    address,
    domain: 'example.org',
    kind: 'to',
    merge: null,
    mailingId: null,
    messageId_: null,
    status: 'delivered',
    attempts: 1,
    nextAttemptAt: 0,
    lockedBy: null,
    lockedAt: null,
    lastReply: null,
    lastMx: null,
    failureCode: null,
    createdAt: 0,
    updatedAt: 0,
  });
  /** The verdict of a report whose tag verified (or that names no id at all). */
  const proven = (id: string | null): TraceVerdict =>
    id ? { ok: true, recipientId: id, via: 'return-path' } : { ok: false, reason: 'untraced', claimedId: null, via: null };
  /** The address the report names, as the traced recipient's own (a genuine report). */
  const namedAddress = (report: Awaited<ReturnType<typeof parseReport>>): string =>
    report.recipients[0]?.address ?? report.complaint?.originalRcptTo[0] ?? 'someone@example.org';
  const plan = async (file: string, opts: { rcptTo?: string; known?: boolean; address?: string } = {}) => {
    const report = await parseReport(fixture(file), opts.rcptTo ? { rcptTo: opts.rcptTo } : {});
    const r = opts.known === false || !report.recipientId ? undefined : recipient(report.recipientId, opts.address ?? namedAddress(report));
    return planReport({ report, trace: proven(report.recipientId), recipient: r, fromAddress: 'from@example.com', sizeBytes: 1234 });
  };

  it('prefers the report line naming our recipient among several', async () => {
    const report = await parseReport(fixture('two-recipients.eml'));
    const second = report.recipients[1]!;
    const p = planReport({
      report,
      trace: proven(report.recipientId),
      recipient: recipient(report.recipientId!, second.address.toUpperCase()),
      fromAddress: null,
      sizeBytes: 1,
    });
    expect(p).toMatchObject({
      action: 'record',
      record: { event: { type: 'Failed', data: { BounceStatus: second.status, FailureCode: second.failureCode } } },
    });
  });

  it('shapes a permanent failure like the delivery path, marked Async', async () => {
    expect(await plan('exim-rfc3464.eml')).toEqual({
      action: 'record',
      record: {
        recipientId: '01M7W9TEAY8WF6XC8WP9P1SQ30',
        event: { type: 'Failed', data: expect.objectContaining({ FailureType: 1, FailureCode: 2001, BounceStatus: '5.0.0', Async: true }) },
        failure: { failureCode: 2001, reply: expect.stringMatching(/^550 /) },
        suppress: { reason: 'Bounce', detail: expect.stringMatching(/^FailureCode 2001: 550 /) },
      },
    });
  });

  it('a 1xxx block (content, policy) fails the recipient without suppressing the address', async () => {
    const parsed = await parseReport(fixture('postfix-5.1.1-user-unknown.eml'));
    const line = { ...parsed.recipients[0]!, status: '5.7.1', diagnosticCode: 'smtp; 554 5.7.1 Message rejected as spam', failureCode: 1004, permanent: true };
    const p = planReport({
      report: { ...parsed, recipients: [line] },
      trace: proven(parsed.recipientId),
      recipient: recipient(parsed.recipientId!, line.address),
      fromAddress: null,
      sizeBytes: 1,
    });
    expect(p).toMatchObject({
      action: 'record',
      record: {
        event: { type: 'Failed', data: { FailureType: 1, FailureCode: 1004, Reason: '554 5.7.1 Message rejected as spam' } },
        failure: { failureCode: 1004 },
      },
    });
    expect(p.action === 'record' && p.record.suppress).toBeNull();
  });

  it('a report whose lines have no failed or delayed recipient is ignored', async () => {
    const parsed = await parseReport(fixture('postfix-5.1.1-user-unknown.eml'));
    const p = planReport({
      report: { ...parsed, recipients: [] },
      trace: proven(parsed.recipientId),
      recipient: recipient(parsed.recipientId!),
      fromAddress: null,
      sizeBytes: 1,
    });
    expect(p).toEqual({ action: 'ignore', reason: 'no-recipient-line' });
  });

  it('complaints carry the SocketLabs Complaint fields and suppress as Complaint', async () => {
    expect(await plan('arf-aol.eml')).toMatchObject({
      action: 'record',
      record: {
        event: { type: 'Complaint', data: { FblType: 'abuse', From: 'from@example.com', To: 'someone@example.org', Length: 1234 } },
        suppress: { reason: 'Complaint' },
      },
    });
    expect(await plan('arf-microsoft-jmrp.eml')).toMatchObject({ action: 'record', record: { event: { type: 'Complaint' } } });
  });

  it.each([
    ['auto-reply-out-of-office.eml', 'not-a-report'],
    ['mdn-read-receipt.eml', 'not-a-report'],
    ['dsn-relayed-success.eml', 'not-a-report'],
    ['ordinary-message.eml', 'not-a-report'],
    ['exim-delay-warning-plain.eml', 'untraced'],
  ])('%s is ignored (%s)', async (file, reason) => {
    expect(await plan(file)).toEqual({ action: 'ignore', reason });
  });

  it('a traced id that names no recipient is ignored', async () => {
    expect(await plan('postfix-5.1.1-user-unknown.eml', { known: false })).toEqual({ action: 'ignore', reason: 'unknown-recipient' });
  });

  it('a report whose trace is not proven is ignored with the trace verdict as the reason, whatever it reports', async () => {
    for (const file of ['postfix-5.1.1-user-unknown.eml', 'postfix-4.4.1-delayed.eml', 'arf-yahoo.eml']) {
      const report = await parseReport(fixture(file));
      const r = recipient(report.recipientId!, namedAddress(report));
      for (const reason of ['untagged', 'bad-tag'] as const) {
        const trace: TraceVerdict = { ok: false, reason, claimedId: report.recipientId, via: 'message-id' };
        expect(planReport({ report, trace, recipient: r, fromAddress: null, sizeBytes: 1 }), `${file} ${reason}`).toEqual({ action: 'ignore', reason });
      }
    }
    expect(isForgery('untagged') && isForgery('bad-tag') && isForgery('recipient-mismatch')).toBe(true);
    expect(isForgery('untraced') || isForgery('unknown-recipient') || isForgery('not-a-report')).toBe(false);
  });

  it('a proven trace to another recipient than the one looked up is not acted on', async () => {
    const report = await parseReport(fixture('postfix-5.1.1-user-unknown.eml'));
    const p = planReport({
      report,
      trace: proven('01M7ZZZZZZZZZZZZZZZZZZZZZZ'),
      recipient: recipient(report.recipientId!, namedAddress(report)),
      fromAddress: null,
      sizeBytes: 1,
    });
    expect(p).toEqual({ action: 'ignore', reason: 'unknown-recipient' });
  });

  it("a bounce or delay naming another address than the proven recipient's is a recipient mismatch", async () => {
    expect(await plan('postfix-5.1.1-user-unknown.eml', { address: 'victim@example.org' })).toEqual({ action: 'ignore', reason: 'recipient-mismatch' });
    expect(await plan('postfix-4.4.1-delayed.eml', { address: 'victim@example.org' })).toEqual({ action: 'ignore', reason: 'recipient-mismatch' });
    expect(await plan('qmail-plain.eml', { address: 'victim@example.org' })).toEqual({ action: 'ignore', reason: 'recipient-mismatch' });
    // The address matches whatever its case, and as the Original-Recipient of an alias expanded further on.
    expect(await plan('postfix-5.1.1-user-unknown.eml', { address: 'Jordan.Reyes@EXAMPLE.org' })).toMatchObject({ action: 'record' });
    const forwarded = await parseReport(fixture('mailbox-full-4.2.2-delayed.eml'));
    const line = forwarded.recipients[0]!;
    expect(line.originalRecipient).not.toBeNull();
    expect(line.originalRecipient).not.toBe(line.address);
    expect(
      planReport({
        report: forwarded,
        trace: proven(forwarded.recipientId),
        recipient: recipient(forwarded.recipientId!, line.originalRecipient!),
        fromAddress: null,
        sizeBytes: 1,
      }),
    ).toMatchObject({ action: 'record', record: { event: { type: 'Deferred' } } });
  });

  it('a complaint naming another original recipient is a mismatch; one naming none is taken', async () => {
    expect(await plan('arf-yahoo.eml', { address: 'victim@yahoo.com' })).toEqual({ action: 'ignore', reason: 'recipient-mismatch' });
    expect(await plan('arf-microsoft-jmrp.eml', { address: 'victim@outlook.com' })).toEqual({ action: 'ignore', reason: 'recipient-mismatch' });
    expect(await plan('arf-yahoo.eml', { address: 'MORGAN.ELLIS@yahoo.com' })).toMatchObject({ action: 'record', record: { event: { type: 'Complaint' } } });
    const aol = await parseReport(fixture('arf-aol.eml'));
    expect(aol.complaint!.originalRcptTo).toEqual([]);
    expect(await plan('arf-aol.eml', { address: 'anyone@aol.example' })).toMatchObject({ action: 'record', record: { event: { type: 'Complaint' } } });
  });
});
