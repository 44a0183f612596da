import { describe, expect, it } from 'vitest';
import { BOUNCE_RULES } from '../../src/bounce/bounce-rules.js';
import { classifySmtpReply, parseEnhancedStatus, MAX_CLASSIFIED_REPLY_CHARS } from '../../src/bounce/classify.js';

/** Every FailureCode in reference §7 (the .NET FailureCodes.cs + KB table union). */
const SECTION_7_CODES = new Set([
  1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1999, 2001, 2002, 2003, 2004, 2999, 3001, 3002, 3003, 3999, 4001, 4002, 4003, 4004, 4006,
  4999, 5001, 5999, 9999,
]);

/** The code an example was sent with: its leading 3 digits, or none for a network error. */
function codeOf(example: string): number | null {
  const m = /^(\d{3})[ -]/.exec(example);
  return m ? Number(m[1]) : null;
}

describe('bounce rules data', () => {
  it('has unique kebab-case ids and a sane size', () => {
    const ids = BOUNCE_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(BOUNCE_RULES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(BOUNCE_RULES.map((r) => [r.id, r] as const))('%s: code in §7, case-insensitive stateless pattern, one-line explanation', (_id, rule) => {
    expect(SECTION_7_CODES.has(rule.failureCode)).toBe(true);
    expect(rule.match.flags).toContain('i');
    expect(rule.match.flags).not.toMatch(/[gy]/);
    expect(rule.explanation).toMatch(/^[A-Z].*\.$/);
    expect(rule.explanation).not.toContain('\n');
    expect(rule.example.length).toBeGreaterThan(10);
  });

  it('makes a 4xx or network error permanent only in the documented cases', () => {
    expect(BOUNCE_RULES.filter((r) => r.permanent === true).map((r) => r.id)).toEqual(['domain-nxdomain']);
  });
});

describe('every rule classifies its own example', () => {
  it.each(BOUNCE_RULES.map((r) => [r.id, r] as const))('%s', (id, rule) => {
    const code = codeOf(rule.example);
    const c = classifySmtpReply({ code, text: rule.example });
    expect(c.ruleId).toBe(id);
    expect(c.failureCode).toBe(rule.failureCode);
    expect(c.permanent).toBe(rule.permanent ?? (code !== null && code >= 500));
    expect(c.explanation).toBe(rule.explanation);
  });

  it.each(BOUNCE_RULES.map((r) => [r.id, r] as const))('%s: a 4xx stays temporary unless the rule says permanent', (_id, rule) => {
    const text = rule.example.replace(/^\d{3}/, '451');
    expect(classifySmtpReply({ code: 451, text }).permanent).toBe(rule.permanent === true);
  });
});

describe('other wordings land on the expected codes', () => {
  const cases: [string, number | null, string, number, boolean][] = [
    // [name, code, text, failureCode, permanent]
    [
      'Gmail 421-4.7.0 unusual rate (IP)',
      421,
      '421-4.7.0 [192.0.2.1      15] Our system has detected an unusual rate of\n421-4.7.0 unsolicited mail originating from your IP address. To protect our\n421-4.7.0 users from spam, mail sent from your IP address has been temporarily\n421 4.7.0 rate limited. - gsmtp',
      1006,
      false,
    ],
    [
      'Gmail 4.7.28 DKIM domain',
      421,
      '421-4.7.28 Gmail has detected an unusual rate of unsolicited mail\n421-4.7.28 originating from your DKIM domain [example.com 15]. To protect our\n421 4.7.28 users from spam, mail has been temporarily rate limited. - gsmtp',
      1006,
      false,
    ],
    [
      'Gmail 550 unusual rate block stays permanent',
      550,
      '550-5.7.1 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been blocked.',
      1006,
      true,
    ],
    [
      'Gmail 550 5.2.1 ReceivingRatePerm is a retry',
      550,
      '550-5.2.1 The user you are trying to contact is receiving mail at a rate that\n550 5.2.1 prevents additional messages from being delivered. https://support.google.com/mail/?p=ReceivingRatePerm - gsmtp',
      3999,
      false,
    ],
    [
      'Gmail new over-quota wording',
      452,
      "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\n452 4.2.2 recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
      3001,
      false,
    ],
    ['Dovecot quota on 552 is temporary', 552, '552 5.2.2 <user@example.com> Quota exceeded (mailbox for user is full)', 3001, false],
    ['Exchange mailbox full', 552, '552 5.2.2 Mailbox full', 3001, false],
    ['Greylist plain', 451, '451 4.7.1 Greylisted, please try again', 3003, false],
    ['Greylist sent as 550', 550, '550 5.7.1 Greylisting in action, please come back later', 3003, false],
    [
      'Greylist via grey.rbl beats the blocklist',
      421,
      '421 4.7.1 Service unavailable; Client host [192.0.2.1] blocked using grey.rbl - Greylisting in action, please try again later',
      3003,
      false,
    ],
    [
      'Outlook 5.7.606 banned IP',
      550,
      '550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/ and follow the directions.',
      1003,
      true,
    ],
    [
      'Outlook Spamhaus',
      550,
      '550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.1 (AS16012611)',
      1002,
      true,
    ],
    [
      'Barracuda reputation',
      554,
      '554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.1',
      1002,
      true,
    ],
    ['SpamCop', 554, '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.spamcop.net', 1002, true],
    [
      'GMX block listed',
      554,
      '554-gmx.net (mxgmx117) Nemesis ESMTP Service not available\n554-No SMTP service\n554-IP address is block listed.\n554 For explanation visit https://www.gmx.net/mail/senderguidelines?ip=192.0.2.1&c=bl',
      1002,
      true,
    ],
    ['SpamRL IP', 550, '550 The sending IP (192.0.2.1) is listed on https://spamrl.com/. Please resolve this and retry.', 1002, true],
    [
      'Comcast DNSBLs',
      554,
      '554 resimta-po-11v.sys.comcast.net 192.0.2.1 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000010',
      1002,
      true,
    ],
    [
      'Outlook DMARC',
      550,
      '550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a DMARC policy of reject.',
      1010,
      true,
    ],
    [
      'Gmail SPF hard fail',
      550,
      '550-5.7.26 The MAIL FROM domain [example.com] has an SPF record with a hard fail\n550-5.7.26 policy (-all) but it fails to pass SPF checks with the ip:\n550 5.7.26 [192.0.2.1]. To best protect our users from spam and phishing, the message has been blocked.',
      1010,
      true,
    ],
    [
      'Gmail 4.7.27 SPF rate limit',
      421,
      "421-4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message. Gmail requires all bulk email senders to authenticate their email with SPF.",
      1010,
      false,
    ],
    [
      'Gmail 2024 unauthenticated',
      550,
      '550-5.7.26 Your email has been blocked because the sender is unauthenticated.\n550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
      1010,
      true,
    ],
    [
      'Gmail PTR',
      550,
      '550-5.7.25 [192.0.2.1] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP.',
      1010,
      true,
    ],
    [
      'Gmail blocked attachment',
      552,
      '552-5.7.0 This message was blocked because its content presents a potential\n552-5.7.0 security issue. Please visit\n552 5.7.0  https://support.google.com/mail/?p=BlockedMessage - gsmtp',
      1004,
      true,
    ],
    [
      'Gmail likely unsolicited',
      550,
      '550-5.7.1 [192.0.2.1      12] Our system has detected that this message is\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\n550 5.7.1 this message has been blocked. - gsmtp',
      1004,
      true,
    ],
    ['Rspamd', 554, '554 5.7.1 Spam message rejected', 1004, true],
    ['amavis virus', 554, '554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Test-Signature', 1007, true],
    ['Sendmail relaying denied', 550, '550 5.7.1 <user@example.com>... Relaying denied', 4006, true],
    ['Exchange unable to relay', 550, '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain', 4006, true],
    ['qmail rcpthosts', 553, "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", 4006, true],
    ['Bad sender syntax is the sender, not the address', 501, '501 5.1.7 Bad sender address syntax', 1999, true],
    ['Postfix unknown recipient domain', 550, '550 5.1.2 <user@example.invalid>: Recipient address rejected: Domain not found', 2002, true],
    ['RFC 7505 null MX', 556, '556 5.1.10 Recipient address has a null MX', 2002, true],
    ['Node NXDOMAIN', null, 'queryMx ENOTFOUND example.invalid', 2002, true],
    ['Node DNS retry', null, 'getaddrinfo EAI_AGAIN mx.example.com', 4003, false],
    [
      'Yahoo mailbox disabled',
      554,
      'delivery error: dd Sorry your message to user@yahoo.com cannot be delivered. This mailbox is disabled (554.30). - mta4321.mail.ne1.yahoo.com',
      3002,
      true,
    ],
    ['Gmail inactive', 550, '550 5.2.1 The email account that you tried to reach is inactive.', 3002, true],
    [
      'Gmail too large',
      552,
      "552-5.3.4 Your message exceeded Google's message size limits. Please visit\n552 5.3.4  https://support.google.com/mail/?p=MaxSizeError to view our size guidelines. - gsmtp",
      1999,
      true,
    ],
    ['Postfix local recipient table', 550, '550 5.1.1 <user@example.com>: Recipient address rejected: User unknown in local recipient table', 2001, true],
    ['qmail no mailbox', 550, 'sorry, no mailbox here by that name. (#5.1.1)', 2001, true],
    ['Yahoo mailbox not found', 552, '552 1 Requested mail action aborted, mailbox not found', 2001, true],
    [
      'Exchange Online edge blocking',
      550,
      '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]',
      2001,
      true,
    ],
    ['AOL no account', 554, "554 delivery error: dd This user doesn't have a aol.com account (user@aol.com) [0] - mta1234.mail.bf1.yahoo.com", 2001, true],
    [
      'unknown user on a 450 stays temporary',
      450,
      '450 4.1.1 <user@example.com>: Recipient address rejected: unverified address: host mx.example.com said: 550 no such user',
      2001,
      false,
    ],
    [
      'Exchange connection limit',
      421,
      '421 4.3.2 The maximum number of concurrent connections has exceeded a limit, closing transmission channel',
      1006,
      false,
    ],
    ['Gmail temporary system problem', 421, '421 4.3.0 Temporary System Problem. Try again later. - gsmtp', 4001, false],
    ['Postfix insufficient storage', 452, '452 4.3.1 Insufficient system storage', 4001, false],
    ['Gmail timeout', 451, '451 4.4.2 Timeout - closing connection. - gsmtp', 4002, false],
    ['nodemailer socket timeout', null, 'ETIMEDOUT: Timeout', 4002, false],
    ['nodemailer connect timeout', null, 'mx.example.com:25: Connection timeout', 4003, false],
    ['Node connection reset', null, 'ESOCKET: read ECONNRESET', 4003, false],
    ['Node host unreachable', null, 'mx.example.com:25: connect EHOSTUNREACH 192.0.2.1:25', 4003, false],
    ['Postfix connect timeout', null, 'connect to mx.example.com[192.0.2.1]:25: Connection timed out', 4003, false],
    ['5xx greeting reported without a code', null, '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', 1002, true],
    [
      '4xx greeting inside a connection error',
      null,
      'mx.example.com:25: Invalid greeting. response=421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1',
      1006,
      false,
    ],
    ['5xx that asks to try later', 550, '550 5.7.1 Service refused, please try later', 3003, false],
  ];
  it.each(cases)('%s', (_name, code, text, failureCode, permanent) => {
    const c = classifySmtpReply({ code, text });
    expect({ failureCode: c.failureCode, permanent: c.permanent }).toEqual({ failureCode, permanent });
    expect(c.ruleId).not.toBeNull();
  });
});

describe('fallbacks', () => {
  it('unknown 550 text is a permanent 2999', () => {
    expect(classifySmtpReply({ code: 550, text: '550 Go away' })).toEqual({
      permanent: true,
      failureCode: 2999,
      enhancedStatus: null,
      explanation: 'The receiving server refused the message permanently.',
      ruleId: null,
    });
  });
  it('unknown 451 text is a temporary 3999', () => {
    expect(classifySmtpReply({ code: 451, text: '451 Something odd happened' })).toMatchObject({ permanent: false, failureCode: 3999, ruleId: null });
  });
  it('no reply is a temporary 4003', () => {
    expect(classifySmtpReply({ code: null, text: 'something unforeseen' })).toEqual({
      permanent: false,
      failureCode: 4003,
      enhancedStatus: null,
      explanation: 'Could not connect to the receiving server.',
      ruleId: null,
    });
    expect(classifySmtpReply({ code: null, text: '' })).toMatchObject({ permanent: false, failureCode: 4003 });
  });

  // [status, code, failureCode, permanent]: texts that no rule knows, so only the status speaks.
  const byStatus: [string, number, number, boolean][] = [
    ['5.1.1', 550, 2001, true],
    ['4.1.1', 450, 2001, false],
    ['5.1.2', 550, 2002, true],
    ['5.1.3', 553, 2003, true],
    ['5.1.6', 550, 2004, true],
    ['5.1.10', 556, 2002, true],
    ['5.1.7', 553, 1999, true],
    ['5.1.8', 553, 1999, true],
    ['5.2.2', 552, 3001, false],
    ['4.2.2', 452, 3001, false],
    ['5.2.1', 550, 3002, true],
    ['4.2.1', 450, 3002, false],
    ['5.2.3', 552, 1999, true],
    ['5.3.4', 552, 1999, true],
    ['4.3.1', 452, 4001, false],
    ['4.3.2', 421, 4001, false],
    ['4.4.7', 451, 4004, false],
    ['5.4.4', 550, 4999, true],
    ['4.4.1', 451, 4999, false],
    ['5.5.2', 500, 4002, true],
    ['5.6.0', 554, 4002, true],
    ['5.7.23', 550, 1010, true],
    ['5.7.26', 550, 1010, true],
    ['5.7.1', 550, 1999, true],
    ['4.7.1', 451, 1999, false],
    ['5.7.27', 550, 1999, true],
    ['5.3.0', 554, 2999, true],
    ['4.3.0', 451, 3999, false],
    ['5.0.0', 550, 2999, true],
    ['4.0.0', 450, 3999, false],
  ];
  it.each(byStatus)('enhanced status %s on %i -> %i', (status, code, failureCode, permanent) => {
    const c = classifySmtpReply({ code, text: `${code} ${status} Nothing a rule would recognise` });
    expect(c).toMatchObject({ failureCode, permanent, enhancedStatus: status, ruleId: null });
    expect(SECTION_7_CODES.has(c.failureCode)).toBe(true);
    expect(c.explanation).toMatch(/^[A-Z].*\.$/);
  });

  it('takes permanence from the reply code, not the status class', () => {
    expect(classifySmtpReply({ code: 550, text: '550 4.1.1 Nothing a rule would recognise' })).toMatchObject({ failureCode: 2001, permanent: true });
    expect(classifySmtpReply({ code: 450, text: '450 5.1.1 Nothing a rule would recognise' })).toMatchObject({ failureCode: 2001, permanent: false });
  });

  it('answers 2xx/3xx with a value, not a throw', () => {
    for (const code of [250, 221, 354]) {
      expect(classifySmtpReply({ code, text: `${code} 2.0.0 OK` })).toEqual({
        permanent: false,
        failureCode: 9999,
        enhancedStatus: '2.0.0',
        explanation: 'Not a failure.',
        ruleId: null,
      });
    }
  });

  it('treats a code outside SMTP as a protocol error', () => {
    for (const code of [0, 99, 150, 600, 1000, 550.5, Number.NaN]) {
      expect(classifySmtpReply({ code, text: 'x' })).toMatchObject({ permanent: false, failureCode: 4002, ruleId: null });
    }
  });

  it('looks only at the first MAX_CLASSIFIED_REPLY_CHARS characters', () => {
    const text = `550 ${'x'.repeat(MAX_CLASSIFIED_REPLY_CHARS)} User unknown`;
    expect(classifySmtpReply({ code: 550, text })).toMatchObject({ failureCode: 2999, ruleId: null });
  });
});

describe('parseEnhancedStatus', () => {
  it.each([
    ['550-5.1.1 The email account', '5.1.1'],
    ['250 2.0.0 OK', '2.0.0'],
    ['550 No such user', null],
    ['554 Client host [1.2.3.4] blocked', null],
    ['554 Client host [5.6.7.8] blocked', null],
    ['554 Client host 45.2.3.4 blocked', null],
    ['550 Rejected by Exim 4.94.2', null],
    ['451 4.7.500 Server busy', '4.7.500'],
    ['550 5.1.10 RESOLVER.ADR.RecipientNotFound', '5.1.10'],
    ['sorry, no mailbox here by that name. (#5.1.1)', '5.1.1'],
    ['554 delivery error: dd This mailbox is disabled (554.30).', null],
    ['421 4.7.0 [TSS04] Messages temporarily deferred - 4.16.55.1; see', '4.7.0'],
    ['550 3.1.1 not a class', null],
    ['550 5.1.1.', '5.1.1'],
    ['', null],
  ])('%j -> %j', (text, expected) => {
    expect(parseEnhancedStatus(text)).toBe(expected);
  });
});
