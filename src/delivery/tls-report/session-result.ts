/**
 * What one outbound SMTP session to a domain with a TLS policy (MTA-STS, DANE) came to, as the
 * delivery path hands it to TLS reporting (RFC 8460). The delivery code only records; counting,
 * storing and sending the daily reports is the collector's and the job's business (collector.ts,
 * job.ts), so a session never waits on them.
 */

/** RFC 8460 §4.3 result types, plus 'success'. */
export type TlsResultType =
  | 'success'
  | 'starttls-not-supported'
  | 'certificate-host-mismatch'
  | 'certificate-expired'
  | 'certificate-not-trusted'
  | 'validation-failure'
  | 'tlsa-invalid'
  | 'dnssec-invalid'
  | 'dane-required'
  | 'sts-policy-fetch-error'
  | 'sts-policy-invalid'
  | 'sts-webpki-invalid';
export interface TlsSessionResult {
  /** The recipient domain whose policy applied (lower case, A-label). */
  policyDomain: string;
  policyType: 'sts' | 'tlsa' | 'no-policy-found';
  /** RFC 8460 policy-string: the MTA-STS policy's lines, or each TLSA record as presentation text ("3 1 1 ab12..."). */
  policyString: string[];
  /** The STS policy's mx patterns (empty for TLSA). */
  mxHost: string[];
  receivingMxHostname: string | null;
  receivingIp: string | null;
  sendingMtaIp: string | null;
  result: TlsResultType;
  /** Free text for additional-information / failure-reason-code. */
  detail?: string;
}
export interface TlsReportRecorder {
  /** Never throws, never waits: counts are kept in memory and flushed to the store in batches. */
  record(r: TlsSessionResult): void;
}
