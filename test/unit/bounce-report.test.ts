import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReport } from '../../src/bounce/parse-report.js';
import { MAX_DIAGNOSTIC_CHARS } from '../../src/bounce/limits.js';
import { idFromMessageId, idFromReturnPath, traceRecipientId } from '../../src/bounce/trace.js';
import type { FeedbackReport, ReportKind } from '../../src/bounce/types.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/reports');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** [address, status, action, permanent, failureCode] */
type Row = [string, string | null, string, boolean, number | null];

interface Expected {
  kind: ReportKind;
  /** The id traced from the report alone (no envelope). */
  recipientId: string | null;
  recipients: Row[];
  /** Exact Diagnostic-Code of the first recipient, where the wording matters. */
  diagnosticCode?: string;
  complaint?: FeedbackReport;
}

const EXPECTED: Record<string, Expected> = {
  'postfix-5.1.1-user-unknown.eml': {
    kind: 'bounce',
    recipientId: '01M7W2Y7M07PX5VPA00K793S0K',
    recipients: [['jordan.reyes@example.org', '5.1.1', 'failed', true, 2001]],
    // Folded over two lines in the report; unfolded here.
    diagnosticCode: 'smtp; 550 5.1.1 <jordan.reyes@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
  },
  'postfix-4.4.1-delayed.eml': {
    kind: 'delay',
    recipientId: '01M7W6CAZF33ZGCFNEFHWNRRX0',
    recipients: [['sam.okafor@example.net', '4.4.1', 'delayed', false, 4003]],
    diagnosticCode: 'X-Postfix; connect to mail.example.net[192.0.2.44]:25: Connection timed out',
  },
  'exim-rfc3464.eml': {
    kind: 'bounce',
    recipientId: '01M7W9TEAY8WF6XC8WP9P1SQ30',
    // Status is Exim's 5.0.0; the 5.1.1 in the diagnostic decides the FailureCode.
    recipients: [['priya.natarajan@example.com', '5.0.0', 'failed', true, 2001]],
  },
  'exim-legacy-plain.eml': {
    kind: 'bounce',
    recipientId: '01M7WD8HPD97MVFA8J7GG0YCFH',
    recipients: [['oliver.hart@example.co.uk', '5.2.1', 'failed', true, 3002]],
    diagnosticCode: '550 5.2.1 <oliver.hart@example.co.uk>: Recipient address rejected: Mailbox disabled for this recipient',
  },
  'exim-delay-warning-plain.eml': {
    kind: 'delay',
    recipientId: null,
    recipients: [['wes.adler@example.com', '4.7.1', 'delayed', false, 3003]],
    diagnosticCode: '451 4.7.1 <wes.adler@example.com>: Recipient address rejected: Greylisted, please try again later',
  },
  'sendmail-5.1.1.eml': {
    kind: 'bounce',
    recipientId: '01M7WGPN1W73KX26W4ZZJ8NVK5',
    recipients: [['m.kowalski@example.edu', '5.1.1', 'failed', true, 2001]],
    diagnosticCode: 'SMTP; 550 5.1.1 <m.kowalski@example.edu>... User unknown',
  },
  'office365-5.1.10.eml': {
    kind: 'bounce',
    recipientId: '01M7WM4RDBFB0QN35QY2PQDKV7',
    recipients: [['ana.lima@contoso.example', '5.1.10', 'failed', true, 2001]],
    diagnosticCode: 'smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ana.lima@contoso.example not found by SMTP address lookup',
  },
  'gmail-5.1.1-multiline.eml': {
    kind: 'bounce',
    recipientId: '01M7ZGVSFREA0STJP6P943W8VY',
    recipients: [['taylor.brooks.1988@gmail.com', '5.1.1', 'failed', true, 2001]],
    diagnosticCode:
      "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser 4fb4d7f45d1cf-5d3f1a2b6c7si1133457a12.301 - gsmtp",
  },
  'yahoo-554-plain.eml': {
    kind: 'bounce',
    recipientId: '01M7WQJVRT79S3FTEEJ4NV04VC',
    // No enhanced status in Yahoo's reply: the class of its 554 gives 5.0.0.
    recipients: [['casey.lin@yahoo.com', '5.0.0', 'failed', true, 2001]],
    diagnosticCode: "554: delivery error: dd This user doesn't have a yahoo.com account (casey.lin@yahoo.com) [0] - mta4117.mail.bf1.yahoo.com",
  },
  'qmail-plain.eml': {
    kind: 'bounce',
    recipientId: '01M7WV0Z4942CQ7MAWJM5DBGNE',
    recipients: [
      ['dana@example.info', '5.1.1', 'failed', true, 2001],
      ['dana.forward@example.org', '5.1.1', 'failed', true, 2001],
    ],
    diagnosticCode: 'Sorry, no mailbox here by that name. (#5.1.1)',
  },
  'amazon-ses.eml': {
    kind: 'bounce',
    recipientId: null,
    recipients: [['riley.chen@example.com', '5.1.1', 'failed', true, 2001]],
    diagnosticCode: 'smtp; 550 5.1.1 user unknown',
  },
  'mailbox-full-5.2.2.eml': {
    kind: 'bounce',
    recipientId: '01M7X1X5V764NVPX2A0G6B3ZD4',
    // A full mailbox is temporary even when refused with 552 (classify.ts, §7).
    recipients: [['lena.vogt@example.org', '5.2.2', 'failed', false, 3001]],
  },
  'mailbox-full-4.2.2-delayed.eml': {
    kind: 'delay',
    recipientId: '01M7X5B96P115JRCZ8KGX2ZREF',
    recipients: [['noor.haddad@gmail.com', '4.2.2', 'delayed', false, 3001]],
  },
  'two-recipients.eml': {
    kind: 'bounce',
    recipientId: '01M7X8SCJ543XRHE90NH4ZJAVC',
    recipients: [
      ['ravi.menon@example.org', '5.1.1', 'failed', true, 2001],
      ['ravi@old-startup.example', '5.4.4', 'failed', true, 2002],
    ],
  },
  'postline-original-headers.eml': {
    kind: 'bounce',
    recipientId: '01M7YNAYM01GA3748VHFQ9VBWC',
    // "RecipNotFound; not found" matches no text rule: the 5.1.1 fallback names it.
    recipients: [['evan.mercer@corp.example.com', '5.1.1', 'failed', true, 2001]],
  },
  'dsn-relayed-success.eml': {
    kind: 'delivery-report',
    recipientId: '01M7Z9ZJRTB0HV1NVD9E9EN4CG',
    recipients: [['drew.park@example.org', '2.0.0', 'relayed', false, null]],
  },
  'lotus-domino-plain.eml': {
    kind: 'bounce',
    recipientId: '01M7YRS1ZFCNDFGJ4KF1P7XZDT',
    // No code, no status and no rule for Domino's wording: a permanent "other" failure.
    recipients: [['pquinn@notes.example.com', null, 'failed', true, 2999]],
    diagnosticCode: 'User Pat Quinn (pquinn@notes.example.com) not listed in Domino Directory',
  },
  'arf-yahoo.eml': {
    kind: 'complaint',
    recipientId: '01M7YW75AYBNQE9AABFWQWS6ND',
    recipients: [],
    complaint: {
      feedbackType: 'abuse',
      userAgent: 'Yahoo!-Mail-Feedback/2.0',
      version: '0.1',
      originalMailFrom: 'b+01m7yw75aybnqe9aabfwqws6nd@bounces.harbor-outfitters.example',
      originalRcptTo: ['morgan.ellis@yahoo.com'],
      arrivalDate: 'Fri, 20 Nov 2026 12:38:51 +0000',
      sourceIp: null,
      reportedDomain: 'harbor-outfitters.example',
    },
  },
  'arf-aol.eml': {
    kind: 'complaint',
    recipientId: '01M7YZN8PDET5MBWH9Y59PZ0QT',
    recipients: [],
    complaint: {
      feedbackType: 'abuse',
      userAgent: 'AOL SComp',
      version: '0.1',
      // AOL sends no Original-Mail-From: the attached original's Return-Path stands in.
      originalMailFrom: 'b+01m7yzn8pdet5mbwh9y59pz0qt@bounces.harbor-outfitters.example',
      originalRcptTo: [],
      arrivalDate: 'Fri, 20 Nov 2026 07:49:12 EST',
      sourceIp: '198.51.100.20',
      reportedDomain: 'harbor-outfitters.example',
    },
  },
  'arf-microsoft-jmrp.eml': {
    kind: 'complaint',
    recipientId: '01M7Z33C1WD2WTZJF5MY2BT27P',
    recipients: [],
    complaint: {
      feedbackType: 'abuse',
      userAgent: null,
      version: null,
      originalMailFrom: 'b+01m7z33c1wd2wtzjf5my2bt27p@bounces.harbor-outfitters.example',
      originalRcptTo: ['kai.sorensen@outlook.com'],
      arrivalDate: null,
      sourceIp: null,
      reportedDomain: null,
    },
  },
  'auto-reply-out-of-office.eml': { kind: 'auto-reply', recipientId: null, recipients: [] },
  'auto-reply-vacation-sieve.eml': { kind: 'auto-reply', recipientId: null, recipients: [] },
  'mdn-read-receipt.eml': { kind: 'read-receipt', recipientId: '01M7Z6HFDBD3YRVX5S6YN4E78Z', recipients: [] },
  'ordinary-message.eml': { kind: 'other', recipientId: null, recipients: [] },
};

