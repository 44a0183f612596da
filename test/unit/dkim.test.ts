import { createPrivateKey, createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import type { DKIMResult } from 'mailauth';
import {
  defaultSelector,
  dnsRecordsFor,
  generateDkimKey,
  normalizeDomain,
  publicKeyValue,
  signMessage,
  type DkimKey,
  type DnsRecord,
} from '../../src/compose/dkim.js';

let rsa: DkimKey;
let ed: DkimKey;
let message: Buffer;

beforeAll(async () => {
  rsa = generateDkimKey('example.com', 'pl202611');
  ed = generateDkimKey('example.com', 'pl202611e', 'ed25519-sha256');
  message = await new MailComposer({
    from: 'Sender <news@example.com>',
    to: 'Jörg <joerg@example.org>',
    cc: 'cc@example.net',
    replyTo: 'reply@example.com',
    subject: 'Grüße — monthly news',
    messageId: '<abc123@example.com>',
    date: new Date('2026-11-02T10:00:00Z'),
    headers: { 'List-Unsubscribe': '<https://t.example.com/u/abc>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    text: 'Hello  there,\t\n\nplain text body with trailing space   \n\n\n',
    html: '<p>Hello <b>there</b></p>',
    attachments: [{ filename: 'report.csv', content: Buffer.from('a,b\n1,2\n'.repeat(200)) }],
  })
    .compile()
    .build();
});

/** A DNS stub answering only from the records dnsRecordsFor produced, like a real zone would. */
function resolverFor(records: DnsRecord[]) {
  return async (name: string, rrtype: string): Promise<string[][]> => {
    const hits = records.filter((r) => r.type === rrtype && r.name === name.toLowerCase().replace(/\.$/, ''));
    if (hits.length === 0) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return hits.map((r) => r.chunks ?? [r.value]);
  };
}

/** mailauth 4.13's typings name these `algorithm`/`canonicalization`, but results carry `algo`/`format`. */
type Result = DKIMResult & { algo?: string; format?: string; modulusLength?: number };

async function verify(signed: Buffer | string, keys: DkimKey[]): Promise<Result[]> {
  const res = await dkimVerify(signed, { resolver: resolverFor(dnsRecordsFor(keys, { hostname: 'mta.postline.example' })) });
  return res.results as Result[];
}

/** MailComposer leaves bare LFs in 7bit text parts (its SMTP client fixes them on the wire). */
const crlf = (m: Buffer): Buffer => Buffer.from(m.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

const headersOf = (m: Buffer): string => m.toString('latin1').split('\r\n\r\n')[0]!;

describe('generateDkimKey', () => {
  it('makes RSA-2048 by default, with p= matching the private key', () => {
    expect(rsa.algorithm).toBe('rsa-sha256');
    const pub = createPublicKey(rsa.privateKeyPem);
    expect(pub.asymmetricKeyType).toBe('rsa');
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(rsa.publicKeyBase64).toBe(pub.export({ type: 'spki', format: 'der' }).toString('base64'));
    const fromDns = createPublicKey({ key: Buffer.from(rsa.publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
    expect(fromDns.export({ format: 'jwk' })).toEqual(pub.export({ format: 'jwk' }));
  });
  it('makes Ed25519 on request, with the raw 32-byte key as p= (RFC 8463)', () => {
    const pub = createPublicKey(ed.privateKeyPem);
    expect(pub.asymmetricKeyType).toBe('ed25519');
    expect(createPrivateKey(ed.privateKeyPem).asymmetricKeyType).toBe('ed25519');
    expect(Buffer.from(ed.publicKeyBase64, 'base64')).toHaveLength(32);
    expect(ed.publicKeyBase64).toBe(publicKeyValue(pub));
    expect(Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url').toString('base64')).toBe(ed.publicKeyBase64);
  });
  it('normalizes the domain and refuses bad selectors', () => {
    expect(generateDkimKey('Bücher.DE', 'S1', 'ed25519-sha256')).toMatchObject({ domain: 'xn--bcher-kva.de', selector: 's1' });
    expect(() => generateDkimKey('example.com', 'bad_selector')).toThrow(/selector/);
  });
});

describe('defaultSelector', () => {
  it('is pl + yyyymm (UTC), with an e suffix for Ed25519', () => {
    const d = new Date('2026-11-30T23:30:00-05:00'); // already December in UTC
    expect(defaultSelector(new Date('2026-11-15T12:00:00Z'), 'rsa-sha256')).toBe('pl202611');
    expect(defaultSelector(new Date('2026-11-15T12:00:00Z'), 'ed25519-sha256')).toBe('pl202611e');
    expect(defaultSelector(d, 'rsa-sha256')).toBe('pl202612');
  });
});

describe('dnsRecordsFor', () => {
  const p = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + 'x'.repeat(348) + 'IDAQAB';
  const key: DkimKey = { domain: 'example.com', selector: 'pl202611', algorithm: 'rsa-sha256', privateKeyPem: '', publicKeyBase64: p };
  const edKey: DkimKey = { ...key, selector: 'pl202611e', algorithm: 'ed25519-sha256', publicKeyBase64: 'A'.repeat(43) + '=' };

  it('gives the DKIM key, SPF and DMARC records, long TXT values in 255-character strings', () => {
    const recs = dnsRecordsFor([key], { hostname: 'mta.postline.example', spfInclude: 'spf.postline.example' });
    expect(recs.map(({ type, name, value }) => ({ type, name, value }))).toEqual([
      { type: 'TXT', name: 'pl202611._domainkey.example.com', value: `v=DKIM1; k=rsa; p=${p}` },
      { type: 'TXT', name: 'example.com', value: 'v=spf1 include:spf.postline.example ~all' },
      { type: 'TXT', name: '_dmarc.example.com', value: 'v=DMARC1; p=none; rua=mailto:dmarc@example.com' },
    ]);
    const dkim = recs[0]!;
    expect(dkim.chunks!.map((c) => c.length)).toEqual([255, dkim.value.length - 255]);
    expect(dkim.chunks!.join('')).toBe(dkim.value);
    expect(recs[1]!.chunks).toEqual([recs[1]!.value]);
    for (const r of recs) expect(r.purpose).not.toBe('');
  });
  it('uses a:<hostname> without an include, and k=ed25519 for Ed25519 keys', () => {
    const recs = dnsRecordsFor([key, edKey], { hostname: 'mta.postline.example' });
    expect(recs.map((r) => [r.name, r.value])).toEqual([
      ['pl202611._domainkey.example.com', `v=DKIM1; k=rsa; p=${p}`],
      ['pl202611e._domainkey.example.com', `v=DKIM1; k=ed25519; p=${'A'.repeat(43)}=`],
      ['example.com', 'v=spf1 a:mta.postline.example ~all'],
      ['_dmarc.example.com', 'v=DMARC1; p=none; rua=mailto:dmarc@example.com'],
    ]);
  });
  it('refuses two keys on one selector', () => {
    expect(() => dnsRecordsFor([key, { ...key }], { hostname: 'h.example' })).toThrow(/selector/);
  });
});

describe('signMessage', () => {
  it('RSA signature verifies with mailauth, covering the headers that matter', async () => {
    const signed = await signMessage(message, [rsa]);
    expect(signed.subarray(signed.length - crlf(message).length).equals(crlf(message))).toBe(true);
    const results = await verify(signed, [rsa]);
    expect(results).toHaveLength(1);
    expect(results[0]!.status.result).toBe('pass');
    expect(results[0]!).toMatchObject({
      signingDomain: 'example.com',
      selector: 'pl202611',
      algo: 'rsa-sha256',
      format: 'relaxed/relaxed',
      modulusLength: 2048,
    });
    const h = /h=([^;]+);/.exec(headersOf(signed).replace(/\r\n\t/g, ''))![1]!.split(':');
    for (const name of [
      'from',
      'to',
      'cc',
      'subject',
      'date',
      'message-id',
      'reply-to',
      'mime-version',
      'content-type',
      'list-unsubscribe',
      'list-unsubscribe-post',
    ]) {
      expect(h.filter((n) => n === name)).toHaveLength(2); // signed once, oversigned once
    }
    for (const line of headersOf(signed).split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('dual signs RSA then Ed25519, both verifying', async () => {
    const signed = await signMessage(message, [ed, rsa]);
    const results = await verify(signed, [rsa, ed]);
    expect(results.map((r) => [r.algo, r.status.result])).toEqual([
      ['rsa-sha256', 'pass'],
      ['ed25519-sha256', 'pass'],
    ]);
  });

  it('fails when the Subject or a body byte changes after signing, or a From is prepended', async () => {
    const signed = (await signMessage(message, [rsa, ed])).toString('latin1');
    const subject = signed.replace(/^Subject: .*$/m, 'Subject: Something else');
    const sep = signed.indexOf('\r\n\r\n') + 4;
    const i = signed.indexOf('<p>', sep) >= 0 ? signed.indexOf('<p>', sep) : sep + 10;
    const body = signed.slice(0, i) + 'X' + signed.slice(i + 1);
    // Verifiers take instances bottom-up, so a prepended From passes unless From is oversigned.
    const from = 'From: evil@example.net\r\n' + signed;
    expect(subject).not.toBe(signed);
    for (const altered of [subject, body, from]) {
      const results = await verify(Buffer.from(altered, 'latin1'), [rsa, ed]);
      expect(results.map((r) => r.status.result)).not.toContain('pass');
    }
    // Header changes break the signature itself; body changes the body hash.
    expect((await verify(Buffer.from(subject, 'latin1'), [rsa]))[0]!.status.comment).toBe('bad signature');
    expect((await verify(Buffer.from(body, 'latin1'), [rsa]))[0]!.status.comment).toMatch(/body hash/);
  });

  it('fails against a different public key in DNS', async () => {
    const signed = await signMessage(message, [rsa, ed]);
    const other = generateDkimKey('example.com', 'x', 'ed25519-sha256');
    const otherRsa = generateDkimKey('example.com', 'x');
    const results = await verify(signed, [
      { ...rsa, publicKeyBase64: otherRsa.publicKeyBase64 },
      { ...ed, publicKeyBase64: other.publicKeyBase64 },
    ]);
    expect(results.map((r) => [r.status.result, r.status.comment])).toEqual([
      ['fail', 'bad signature'],
      ['fail', 'bad signature'],
    ]);
  });

  it('computes the same body hash as mailauth on awkward whitespace, and signs folded headers', async () => {
    const raw =
      'From : A <a@example.com>\r\nTo: b@example.org,\r\n\t c@example.org  \r\nSubject:   spaced\t out  \r\n' +
      'Subject: second\r\nX-Other: not signed\r\n\r\n  lead\t \ttabs  \r\n\r\nmid \r\n \t \r\n\r\n\r\n';
    const signed = await signMessage(raw, [rsa]);
    const ours = /bh=([^;]+);/.exec(headersOf(signed))![1];
    const theirs = await dkimSign(raw, { signatureData: [{ signingDomain: 'example.com', selector: 'pl202611', privateKey: rsa.privateKeyPem }] } as never);
    expect(ours).toBe(/bh=([^;]+);/.exec(theirs.signatures.replace(/\s+/g, ''))![1]);
    expect((await verify(signed, [rsa]))[0]!.status.result).toBe('pass');
    expect(headersOf(signed)).toMatch(/h=from:from:to:to:subject:subject:subject;/);
  });

  it('hashes an empty body and a body without final CRLF like mailauth', async () => {
    for (const raw of ['From: a@example.com\r\n\r\n', 'From: a@example.com\r\n\r\nno newline  ']) {
      const signed = await signMessage(raw, [ed]);
      const theirs = await dkimSign(raw, {
        signatureData: [{ signingDomain: 'example.com', selector: 's', privateKey: ed.privateKeyPem, algorithm: 'ed25519-sha256' }],
      } as never);
      expect(/bh=([^;]+);/.exec(headersOf(signed))![1]).toBe(/bh=([^;]+);/.exec(theirs.signatures.replace(/\s+/g, ''))![1]);
      expect((await verify(signed, [ed]))[0]!.status.result).toBe('pass');
    }
  });

  it('converts bare LF line ends to CRLF before signing', async () => {
    const signed = await signMessage(Buffer.from('From: a@example.com\nSubject: hi\n\nline one\nline two\n'), [rsa]);
    expect(signed.toString()).toMatch(/\r\n\r\nline one\r\nline two\r\n$/);
    expect(signed.toString()).not.toMatch(/[^\r]\n/);
    expect((await verify(signed, [rsa]))[0]!.status.result).toBe('pass');
  });

  it('refuses a message without From, a key of the wrong type, and a malformed d=/s=', async () => {
    await expect(signMessage('Subject: x\r\n\r\nbody\r\n', [rsa])).rejects.toThrow(/From/);
    await expect(signMessage(message, [{ ...ed, algorithm: 'rsa-sha256' }])).rejects.toThrow(/rsa key/);
    await expect(signMessage(message, [{ ...rsa, domain: 'example.com; l=0' }])).rejects.toThrow(/malformed/);
  });

  it('returns the message (CRLF-normalized) unchanged when there are no keys', async () => {
    expect((await signMessage(message, [])).equals(crlf(message))).toBe(true);
    const clean = crlf(message);
    expect(await signMessage(clean, [])).toBe(clean); // no copy when already CRLF
  });
});

describe('normalizeDomain', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['  mail.Example.co.uk.  ', 'mail.example.co.uk'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
  ])('accepts %j as %j', (input, out) => expect(normalizeDomain(input)).toBe(out));

  it.each([
    ['1.2.3.4', /IP address/],
    ['[::1]', /IP address/],
    ['0x7f.1', /IP address/],
    ['localhost', /single label/],
    ['a..b.com', /empty label/],
    ['-a.com', /hyphen/],
    ['a-.com', /hyphen/],
    ['a_b.com', /letters, digits, hyphens/],
    ['a%2eb.com', /letters, digits, hyphens/],
    ['a/b.com', /letters, digits, hyphens/],
    ['example.123', /not a valid|all digits/],
    ['', /empty/],
    [`${'x'.repeat(64)}.com`, /63/],
    [Array.from({ length: 6 }, () => 'a'.repeat(49)).join('.'), /at most 253/],
  ])('refuses %j', (input, why) => {
    expect(() => normalizeDomain(input)).toThrow(why);
    expect(() => normalizeDomain(input)).toThrow(/^Invalid domain /);
  });
});
