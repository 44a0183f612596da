import { describe, expect, it } from 'vitest';
import { parseReport } from '../../src/bounce/parse-report.js';

/** [address, status, action, permanent, failureCode] */
type Row = [string, string | null, string, boolean, number | null];
const rows = (r: Awaited<ReturnType<typeof parseReport>>): Row[] => r.recipients.map((x) => [x.address, x.status, x.action, x.permanent, x.failureCode]);

/** A message of headers and a body, lines joined with CRLF as they arrive over SMTP. */
const message = (headers: string[], body: string[]): string => [...headers, '', ...body, ''].join('\r\n');

function dsn(notice: string[], statusFields: string[], closed = true): string {
  return message(
    [
      'From: MAILER-DAEMON@mx.example.org',
      'To: sender@example.com',
      'Subject: Undelivered Mail Returned to Sender',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    ],
    [
      '--B',
      'Content-Type: text/plain',
      '',
      ...notice,
      '',
      '--B',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      '',
      ...statusFields,
      '',
      ...(closed ? ['--B--'] : []),
    ],
  );
}

describe('delivery-status fields', () => {
  it('takes a missing Action from the Status class: 5.x.x failed, 4.x.x delayed', async () => {
    const r = await parseReport(
      dsn(['Report.'], ['Final-Recipient: rfc822; a@example.org', 'Status: 5.1.1', '', 'Final-Recipient: rfc822; b@example.org', 'Status: 4.4.1']),
    );
    expect(rows(r)).toEqual([
      ['a@example.org', '5.1.1', 'failed', true, 2001],
      ['b@example.org', '4.4.1', 'delayed', false, 4999],
    ]);
  });

  it('skips a recipient with neither Action nor Status', async () => {
    const r = await parseReport(dsn(['Report.'], ['Final-Recipient: rfc822; a@example.org', 'Diagnostic-Code: smtp; 550 no']));
    expect(r).toMatchObject({ kind: 'other', isBounce: false, recipients: [] });
  });

  it('reads the fields written inline in a text report (Amazon WorkMail), and the Status class decides permanence', async () => {
    const raw = message(
      ['From: MAILER-DAEMON@us-west-2.amazonses.com', 'To: sender@example.com', 'Subject: Delivery Status Notification (Failure)', 'Content-Type: text/plain'],
      [
        'An error occurred while trying to deliver the mail to the following recipients:',
        'kijitora@example.jp',
        '',
        'Technical report:',
        '',
        'Reporting-MTA: dsn; a27-85.smtp-out.us-west-2.amazonses.com',
        '',
        'Action: failed',
        'Final-Recipient: rfc822; kijitora@example.jp',
        'Diagnostic-Code: smtp; 554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>',
        'Status: 4.4.7',
      ],
    );
    const r = await parseReport(raw);
    expect(r.reportingMta).toBe('a27-85.smtp-out.us-west-2.amazonses.com');
    // 554, but the reporting server's Status says the cause was temporary: the message expired.
    expect(rows(r)).toEqual([['kijitora@example.jp', '4.4.7', 'failed', false, 4004]]);
  });

  it('a 5.x.x Status is final even when the reply asks to try later', async () => {
    const r = await parseReport(
      dsn(
        ['Report.'],
        [
          'Final-Recipient: rfc822; a@example.com',
          'Action: failed',
          'Status: 5.7.1',
          'Diagnostic-Code: smtp; 550 5.7.1 <a@example.com>: Recipient address rejected: User a@example.com temporary locked. Please try again later!',
        ],
      ),
    );
    expect(rows(r)).toEqual([['a@example.com', '5.7.1', 'failed', true, 3003]]);
  });
});