describe('parseReport over every fixture', () => {
  it('has an expectation for every fixture file, and a file for every expectation', () => {
    const files = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.eml'))
      .sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', async (name, want) => {
    const report = await parseReport(fixture(name));
    expect(report.kind).toBe(want.kind);
    expect(report.isBounce).toBe(want.kind === 'bounce' || want.kind === 'delay');
    expect(report.isComplaint).toBe(want.kind === 'complaint');
    expect(report.recipientId).toBe(want.recipientId);
    expect(report.recipients.map((r): Row => [r.address, r.status, r.action, r.permanent, r.failureCode])).toEqual(want.recipients);
    if (want.diagnosticCode !== undefined) expect(report.recipients[0]!.diagnosticCode).toBe(want.diagnosticCode);
    expect(report.complaint).toEqual(want.complaint ?? null);
    for (const r of report.recipients) expect(r.explanation).toMatch(/^[A-Z].*\.$/);
  });

  it('reads the DSN details a Failed event carries: Remote-MTA, Reporting-MTA, a differing Original-Recipient', async () => {
    const delayed = await parseReport(fixture('mailbox-full-4.2.2-delayed.eml'));
    expect(delayed.reportingMta).toBe('smtp-out.example.net');
    expect(delayed.recipients[0]).toMatchObject({ remoteMta: 'gmail-smtp-in.l.google.com', originalRecipient: 'noor.h@example-alumni.example' });
    const postfix = await parseReport(fixture('postfix-5.1.1-user-unknown.eml'));
    // Same address in both fields: not repeated.
    expect(postfix.recipients[0]!.originalRecipient).toBeNull();
    const exim = await parseReport(fixture('exim-legacy-plain.eml'));
    expect(exim.recipients[0]!.remoteMta).toBe('store2.example.co.uk');
  });

  it('keeps the original message headers the report carries', async () => {
    const report = await parseReport(fixture('sendmail-5.1.1.eml'));
    const names = report.originalHeaders.map((h) => h.name);
    expect(names).toEqual(['Return-Path', 'Received', 'DKIM-Signature', 'From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']);
    expect(report.originalHeaders.find((h) => h.name === 'Subject')!.value).toBe('Your November picks');
  });
});

