/**
 * The shapes of sending domains shared by the store, the verification checks, the v2 routes and
 * the CLI. No logic here.
 */

/** What a record is for: the DKIM key of one selector, SPF, DMARC, or the return-path CNAME. */
export type RecordKind = 'dkim' | 'spf' | 'dmarc' | 'return-path';

/** One DNS record the domain owner publishes. */
export interface ExpectedRecord {
  kind: RecordKind;
  type: 'TXT' | 'CNAME';
  /** Fully qualified, without the trailing dot. */
  name: string;
  /** The value to publish (TXT text, or the CNAME target). */
  expected: string;
  purpose: string;
  /** Whether the domain counts as verified only when this record checks out. */
  required: boolean;
  /** DKIM only: the selector the record is for. */
  selector?: string;
  /** TXT only: the value in strings of at most 255 characters, as one record of several strings. */
  chunks?: string[];
}

/**
 * - verified: the record is published as expected.
 * - missing: there is no such record (the name does not exist, or has no record of that type).
 * - mismatch: a record is there but says something else (`reason` says what).
 * - error: the lookup failed (timeout, SERVFAIL): nothing is known about the record.
 */
export type RecordStatus = 'verified' | 'missing' | 'mismatch' | 'error';

/** One record's verification result, as stored and answered. */
export interface RecordCheck {
  type: 'TXT' | 'CNAME';
  name: string;
  expected: string;
  purpose: string;
  required: boolean;
  status: RecordStatus;
  /** What DNS answered for the name (TXT texts, or the CNAME target). */
  found: string[];
  /** Why the record is not verified, in words. */
  reason?: string;
  kind: RecordKind;
  selector?: string;
}

/**
 * A DKIM key's place in rotation:
 * - pending: created by a rotation, published alongside the active key, not used to sign until a
 *   verification sees its DNS record;
 * - active: signs (the newest active key per algorithm);
 * - retiring: replaced, but its record must stay published for the overlap period, so mail it signed
 *   in the last days still verifies;
 * - retired: gone from the records to publish; can be deleted from DNS.
 */
export type DkimKeyState = 'pending' | 'active' | 'retiring' | 'retired';
