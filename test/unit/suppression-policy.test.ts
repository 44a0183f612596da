import { describe, expect, it } from 'vitest';
import { bounceSuppression, clipDetail, isAddressFailure, suppressedFailure, suppressionKey } from '../../src/core/suppression.js';
import { deferOrExpire, outcomeFor, undeliverable, type Classify } from '../../src/delivery/outcome.js';
import { classifySmtpReply } from '../../src/bounce/classify.js';
import type { StoredRecipient } from '../../src/store/store.js';

const NOW = 1_700_000_000_000;
const recipient: StoredRecipient = {
  id: 'R1',
  messageId: 'M1',
  serverId: 10001,
  address: 'User@Example.com',
  domain: 'example.com',
  kind: 'to',
  merge: null,
  mailingId: null,
  messageId_: null,
  status: 'delivering',
  attempts: 0,
  nextAttemptAt: NOW,
  lockedBy: 'w',
  lockedAt: NOW,
  lastReply: null,
  lastMx: null,
  failureCode: null,
  createdAt: NOW,
  updatedAt: NOW,
};
const ctx = { now: NOW, lifetimeMs: 72 * 3_600_000, random: () => 0.5 };
const rejected = (code: number, response: string) => ({ kind: 'rejected' as const, code, response, mx: 'mx.example.com' });

describe('suppression policy (pure)', () => {
  it('treats only 2xxx FailureCodes as address failures', () => {
    expect([1004, 1999, 2000, 2001, 2999, 3001, 4004, 9999, null].map(isAddressFailure)).toEqual([false, false, true, true, true, false, false, false, false]);
  });

  it('suppresses on a permanent address failure only', () => {
    expect(bounceSuppression(true, 2001, '550 5.1.1 unknown')).toEqual({ reason: 'Bounce', detail: 'FailureCode 2001: 550 5.1.1 unknown' });
    expect(bounceSuppression(false, 2001, '450 4.1.1 try later')).toBeNull();
    expect(bounceSuppression(true, 1004, '554 5.7.1 spam')).toBeNull();
    expect(bounceSuppression(true, 2001, 'x'.repeat(3_000))!.detail).toHaveLength(1_000);
  });

  it('keys addresses lower-cased and clips details', () => {
    expect(suppressionKey('Jörg.X@Bücher.DE')).toBe('jörg.x@bücher.de');
    expect(clipDetail(undefined)).toBeNull();
    expect(clipDetail('short')).toBe('short');
  });

  it('describes a suppressed recipient as SocketLabs does: FailureType 2, FailureCode 9999', () => {
    expect(suppressedFailure('a@example.com', 'Complaint')).toEqual({
      reply: "Suppressed: a@example.com is on this server's suppression list (Complaint); not sent",
      data: {
        FailureType: 2,
        FailureCode: 9999,
        Reason: "Suppressed: a@example.com is on this server's suppression list (Complaint); not sent",
        BounceStatus: null,
        DiagnosticCode: null,
        RemoteMta: null,
        SuppressionReason: 'Complaint',
        Explanation: "The recipient is on the server's suppression list, so the message was not sent.",
      },
    });
  });
});

describe('delivery outcomes carry the suppression they cause', () => {
  const classify: Classify = classifySmtpReply;

  it('an unknown user (550 5.1.1) suppresses with reason Bounce', () => {
    const o = outcomeFor(recipient, rejected(550, '5.1.1 <User@Example.com>: Recipient address rejected: User unknown'), classify, ctx);
    expect(o.status).toBe('failed');
    expect(o.suppress).toEqual({ reason: 'Bounce', detail: 'FailureCode 2001: 550 5.1.1 <User@Example.com>: Recipient address rejected: User unknown' });
  });

  it('a policy or content block (5.7.1), a temporary failure and an expiry do not', () => {
    expect(outcomeFor(recipient, rejected(554, '5.7.1 Message rejected as spam by Content Filtering'), classify, ctx).suppress).toBeNull();
    const deferred = outcomeFor(recipient, rejected(450, '4.1.1 mailbox temporarily unavailable'), classify, ctx);
    expect(deferred.status).toBe('deferred');
    expect(deferred.suppress).toBeUndefined();
    const c = classify({ code: 451, text: '451 4.7.1 Greylisted' });
    const expired = deferOrExpire({ ...recipient, createdAt: NOW - 73 * 3_600_000 }, 5, '451 4.7.1 Greylisted', 'mx', c, ctx);
    expect(expired).toMatchObject({ status: 'failed', failureCode: 4004 });
    expect(expired.suppress).toBeUndefined();
    expect(outcomeFor(recipient, { kind: 'accepted', response: '250 ok', mx: 'mx', tls: true, localIp: '192.0.2.1' }, classify, ctx).suppress).toBeUndefined();
  });

  it('a null MX (2002) suppresses; a domain our resolver did not find, or a missing stored message (9999), does not', () => {
    expect(undeliverable(recipient, 'example.com publishes a null MX', 2002, 'no mail').suppress).toMatchObject({ reason: 'Bounce' });
    expect(undeliverable(recipient, 'example.com has no MX and no address records', 2002, 'no mail', false)).toMatchObject({
      status: 'failed',
      failureCode: 2002,
      suppress: null,
    });
    expect(undeliverable(recipient, 'message content is missing', 9999, 'missing').suppress).toBeNull();
  });
});
