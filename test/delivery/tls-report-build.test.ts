import { gunzipSync, gzipSync } from 'node:zlib';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { buildTlsReport } from '../../src/delivery/tls-report/report.js';
import { composeTlsReportMail, tlsReportFilename } from '../../src/delivery/tls-report/report-mail.js';
import type { TlsPolicyDay } from '../../src/store/tls-reports.js';
import { tlsReportValidator } from '../helpers/tls-report.js';

const stsPolicy: TlsPolicyDay = {
  policyType: 'sts',
  policyString: ['version: STSv1', 'mode: enforce', 'mx: *.example.test', 'max_age: 86400'],
  mxHost: ['*.example.test'],
  results: [
    {
      resultType: 'certificate-expired',
      receivingMxHostname: 'mx1.example.test',
      receivingIp: '192.0.2.10',
      sendingMtaIp: '198.51.100.1',
      detail: 'X509_V_ERR_CERT_HAS_EXPIRED',
      sessions: 2,
    },
    {
      resultType: 'starttls-not-supported',
      receivingMxHostname: 'mx2.example.test',
      receivingIp: '2001:db8::25',
      sendingMtaIp: '2001:db8::1',
      detail: 'https://help.mta.test/tls#starttls',
      sessions: 1,
    },
    { resultType: 'sts-policy-fetch-error', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, detail: null, sessions: 4 },
    { resultType: 'success', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, detail: null, sessions: 40 },
  ],
};
const tlsaPolicy: TlsPolicyDay = {
  policyType: 'tlsa',
  policyString: ['3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
  mxHost: [],
  results: [{ resultType: 'success', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, detail: null, sessions: 3 }],
};
const input = {
  organizationName: 'Postline Test',
  contactInfo: 'postmaster@mta.postline.test',
  reportId: '01hx0000000000000000000000@mta.postline.test',
  day: '2030-05-01',
  policyDomain: 'example.test',
};

describe('the RFC 8460 report', () => {
  it('covers the full UTC day, sums each policy, and lists failures with what is known of them', () => {
    const report = buildTlsReport({ ...input, policies: [stsPolicy, tlsaPolicy] });
    expect(report).toEqual({
      'organization-name': 'Postline Test',
      'date-range': { 'start-datetime': '2030-05-01T00:00:00Z', 'end-datetime': '2030-05-01T23:59:59Z' },
      'contact-info': 'postmaster@mta.postline.test',
      'report-id': '01hx0000000000000000000000@mta.postline.test',
      policies: [
        {
          policy: { 'policy-type': 'sts', 'policy-string': stsPolicy.policyString, 'policy-domain': 'example.test', 'mx-host': ['*.example.test'] },
          summary: { 'total-successful-session-count': 40, 'total-failure-session-count': 7 },
          'failure-details': [
            {
              'result-type': 'certificate-expired',
              'sending-mta-ip': '198.51.100.1',
              'receiving-mx-hostname': 'mx1.example.test',
              'receiving-ip': '192.0.2.10',
              'failed-session-count': 2,
              'failure-reason-code': 'X509_V_ERR_CERT_HAS_EXPIRED',
            },
            {
              'result-type': 'starttls-not-supported',
              'sending-mta-ip': '2001:db8::1',
              'receiving-mx-hostname': 'mx2.example.test',
              'receiving-ip': '2001:db8::25',
              'failed-session-count': 1,
              // A URI goes where RFC 8460 wants a URI; text goes in failure-reason-code.
              'additional-information': 'https://help.mta.test/tls#starttls',
            },
            // No host, no address, no detail: the fields are left out, never null.
            { 'result-type': 'sts-policy-fetch-error', 'failed-session-count': 4 },
          ],
        },
        {
          // TLSA has no mx patterns, and a policy without failures no failure-details.
          policy: { 'policy-type': 'tlsa', 'policy-string': tlsaPolicy.policyString, 'policy-domain': 'example.test' },
          summary: { 'total-successful-session-count': 3, 'total-failure-session-count': 0 },
        },
      ],
    });
    const validate = tlsReportValidator();
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(JSON.stringify(report)).not.toContain('null');
  });

  it('reports no-policy-found sessions without a policy-string', () => {
    const report = buildTlsReport({ ...input, policies: [{ ...tlsaPolicy, policyType: 'no-policy-found', policyString: [] }] });
    expect(report.policies[0]!.policy).toEqual({ 'policy-type': 'no-policy-found', 'policy-domain': 'example.test' });
    expect(tlsReportValidator()(report)).toBe(true);
  });

  it('the schema fixture refuses what RFC 8460 does not allow (it is not a schema that passes anything)', () => {
    const validate = tlsReportValidator();
    const good = buildTlsReport({ ...input, policies: [stsPolicy] });
    const broken: unknown[] = [
      { ...good, 'contact-info': null },
      { ...good, 'date-range': { 'start-datetime': '2030-05-01', 'end-datetime': '2030-05-01T23:59:59Z' } },
      { ...good, policies: [{ ...good.policies[0]!, policy: { ...good.policies[0]!.policy, 'policy-type': 'dane' } }] },
      { ...good, policies: [{ ...good.policies[0]!, 'failure-details': [{ 'result-type': 'success', 'failed-session-count': 1 }] }] },
      {
        ...good,
        policies: [{ ...good.policies[0]!, 'failure-details': [{ 'result-type': 'dane-required', 'failed-session-count': 1, 'receiving-ip': 'mx1' }] }],
      },
      { ...good, extra: 1 },
    ];
    for (const b of broken) expect(validate(b), JSON.stringify(b).slice(0, 200)).toBe(false);
  });
});

describe('the report as mail (RFC 8460 §5.3)', () => {
  it('names the attachment <submitter>!<domain>!<begin>!<end>!<id>.json.gz with the day in Unix seconds', () => {
    expect(tlsReportFilename('mta.postline.test', 'example.test', '2030-05-01', 'abc')).toBe(
      `mta.postline.test!example.test!1903824000!1903910399!abc.json.gz`,
    );
    expect(Date.UTC(2030, 4, 1) / 1000).toBe(1903824000);
  });

  it('is a multipart/report of report-type tlsrpt: a text part and the gzipped report, with the Subject and TLS-Report-* fields', async () => {
    const json = JSON.stringify(buildTlsReport({ ...input, policies: [stsPolicy] }));
    const mime = await composeTlsReportMail({
      from: 'tlsrpt-noreply@mta.postline.test',
      to: 'tlsrpt@reports.test',
      submitter: 'mta.postline.test',
      policyDomain: 'example.test',
      reportId: input.reportId,
      day: '2030-05-01',
      uniqueId: '01hx0000000000000000000000',
      gzipped: gzipSync(json),
      now: Date.parse('2030-05-02T01:00:00Z'),
    });
    const text = mime.toString('latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(text).not.toMatch(/[^\r]\n/); // CRLF throughout
    expect(head).toMatch(/^TLS-Report-Domain: example\.test$/m);
    expect(head).toMatch(/^TLS-Report-Submitter: mta\.postline\.test$/m);
    expect(head).toMatch(/^Content-Type: multipart\/report; report-type="?tlsrpt"?;/m);

    const mail = await PostalMime.parse(mime, { attachmentEncoding: 'arraybuffer' });
    expect(mail.subject).toBe(`Report Domain: example.test Submitter: mta.postline.test Report-ID: <${input.reportId}>`);
    expect(mail.from?.address).toBe('tlsrpt-noreply@mta.postline.test');
    expect(mail.to?.map((t) => t.address)).toEqual(['tlsrpt@reports.test']);
    expect(mail.date).toBe('2030-05-02T01:00:00.000Z');
    expect(mail.text).toContain('aggregate TLS report');
    expect(mail.attachments).toHaveLength(1);
    const [att] = mail.attachments;
    expect(att!.mimeType).toBe('application/tlsrpt+gzip');
    expect(att!.filename).toBe('mta.postline.test!example.test!1903824000!1903910399!01hx0000000000000000000000.json.gz');
    expect(gunzipSync(Buffer.from(att!.content as ArrayBuffer)).toString()).toBe(json);
  });
});
