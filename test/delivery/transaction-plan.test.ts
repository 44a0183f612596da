import { describe, expect, it } from 'vitest';
import { asciiAddress, hasUtf8Headers, planTransaction } from '../../src/delivery/transaction-plan.js';
import { classifySmtpReply } from '../../src/bounce/classify.js';

const ALL = { size: true, eightBitMime: true, smtpUtf8: true };
const NONE = { size: false, eightBitMime: false, smtpUtf8: false };
const ascii = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
const latin1Body = Buffer.from('Subject: hi\r\n\r\nGr\xfc\xdfe\r\n', 'latin1');
const utf8Header = Buffer.from('Subject: Grüße\r\n\r\nbody\r\n');
const latin1Header = Buffer.from('Subject: Gr\xfc\xdfe\r\n\r\nbody\r\n', 'latin1');
const env = (to: string, from = 'b+1@bounce.example') => ({ from, to });
const notPermitted = (why: string) => ({ ok: false, code: 553, reply: `5.6.7 ${why}: the receiving server does not offer SMTPUTF8 (RFC 6531)` });

describe('transaction plan', () => {
  it('adds SIZE and BODY=8BITMIME where offered and the message has 8-bit bytes', () => {
    expect(planTransaction(env('a@example.com'), ascii, ALL)).toEqual({ ok: true, ...env('a@example.com'), mailParams: [`SIZE=${ascii.length}`] });
    expect(planTransaction(env('a@example.com'), latin1Body, ALL)).toEqual({
      ok: true,
      ...env('a@example.com'),
      mailParams: [`SIZE=${latin1Body.length}`, 'BODY=8BITMIME'],
    });
  });

  it('sends 8-bit content as it is to a next hop without 8BITMIME', () => {
    expect(planTransaction(env('a@example.com'), latin1Body, NONE)).toEqual({ ok: true, ...env('a@example.com'), mailParams: [] });
    // Raw ISO-8859-1 in a header is legacy 8-bit text, not UTF-8: no SMTPUTF8 needed or claimed.
    expect(hasUtf8Headers(latin1Header)).toBe(false);
    expect(planTransaction(env('a@example.com'), latin1Header, ALL)).toEqual({
      ok: true,
      ...env('a@example.com'),
      mailParams: [`SIZE=${latin1Header.length}`, 'BODY=8BITMIME'],
    });
  });

  it('asks for SMTPUTF8 where offered when an address or the headers are UTF-8, addresses unchanged', () => {
    for (const to of ['jöran@example.com', '用户@例子.广告', 'user@bücher.example']) {
      expect(planTransaction(env(to), ascii, ALL)).toEqual({ ok: true, ...env(to), mailParams: [`SIZE=${ascii.length}`, 'SMTPUTF8'] });
    }
    expect(planTransaction(env('a@example.com'), utf8Header, { ...NONE, smtpUtf8: true, eightBitMime: true })).toEqual({
      ok: true,
      ...env('a@example.com'),
      mailParams: ['BODY=8BITMIME', 'SMTPUTF8'],
    });
  });

  it('downgrades an internationalised domain to its A-label where SMTPUTF8 is not offered', () => {
    expect(planTransaction(env('user@bücher.example'), ascii, NONE)).toEqual({
      ok: true,
      from: 'b+1@bounce.example',
      to: 'user@xn--bcher-kva.example',
      mailParams: [],
    });
    expect(planTransaction(env('user@例子.广告', 'b+1@bücher.example'), ascii, NONE)).toEqual({
      ok: true,
      from: 'b+1@xn--bcher-kva.example',
      to: 'user@xn--fsqu00a.xn--4rr70v',
      mailParams: [],
    });
  });

  it('refuses a UTF-8 local part where SMTPUTF8 is not offered', () => {
    expect(planTransaction(env('jöran@example.com'), ascii, NONE)).toEqual(notPermitted('Non-ASCII address <jöran@example.com> not permitted'));
    expect(planTransaction(env('用户@例子.广告'), ascii, { ...ALL, smtpUtf8: false })).toEqual(
      notPermitted('Non-ASCII address <用户@例子.广告> not permitted'),
    );
    expect(planTransaction(env('a@example.com', 'bö@x.example'), ascii, NONE)).toEqual(notPermitted('Non-ASCII sender address <bö@x.example> not permitted'));
  });

  it('sends UTF-8 header fields as they are where SMTPUTF8 is not offered (an address still downgrades)', () => {
    expect(planTransaction(env('user@bücher.example'), utf8Header, NONE)).toEqual({
      ok: true,
      from: 'b+1@bounce.example',
      to: 'user@xn--bcher-kva.example',
      mailParams: [],
    });
    expect(planTransaction(env('user@example.com'), utf8Header, NONE)).toEqual({
      ok: true,
      from: 'b+1@bounce.example',
      to: 'user@example.com',
      mailParams: [],
    });
  });

  it('turns addresses into ASCII only where that is the same address', () => {
    expect(asciiAddress('a@example.com')).toBe('a@example.com');
    expect(asciiAddress('a@BÜCHER.example')).toBe('a@xn--bcher-kva.example');
    expect(asciiAddress('ä@example.com')).toBeNull();
    expect(asciiAddress('a@xn--a.ü')).toBeNull(); // not a valid IDN
  });

  it('classifies the refusal as a permanent format failure (4002) that does not suppress the address', () => {
    const plan = planTransaction(env('jöran@example.com'), ascii, NONE);
    if (plan.ok) throw new Error('expected a refusal');
    expect(classifySmtpReply({ code: plan.code, text: `${plan.code} ${plan.reply}` })).toEqual({
      permanent: true,
      failureCode: 4002,
      enhancedStatus: '5.6.7',
      ruleId: null,
      explanation: 'The receiving server does not accept internationalised (UTF-8) addresses or headers, and the message could not be downgraded.',
    });
  });
});
