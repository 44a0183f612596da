import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupTlsRptRecord, parseTlsRptRecords, type TlsRptRecord } from '../../src/delivery/tls-report/tlsrpt-record.js';
import { dnsLookup } from '../../src/dns/lookup.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

const ruaOf = (r: TlsRptRecord | { kind: 'failed'; error: string }) => (r.kind === 'record' ? r.rua.map((u) => u.uri) : r);

/** RFC 8460 §3: which TXT records are a domain's TLS-RPT record, and what is used of it. */
describe('the TLS-RPT record (RFC 8460 §3)', () => {
  it('reads mailto: and https: ruas, with and without spaces around delimiters', () => {
    const r = parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:tls@reports.test, https://reports.test/tlsrpt']);
    expect(r).toMatchObject({ kind: 'record', ignored: [] });
    if (r.kind !== 'record') throw new Error('no record');
    expect(r.rua).toHaveLength(2);
    expect(r.rua[0]).toEqual({ kind: 'mailto', uri: 'mailto:tls@reports.test', address: 'tls@reports.test' });
    expect(r.rua[1]).toMatchObject({ kind: 'https', uri: 'https://reports.test/tlsrpt' });
    expect(ruaOf(parseTlsRptRecords(['v=TLSRPTv1;rua=mailto:a@b.test'])), 'no spaces').toEqual(['mailto:a@b.test']);
    expect(ruaOf(parseTlsRptRecords(['v=TLSRPTv1 ;  rua=mailto:a@b.test ;'])), 'WSP around ";", a trailing delimiter').toEqual(['mailto:a@b.test']);
  });

  it('decodes a percent-encoded mailto address and leaves its query out', () => {
    const r = parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:tls%2Breports@reports.test?subject=hi']);
    expect(r).toMatchObject({ kind: 'record', rua: [{ kind: 'mailto', address: 'tls+reports@reports.test' }] });
  });

  it('ignores unknown fields, and TXT records of other kinds at the same name', () => {
    expect(ruaOf(parseTlsRptRecords(['v=TLSRPTv1; ext_1.x-y=anything!; rua=mailto:a@b.test; other=1']))).toEqual(['mailto:a@b.test']);
    expect(ruaOf(parseTlsRptRecords(['v=spf1 -all', 'v=TLSRPTv1; rua=mailto:a@b.test', 'site-verification=abc']))).toEqual(['mailto:a@b.test']);
  });

  it('takes only the ruas it can use: ftp: and other schemes, and malformed addresses, are ignored', () => {
    const r = parseTlsRptRecords(['v=TLSRPTv1; rua=ftp://reports.test/x,mailto:a@b.test,http://reports.test/plain,mailto:not-an-address,https://']);
    expect(r).toMatchObject({ kind: 'record', ignored: ['ftp://reports.test/x', 'http://reports.test/plain', 'mailto:not-an-address', 'https://'] });
    expect(ruaOf(r)).toEqual(['mailto:a@b.test']);
  });

  it('is no record when no rua can be used (only ftp:)', () => {
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua=ftp://reports.test/tlsrpt'])).toEqual({
      kind: 'none',
      reason: 'no usable rua URI ("ftp://reports.test/tlsrpt")',
    });
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:%E0%A4%A@b.test'])).toMatchObject({ kind: 'none', reason: expect.stringMatching(/no usable rua/) });
  });

  it('is no record without v=TLSRPTv1; first (missing, misspelt, in other case, not first, without the delimiter)', () => {
    for (const txt of [
      'rua=mailto:a@b.test',
      'v=TLSRPTv2; rua=mailto:a@b.test',
      'v=tlsrptv1; rua=mailto:a@b.test',
      'v=TLSRPTv10; rua=mailto:a@b.test',
      'rua=mailto:a@b.test; v=TLSRPTv1',
      ' v=TLSRPTv1; rua=mailto:a@b.test',
      'v=TLSRPTv1',
    ]) {
      expect(parseTlsRptRecords([txt]), txt).toEqual({ kind: 'none', reason: 'no record begins with v=TLSRPTv1;' });
    }
    expect(parseTlsRptRecords([])).toMatchObject({ kind: 'none' });
  });

  it('is no record when two records begin with v=TLSRPTv1; (even identical ones)', () => {
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:a@b.test', 'v=TLSRPTv1; rua=mailto:c@d.test'])).toEqual({
      kind: 'none',
      reason: '2 records begin with v=TLSRPTv1;',
    });
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:a@b.test', 'v=TLSRPTv1; rua=mailto:a@b.test'])).toMatchObject({ kind: 'none' });
  });

  it('is no record without a rua, with an empty one, with two, or with a field that is not name=value', () => {
    expect(parseTlsRptRecords(['v=TLSRPTv1; foo=bar'])).toEqual({ kind: 'none', reason: 'no rua field' });
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua='])).toEqual({ kind: 'none', reason: 'no rua field' });
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua=mailto:a@b.test; rua=mailto:c@d.test'])).toEqual({ kind: 'none', reason: 'more than one rua field' });
    expect(parseTlsRptRecords(['v=TLSRPTv1; rua mailto:a@b.test'])).toMatchObject({ kind: 'none', reason: expect.stringMatching(/^malformed field/) });
    expect(parseTlsRptRecords(['v=TLSRPTv1; _x=1; rua=mailto:a@b.test'])).toMatchObject({ kind: 'none', reason: expect.stringMatching(/^malformed field/) });
  });

  describe('looked up in DNS at _smtp._tls.<domain>', () => {
    let dns: TestDnsServer;
    beforeAll(async () => {
      dns = await startDnsServer({
        // A record split into character-strings is read joined.
        '_smtp._tls.split.test': { TXT: [['v=TLSRPTv1; rua=mai', 'lto:tls@reports.test']] },
        '_smtp._tls.two.test': { TXT: ['v=TLSRPTv1; rua=mailto:a@b.test', 'v=TLSRPTv1; rua=mailto:c@d.test'] },
        '_smtp._tls.nodata.test': { A: ['192.0.2.1'] },
        '_smtp._tls.servfail.test': { fail: 'SERVFAIL' },
      });
    });
    afterAll(() => dns.close());
    const lookup = (domain: string) => lookupTlsRptRecord(dnsLookup([dns.address], { timeoutMs: 1_000, tries: 1 }), domain);

    it('finds a record published in several character-strings', async () => {
      expect(ruaOf(await lookup('split.test'))).toEqual(['mailto:tls@reports.test']);
      expect(dns.asked('TXT _smtp._tls.split.test')).toBe(1);
    });
    it('says no record for NXDOMAIN, NODATA and two records', async () => {
      expect(await lookup('nowhere.test')).toEqual({ kind: 'none', reason: 'no TXT record at _smtp._tls' });
      expect(await lookup('nodata.test')).toEqual({ kind: 'none', reason: 'no TXT record at _smtp._tls' });
      expect(await lookup('two.test')).toMatchObject({ kind: 'none', reason: '2 records begin with v=TLSRPTv1;' });
    });
    it('says the lookup failed on SERVFAIL (asked again on a later run)', async () => {
      expect(await lookup('servfail.test')).toEqual({ kind: 'failed', error: 'ESERVFAIL' });
    });
  });
});
