import type { TlsPolicyDay } from '../../store/tls-reports.js';

/** The report of RFC 8460 §4.4, field names as the RFC spells them. Optional fields are left out when absent, never null. */
export interface TlsReport {
  'organization-name': string;
  'date-range': { 'start-datetime': string; 'end-datetime': string };
  'contact-info': string;
  'report-id': string;
  policies: TlsReportPolicy[];
}
export interface TlsReportPolicy {
  policy: {
    'policy-type': string;
    'policy-string'?: string[];
    'policy-domain': string;
    'mx-host'?: string[];
  };
  summary: { 'total-successful-session-count': number; 'total-failure-session-count': number };
  'failure-details'?: TlsFailureDetail[];
}
export interface TlsFailureDetail {
  'result-type': string;
  'sending-mta-ip'?: string;
  'receiving-mx-hostname'?: string;
  'receiving-ip'?: string;
  'failed-session-count': number;
  'additional-information'?: string;
  'failure-reason-code'?: string;
}

export interface TlsReportInput {
  organizationName: string;
  /** An email address (RFC 8460: contact-info). */
  contactInfo: string;
  reportId: string;
  /** The UTC day reported, YYYY-MM-DD. */
  day: string;
  policyDomain: string;
  policies: readonly TlsPolicyDay[];
}

/**
 * RFC 8460 calls additional-information a URI and failure-reason-code free text; a session's
 * detail is usually an error message, and goes in the URI field only when it is one.
 */
const isUri = (s: string): boolean => /^https?:\/\/\S+$/i.test(s);

/** The day's report for one policy domain, from its stored counts. Pure. */
export function buildTlsReport(i: TlsReportInput): TlsReport {
  return {
    'organization-name': i.organizationName,
    'date-range': { 'start-datetime': `${i.day}T00:00:00Z`, 'end-datetime': `${i.day}T23:59:59Z` },
    'contact-info': i.contactInfo,
    'report-id': i.reportId,
    policies: i.policies.map((p) => {
      let ok = 0;
      let failed = 0;
      const details: TlsFailureDetail[] = [];
      for (const r of p.results) {
        if (r.resultType === 'success') {
          ok += r.sessions;
          continue;
        }
        failed += r.sessions;
        details.push({
          'result-type': r.resultType,
          ...(r.sendingMtaIp ? { 'sending-mta-ip': r.sendingMtaIp } : {}),
          ...(r.receivingMxHostname ? { 'receiving-mx-hostname': r.receivingMxHostname } : {}),
          ...(r.receivingIp ? { 'receiving-ip': r.receivingIp } : {}),
          'failed-session-count': r.sessions,
          ...(r.detail ? (isUri(r.detail) ? { 'additional-information': r.detail } : { 'failure-reason-code': r.detail }) : {}),
        });
      }
      return {
        policy: {
          'policy-type': p.policyType,
          ...(p.policyString.length > 0 ? { 'policy-string': p.policyString } : {}),
          'policy-domain': i.policyDomain,
          ...(p.mxHost.length > 0 ? { 'mx-host': p.mxHost } : {}),
        },
        summary: { 'total-successful-session-count': ok, 'total-failure-session-count': failed },
        ...(details.length > 0 ? { 'failure-details': details } : {}),
      };
    }),
  };
}