describe('tracing a report to its Postline recipient', () => {
  const OTHER_ID = '01M7ZM9WV7C556QTDZ8JQACJQF';

  it('prefers the envelope RCPT TO, case-insensitively, over the quoted headers', async () => {
    const report = await parseReport(fixture('exim-rfc3464.eml'), { rcptTo: `<B+${OTHER_ID}@Bounces.Harbor-Outfitters.example>` });
    expect(report.recipientId).toBe(OTHER_ID);
  });

  it('traces a report with no usable original (SES rewrote the Message-ID) by its envelope alone', async () => {
    const ses = fixture('amazon-ses.eml');
    expect((await parseReport(ses)).recipientId).toBeNull();
    expect((await parseReport(ses, { rcptTo: `b+${OTHER_ID.toLowerCase()}@bounces.harbor-outfitters.example` })).recipientId).toBe(OTHER_ID);
  });

  it('falls back to the headers when the envelope is not a Postline return path', async () => {
    const report = await parseReport(fixture('exim-rfc3464.eml'), { rcptTo: 'postmaster@bounces.harbor-outfitters.example' });
    expect(report.recipientId).toBe('01M7W9TEAY8WF6XC8WP9P1SQ30');
  });

  it('orders the header evidence: Return-Path, X-Original-Return-Path, then Message-ID', () => {
    const a = '01M7W2Y7M07PX5VPA00K793S0K';
    const b = '01M7W6CAZF33ZGCFNEFHWNRRX0';
    const c = '01M7W9TEAY8WF6XC8WP9P1SQ30';
    const headers = [
      { name: 'Message-ID', value: `<${c.toLowerCase()}@mta1.postline.example>` },
      { name: 'X-Original-Return-Path', value: `<b+${b.toLowerCase()}@bounces.example>` },
      { name: 'Return-Path', value: `<b+${a.toLowerCase()}@bounces.example>` },
    ];
    expect(traceRecipientId({ originalHeaders: headers })).toBe(a);
    expect(traceRecipientId({ originalHeaders: headers.slice(0, 2) })).toBe(b);
    expect(traceRecipientId({ originalHeaders: headers.slice(0, 1) })).toBe(c);
    expect(traceRecipientId({ originalHeaders: [] })).toBeNull();
  });

  it('skips a null or foreign Return-Path and uses the Message-ID', () => {
    const id = '01M7W2Y7M07PX5VPA00K793S0K';
    const headers = [
      { name: 'Return-Path', value: '<>' },
      { name: 'Return-Path', value: '<news@harbor-outfitters.example>' },
      { name: 'Message-ID', value: `<${id}@mta1.postline.example>` },
    ];
    expect(traceRecipientId({ originalHeaders: headers })).toBe(id);
  });

  it.each([
    ['25 characters', 'b+01m7w2y7m07px5vpa00k793s0@b.example'],
    ['27 characters', 'b+01m7w2y7m07px5vpa00k793s0kk@b.example'],
    ['a letter Crockford base32 leaves out (U)', 'b+01m7w2y7m07px5vpa00k793s0u@b.example'],
    ['a first character above 7 (time overflow)', 'b+81m7w2y7m07px5vpa00k793s0k@b.example'],
    ['another tag than b+', 'c+01m7w2y7m07px5vpa00k793s0k@b.example'],
    ['no domain', 'b+01m7w2y7m07px5vpa00k793s0k'],
    ['an id in the domain, not the local part', 'news@01m7w2y7m07px5vpa00k793s0k.example'],
  ])('refuses a return path with %s', (_why, address) => {
    expect(idFromReturnPath(address)).toBeNull();
  });

  it('reads ids from Message-IDs only when the whole local part is a ULID', () => {
    expect(idFromMessageId('<01m7w2y7m07px5vpa00k793s0k@mta1.postline.example>')).toBe('01M7W2Y7M07PX5VPA00K793S0K');
    expect(idFromMessageId('<x01m7w2y7m07px5vpa00k793s0k@mta1.postline.example>')).toBeNull();
    expect(idFromMessageId('<0100019a8f3c1a2b-3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f-000000@email.amazonses.com>')).toBeNull();
    expect(idFromMessageId('<01m7w2y7m07px5vpa00k793s0k>')).toBeNull();
  });

  it('traces a read receipt by its Original-Message-ID when it quotes no headers', async () => {
    const raw = fixture('mdn-read-receipt.eml').replace(
      /--------------Ab3mQ9zR0tW2yX4cV6bN8mL1\nContent-Type: text\/rfc822-headers[\s\S]*?(?=--------------Ab3mQ9zR0tW2yX4cV6bN8mL1--)/,
      '',
    );
    const report = await parseReport(raw);
    expect(report.originalHeaders).toEqual([]);
    expect(report.kind).toBe('read-receipt');
    expect(report.recipientId).toBe('01M7Z6HFDBD3YRVX5S6YN4E78Z');
  });
});