describe('reports whose structure is broken', () => {
  it('a multipart report whose boundary matches no delimiter is read from its raw body', async () => {
    const raw = message(
      [
        'From: MAILER-DAEMON@mail.example.co.jp (Mail Delivery System)',
        'To: sender@example.com',
        'Subject: Undelivered Mail Returned to Sender',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="AAA.1720293561/mail.example.co.jp"',
      ],
      [
        '--AAA.1528513261/mail.example.co.jp',
        'Content-Type: text/plain',
        '',
        '<neko@example.org>: host aspmx.l.google.com[192.0.2.27] said: 550-5.1.1 The email',
        '    account that you tried to reach does not exist. (in reply to RCPT TO command)',
        '',
        '--AAA.1528513261/mail.example.co.jp',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mail.example.co.jp',
        '',
        'Final-Recipient: rfc822; neko@example.org',
        'Action: failed',
        'Status: 5.1.1',
        'Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.',
        '',
        '--AAA.1528513261/mail.example.co.jp--',
      ],
    );
    expect(rows(await parseReport(raw))).toEqual([['neko@example.org', '5.1.1', 'failed', true, 2001]]);
  });

  it('a complete delivery-status part that names nobody does not hide the notice', async () => {
    const r = await parseReport(
      dsn(['<x@example.net>: host mx.example.net[192.0.2.5] said: 550 5.1.1 User unknown (in reply to RCPT TO command)'], ['X-Postfix-Queue-ID: 1234']),
    );
    expect(rows(r)).toEqual([['x@example.net', '5.1.1', 'failed', true, 2001]]);
  });

  it('a report cut off inside that part is not read from its notice instead', async () => {
    const r = await parseReport(
      dsn(['<x@example.net>: host mx.example.net[192.0.2.5] said: 550 5.1.1 User unknown (in reply to RCPT TO command)'], ['X-Postfix-Queue-ID: 1234'], false),
    );
    expect(r).toMatchObject({ kind: 'other', isBounce: false, recipients: [] });
  });
});

describe('plain reports in wording no layout knows', () => {
  const dragonfly = (extraBody: string[] = []): string =>
    message(
      ['From: MAILER-DAEMON <>', 'To: kijitora@df.example.jp', 'Subject: Mail delivery failed'],
      [
        'This is the DragonFly Mail Agent v0.13 at df.example.jp.',
        '',
        'There was an error delivering your mail to <neko@google.example.com>.',
        '',
        'gmail-smtp-in.l.google.com [192.0.2.27] did not like our RCPT TO:',
        '550-5.1.1 The email account that you tried to reach does not exist.',
        '550 5.1.1 https://support.google.com/mail/?p=NoSuchUser - gsmtp',
        '',
        ...extraBody,
        'Message headers follow.',
        '',
        'From: <kijitora@df.example.jp>',
        'To: <neko@google.example.com>',
        'Message-Id: <66681288.e06d1@df.example.jp>',
      ],
    );

  it("names the failed address, not the report's addressee or the original's sender and id", async () => {
    expect(rows(await parseReport(dragonfly()))).toEqual([['neko@google.example.com', '5.1.1', 'failed', true, 2001]]);
  });

  it('a success reply (250 2.1.5) in such a notice is not a failure', async () => {
    const raw = message(
      ['From: MAILER-DAEMON@mx.example.org', 'To: sender@example.com', 'Subject: Successful Mail Delivery Report'],
      ['<kijitora@neko.example.jp>: delivery via mail.neko.example.jp[192.0.2.2]:25: 250 2.1.5 Ok'],
    );
    expect(await parseReport(raw)).toMatchObject({ isBounce: false, recipients: [] });
  });

  it("a person's mail with a report-like subject is not read as a report for the addresses it names", async () => {
    const raw = message(
      ['From: Ana Lima <ana@example.com>', 'To: team@example.com', 'Subject: Undeliverable packages this week'],
      ['Hi all, the courier could not deliver to jo@example.org and sam@example.net.', 'Ana'],
    );
    expect(await parseReport(raw)).toMatchObject({ kind: 'other', isBounce: false, recipients: [] });
  });

  it('an out-of-office reply quoting a report subject is an auto-reply, not a report for the addresses it names', async () => {
    const raw = message(
      [
        'From: Jo Park <jo@example.org>',
        'To: b+01M7W2Y7M07PX5VPA00K793S0K@bounces.example.com',
        'Subject: Automatic reply: Undeliverable: Q3 figures',
        'Auto-Submitted: auto-replied',
      ],
      ['I am out of the office until Monday. For urgent matters please write to sam.lee@example.org.'],
    );
    expect(await parseReport(raw)).toMatchObject({ kind: 'auto-reply', isBounce: false, recipients: [] });
  });

  it('a notice naming many addresses yields at most twenty', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `member${i}@list.example.org`);
    const r = await parseReport(dragonfly([`Also seen: ${many.join(' ')}`, '']));
    expect(r.recipients.length).toBeLessThanOrEqual(20);
    expect(r.recipients[0]!.address).toBe('neko@google.example.com');
  });
});
