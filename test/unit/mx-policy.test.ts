import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideMxRcpt, mailboxFor, mxAddressesOf, MAX_MX_RECIPIENTS } from '../../src/mx/recipient-policy.js';
import { planReport } from '../../src/mx/report-plan.js';
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
    expect(loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'abuse@mta.example.com' }).complaintAddress).toBe('abuse@mta.example.com');
    expect(() => loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'abuse@other.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTLINE_BOUNCE_DOMAIN: 'b.example.com', POSTLINE_COMPLAINT_ADDRESS: 'abuse@mta.example.com' })).toThrow(/bounce domain/);
    expect(() => loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'b+x@mta.example.com' })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTLINE_HOSTNAME: 'mta.example.com', POSTLINE_COMPLAINT_ADDRESS: 'no-at-sign' })).toThrow(ConfigError);
  });
});

describe('planReport', () => {
  const recipient = (id: string, address = 'someone@example.org'): StoredRecipient => ({
    id, messageId: 'M', serverId: 1, address, domain: 'example.org', kind: 'to', merge: null, mailingId: null, messageId_: null,
    status: 'delivered', attempts: 1, nextAttemptAt: 0, lockedBy: null, lockedAt: null, lastReply: null, lastMx: null, failureCode: null,
    createdAt: 0, updatedAt: 0,
  });
  const plan = async (file: string, opts: { rcptTo?: string; known?: boolean } = {}) => {
    const report = await parseReport(fixture(file), opts.rcptTo ? { rcptTo: opts.rcptTo } : {});
    return planReport({ report, recipient: opts.known === false || !report.recipientId ? undefined : recipient(report.recipientId), fromAddress: 'from@example.com', sizeBytes: 1234 });
  };

  it('prefers the report line naming our recipient among several', async () => {
    const report = await parseReport(fixture('two-recipients.eml'));
    const second = report.recipients[1]!;
    const p = planReport({ report, recipient: recipient(report.recipientId!, second.address.toUpperCase()), fromAddress: null, sizeBytes: 1 });
    expect(p).toMatchObject({ action: 'record', record: { event: { type: 'Failed', data: { BounceStatus: second.status, FailureCode: second.failureCode } } } });
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
    const p = planReport({ report: { ...parsed, recipients: [line] }, recipient: recipient(parsed.recipientId!), fromAddress: null, sizeBytes: 1 });
    expect(p).toMatchObject({ action: 'record', record: { event: { type: 'Failed', data: { FailureType: 1, FailureCode: 1004, Reason: '554 5.7.1 Message rejected as spam' } }, failure: { failureCode: 1004 } } });
    expect(p.action === 'record' && p.record.suppress).toBeNull();
  });

  it('a report whose lines have no failed or delayed recipient is ignored', async () => {
    const parsed = await parseReport(fixture('postfix-5.1.1-user-unknown.eml'));
    const p = planReport({ report: { ...parsed, recipients: [] }, recipient: recipient(parsed.recipientId!), fromAddress: null, sizeBytes: 1 });
    expect(p).toEqual({ action: 'ignore', reason: 'no-recipient-line' });
  });

  it('complaints carry the SocketLabs Complaint fields and suppress as Complaint', async () => {
    expect(await plan('arf-aol.eml')).toMatchObject({
      action: 'record',
      record: { event: { type: 'Complaint', data: { FblType: 'abuse', From: 'from@example.com', To: 'someone@example.org', Length: 1234 } }, suppress: { reason: 'Complaint' } },
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
});
