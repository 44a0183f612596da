import { describe, expect, it } from 'vitest';
import { loadShapingConfig } from '../../src/delivery/shaping/shaping-config.js';
import { hostMatches, providerOf } from '../../src/delivery/shaping/provider-match.js';
import { replyLine, slowDownMatch } from '../../src/delivery/shaping/slow-down-match.js';
import { parseShapingFile } from '../../src/delivery/shaping/shaping-file.js';
import { mergeShaping } from '../../src/delivery/shaping/shaping-config.js';

const shipped = loadShapingConfig({ operatorFile: null, perDestinationConcurrency: 10, perDestinationRate: 100 });
const mx = (...hosts: string[]) => hosts.map((host) => ({ host, port: 25 }));
const providerName = (...hosts: string[]) => providerOf(mx(...hosts), shipped.providers)?.name ?? null;

describe("a destination's provider, by its MX host names", () => {
  it('finds the shipped providers from the MX hosts their domains publish', () => {
    // gmail.com, a Google Workspace domain (old and new MX style): one provider, whatever the domain is called.
    expect(providerName('gmail-smtp-in.l.google.com', 'alt1.gmail-smtp-in.l.google.com', 'alt2.gmail-smtp-in.l.google.com')).toBe('google');
    expect(providerName('aspmx.l.google.com', 'alt1.aspmx.l.google.com', 'aspmx2.googlemail.com', 'aspmx3.googlemail.com')).toBe('google');
    expect(providerName('smtp.google.com')).toBe('google');
    expect(providerName('hotmail-com.olc.protection.outlook.com')).toBe('microsoft');
    expect(providerName('example-com.mail.protection.outlook.com')).toBe('microsoft');
    expect(providerName('mta5.am0.yahoodns.net', 'mta6.am0.yahoodns.net')).toBe('yahoo');
    expect(providerName('mx-aol.mail.gm0.yahoodns.net')).toBe('yahoo');
    expect(providerName('mx01.mail.icloud.com', 'mx02.mail.icloud.com')).toBe('apple');
    expect(providerName('mx00.emig.gmx.net')).toBe('gmx-webde');
    expect(providerName('mx-ha03.web.de')).toBe('gmx-webde');
    expect(providerName('mxs.mail.ru')).toBe('mailru');
    expect(providerName('mx.yandex.net')).toBe('yandex');
    expect(providerName('mx1a1.comcast.net')).toBe('comcast');
    expect(providerName('mx.zoho.eu')).toBe('zoho');
    expect(providerName('mail.protonmail.ch', 'mailsec.protonmail.ch')).toBe('proton');
    expect(providerName('in1-smtp.messagingengine.com')).toBe('fastmail');
    expect(providerName('smtp-in.orange.fr')).toBe('orange');
    expect(providerName('mx00.t-online.de')).toBe('t-online');
    expect(providerName('mx1.free.fr')).toBe('free');
    expect(providerName('mx3.qq.com')).toBe('qq');
    expect(providerName('mx1.naver.com')).toBe('naver');
  });

  it('any of the hosts decides, in any case and with a trailing dot', () => {
    expect(providerName('mx.backup.example', 'ASPMX.L.GOOGLE.COM.')).toBe('google');
  });

  it('is no provider for other names, names that only look alike, and smart hosts', () => {
    expect(providerName('mx.example.com')).toBeNull();
    expect(providerName('google.com')).toBeNull(); // *.google.com is what is below google.com
    expect(providerName('notgoogle.com', 'mx.google.com.evil.example', 'google.com-mx.example')).toBeNull();
    expect(providerName('127.0.0.1')).toBeNull();
    expect(providerOf([{ host: 'smtp.google.com', relay: { tls: 'starttls', ca: null, auth: null } }], shipped.providers)).toBeNull();
  });

  it('takes the first provider in the file whose pattern matches', () => {
    const providers = mergeShaping(
      parseShapingFile({
        providers: [
          { name: 'narrow', mx: ['aspmx.l.google.com'] },
          { name: 'wide', mx: ['*.google.com', '127.0.0.2'] },
        ],
      }),
      null,
      { perDestinationConcurrency: 1, perDestinationRate: 1 },
    ).providers;
    expect(providerOf(mx('aspmx.l.google.com'), providers)?.name).toBe('narrow');
    expect(providerOf(mx('alt1.aspmx.l.google.com'), providers)?.name).toBe('wide');
    expect(providerOf(mx('127.0.0.2'), providers)?.name).toBe('wide');
    expect(hostMatches('a.b.example', '*.b.example')).toBe(true);
    expect(hostMatches('b.example', '*.b.example')).toBe(false);
    expect(hostMatches('xb.example', '*.b.example')).toBe(false);
  });
});