/** A one-recipient DSN around the given per-recipient fields. */
function dsn(recipientFields: string, extraParts = ''): string {
  return [
    'From: MAILER-DAEMON@mx.example.org',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    '',
    '--B',
    'Content-Type: text/plain',
    '',
    'Delivery report.',
    '',
    '--B',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    '',
    recipientFields,
    '',
    extraParts,
    '--B--',
    '',
  ].join('\n');
}

describe('classification of reported recipients', () => {
  it.each([
    // [Status, Action, FailureCode, permanent]
    ['5.1.1', 'failed', 2001, true],
    ['5.1.2', 'failed', 2002, true],
    ['5.2.2', 'failed', 3001, false],
    ['4.2.2', 'delayed', 3001, false],
    ['5.7.1', 'failed', 1999, true],
    ['4.4.7', 'failed', 4004, false],
  ] as const)('classifies Status %s (%s) with no Diagnostic-Code from the status', async (status, action, failureCode, permanent) => {
    const report = await parseReport(dsn(`Final-Recipient: rfc822; a@example.org\nAction: ${action}\nStatus: ${status}`));
    expect(report.recipients).toHaveLength(1);
    expect(report.recipients[0]).toMatchObject({ status, action, failureCode, permanent, diagnosticCode: null });
  });

  it('never calls a delayed recipient permanent, whatever the reply says', async () => {
    const report = await parseReport(
      dsn('Final-Recipient: rfc822; a@example.org\nAction: delayed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown'),
    );
    expect(report.recipients[0]).toMatchObject({ action: 'delayed', permanent: false, failureCode: 2001 });
    expect(report.kind).toBe('delay');
    expect(report.isBounce).toBe(true);
  });

  it('lists every recipient of a mixed report and calls it a bounce when one failed', async () => {
    const report = await parseReport(
      dsn(
        [
          'Final-Recipient: rfc822; ok@example.org',
          'Action: relayed',
          'Status: 2.0.0',
          '',
          'Final-Recipient: rfc822; gone@example.org',
          'Action: failed',
          'Status: 5.1.1',
        ].join('\n'),
      ),
    );
    expect(report.recipients.map((r) => [r.address, r.action, r.failureCode])).toEqual([
      ['ok@example.org', 'relayed', null],
      ['gone@example.org', 'failed', 2001],
    ]);
    expect(report.kind).toBe('bounce');
  });

  it('separates recipients a server ran together without a blank line', async () => {
    const report = await parseReport(
      dsn('Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nFinal-Recipient: rfc822; b@example.org\nAction: failed\nStatus: 5.2.2'),
    );
    expect(report.recipients.map((r) => [r.address, r.failureCode])).toEqual([
      ['a@example.org', 2001],
      ['b@example.org', 3001],
    ]);
  });

  it('skips a recipient without a known Action, and then the report is no bounce', async () => {
    const report = await parseReport(dsn('Final-Recipient: rfc822; a@example.org\nAction: exploded\nStatus: 5.1.1'));
    expect(report.recipients).toEqual([]);
    expect(report.isBounce).toBe(false);
  });

  it(`caps a Diagnostic-Code at ${MAX_DIAGNOSTIC_CHARS} characters`, async () => {
    const report = await parseReport(
      dsn(`Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 ${'x'.repeat(5000)}`),
    );
    expect(report.recipients[0]!.diagnosticCode).toHaveLength(MAX_DIAGNOSTIC_CHARS);
  });
});