describe('slow-down replies (the shipped patterns)', () => {
  const match = (text: string) => slowDownMatch(text, shipped.patterns)?.id ?? null;
  const action = (text: string) => slowDownMatch(text, shipped.patterns)?.action ?? null;

  it("knows Gmail's, Microsoft's and Yahoo's replies", () => {
    expect(
      match(
        '421-4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\n421-4.7.28 users from spam, mail sent from your IP address has been temporarily\n421-4.7.28 rate limited. Please visit\n421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\n421 4.7.28 review our Bulk Email Senders Guidelines. - gsmtp',
      ),
    ).toBe('gmail-unusual-rate');
    expect(match('421 4.7.28 Gmail has detected an unusual rate of unsolicited mail - gsmtp')).toBe('gmail-unusual-rate');
    const receivingRate =
      '450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n450-4.2.1 prevents additional messages from being delivered. Please resend your\n450-4.2.1 message at a later time. If the user is able to receive mail at that\n450-4.2.1 time, your message will be delivered. For more information, go to\n450 4.2.1  https://support.google.com/mail/?p=ReceivingRate - gsmtp';
    expect(match(receivingRate)).toBe('gmail-receiving-rate');
    expect(action(receivingRate)).toBe('slow');
    expect(
      match(
        '451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [BN1NAM02FT003.eop-nam02.prod.protection.outlook.com]',
      ),
    ).toBe('microsoft-ip-rate-limited');
    expect(
      match(
        "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]",
      ),
    ).toBe('microsoft-block-list');
    expect(match("550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. (S3140)")).toBe('microsoft-block-list');
    expect(
      match(
        "421 RP-001 (BAY004-MC1F14) Unfortunately, some messages from 192.0.2.1 weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day.",
      ),
    ).toBe('microsoft-sending-limits');
    expect(
      match(
        '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
      ),
    ).toBe('yahoo-deferred');
    expect(match('421 4.7.0 [TS01] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1')).toBe('yahoo-deferred');
    expect(match('421 4.7.1 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.')).toBe('yahoo-deferred');
  });

  it('knows generic connection and rate refusals, also in a greeting refusal as the pool reports it', () => {
    expect(match('421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1')).toBe('too-many-connections');
    expect(match('421 Too many concurrent SMTP connections from this IP address; please try again later.')).toBe('too-many-connections');
    expect(match('450 4.7.1 Error: too much mail from 192.0.2.1')).toBe('too-much-mail');
    expect(match('421 4.7.0 Rate limited, please try again later')).toBe('rate-limited');
    expect(match('mta7.am0.yahoodns.net:25: refused at greeting: 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred')).toBe('yahoo-deferred');
    expect(match('mx.example.com:25: unexpected reply: 421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1')).toBe('too-many-connections');
  });

  it('leaves every other refusal alone', () => {
    for (const reply of [
      '450 4.2.0 <user@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html',
      '550 5.1.1 <user@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
      '552-5.2.2 The email account that you tried to reach is over quota.\n552 5.2.2 https://support.google.com/mail/?p=OverQuotaTemp - gsmtp',
      '451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714) [BN8NAM11FT034.eop-nam11.prod.protection.outlook.com]',
      '554 5.7.1 rate limit policy violated', // only a 421 says "rate limited" to the generic pattern
      '421 4.3.2 Service shutting down; try again later',
      '450 4.2.1 Mailbox disabled, not accepting messages',
      'connection closed by the server',
      '',
    ]) {
      expect([reply, match(reply)]).toEqual([reply, null]);
    }
    expect(slowDownMatch('421 4.7.28 unusual rate of unsolicited mail', [])).toBeNull();
  });

  it('reads at most 8 KiB of a reply, and shows it as one line', () => {
    expect(match(`421 ${'x'.repeat(9000)} unusual rate of unsolicited mail`)).toBeNull();
    expect(replyLine('421-4.7.28 one\n421 4.7.28 two')).toBe('421-4.7.28 one two');
    expect(replyLine(`421 ${'y'.repeat(400)}`)).toHaveLength(300);
  });
});