describe('what is not a bounce', () => {
  const ooo = fixture('auto-reply-out-of-office.eml').replace(/^auto-submitted: auto-generated\n/m, '');

  it('recognises the out-of-office fixture by its subject alone once Auto-Submitted is removed', async () => {
    expect(ooo).not.toMatch(/auto-submitted/i);
    expect((await parseReport(ooo)).kind).toBe('auto-reply');
    const plainSubject = ooo.replace('Subject: Automatic reply: Your November picks', 'Subject: Your November picks');
    expect((await parseReport(plainSubject)).kind).toBe('other');
  });

  it.each([['X-Autoreply: yes'], ['X-Autorespond: Thanks for your message'], ['Precedence: auto_reply']])('recognises an auto-reply by %s', async (header) => {
    const base = ooo.replace('Subject: Automatic reply: Your November picks', 'Subject: Re: Your November picks');
    expect((await parseReport(base)).kind).toBe('other');
    expect((await parseReport(`${header}\n${base}`)).kind).toBe('auto-reply');
  });

  it.each([
    ['Out of Office: Your November picks'],
    ['Auto: Your November picks'],
    ['Abwesenheitsnotiz: Your November picks'],
    ['Réponse automatique : Your November picks'],
  ])('recognises the subject %j', async (subject) => {
    const raw = ooo.replace('Subject: Automatic reply: Your November picks', `Subject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`);
    expect((await parseReport(raw)).kind).toBe('auto-reply');
  });

  it('treats "Auto-Submitted: no" and a mailing list Precedence as ordinary mail', async () => {
    const base = fixture('ordinary-message.eml');
    expect((await parseReport(`Auto-Submitted: no\nPrecedence: bulk\n${base}`)).kind).toBe('other');
  });

  it('reads a JMRP complaint sent as multipart/mixed from its X-HmXmrOriginalRecipient', async () => {
    const raw = fixture('arf-microsoft-jmrp.eml').replace('multipart/report; report-type=feedback-report;', 'multipart/mixed;');
    const report = await parseReport(raw);
    expect(report.kind).toBe('complaint');
    expect(report.complaint!.originalRcptTo).toEqual(['kai.sorensen@outlook.com']);
  });

  it('reads a not-spam feedback report as feedback, not a complaint', async () => {
    const report = await parseReport(fixture('arf-yahoo.eml').replace('Feedback-Type: abuse', 'Feedback-Type: not-spam'));
    expect(report.kind).toBe('feedback');
    expect(report.isComplaint).toBe(false);
    expect(report.complaint!.feedbackType).toBe('not-spam');
  });
});

describe('bad input gives "not a bounce", never a throw', () => {
  it('an empty buffer', async () => {
    const report = await parseReport(Buffer.alloc(0));
    expect(report).toMatchObject({ kind: 'other', isBounce: false, isComplaint: false, recipients: [], recipientId: null });
  });

  it('garbage bytes', async () => {
    const garbage = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 131 + 7) % 256));
    const report = await parseReport(garbage);
    expect(report.isBounce).toBe(false);
    expect(report.recipients).toEqual([]);
  });

  it('a MIME report cut off inside its delivery-status part', async () => {
    const whole = fixture('postfix-5.1.1-user-unknown.eml');
    const cut = whole.slice(0, whole.indexOf('Original-Recipient: rfc822;jordan.reyes@example.org'));
    expect(cut).toContain('Content-Type: message/delivery-status');
    const report = await parseReport(cut);
    expect(report.isBounce).toBe(false);
    expect(report.recipients).toEqual([]);
  });

  it('a header block with no body, and a boundary that never appears', async () => {
    expect((await parseReport('Content-Type: multipart/report; report-type=delivery-status; boundary="nowhere"\n\n')).isBounce).toBe(false);
    expect((await parseReport('From: MAILER-DAEMON@mx.example.org\nSubject: failure notice\n\nno addresses here\n')).isBounce).toBe(false);
  });
});
