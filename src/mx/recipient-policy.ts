/**
 * Which RCPT TO the MX listener takes, as pure functions. The listener is never an open relay:
 * it accepts mail for Postline's own mailboxes in the bounce domain and refuses everything else
 * at RCPT, before any data is read.
 *
 * Mailboxes:
 * - bounce: b+<recipient id>-<tag>@<bounce domain> (the Return-Path delivery/worker.ts sends with), and
 *   the bare b@<bounce domain>, where a forwarder that strips +tags delivers;
 * - complaint: POSTLINE_COMPLAINT_ADDRESS, default fbl@<bounce domain> (the address operators
 *   register with feedback loops).
 * Inbound routing (customer-configured inbound addresses) adds its mailboxes in `mailboxFor`.
 */
import type { Config } from '../config/load.js';
import { isValidEmailAddress } from '../core/address.js';
import type { Decision } from '../smtp/session-policy.js';
import type { InboundRouteEntry } from '../store/inbound.js';

/** The default local part of the complaint address. */
export const DEFAULT_COMPLAINT_LOCAL_PART = 'fbl';

/** Recipients per message. A report goes to one address; a few more are tolerated, not hundreds. */
export const MAX_MX_RECIPIENTS = 10;

/**
 * b, or b+<26-character id> (ids.ts: Crockford base32 ULID) with its trace tag (core/verp.ts),
 * any case. The tag is checked with the report, after DATA, not here: a report with a missing or
 * wrong tag is still taken (a bounce is never bounced), logged as forged and changes nothing.
 */
const BOUNCE_LOCAL = /^b(\+[0-9a-hjkmnp-tv-z]{26}(-[0-9a-z]{1,32})?)?$/i;

/** inbound: a customer's routed domain or address (src/inbound/), posted to the route's endpoint. */
export type Mailbox = 'bounce' | 'complaint' | 'inbound';

export interface MxAddresses {
  /** Lower case. */
  readonly bounceDomain: string;
  /** Lower case. */
  readonly complaintAddress: string;
  /** Verified custom bounce domains of servers (custom-domains/cache.ts): their b@ and b+<id>@ are bounce mailboxes too. */
  readonly isCustomBounceDomain?: (domain: string) => boolean;
}

export function mxAddressesOf(cfg: Pick<Config, 'bounceDomain' | 'hostname' | 'complaintAddress'>): MxAddresses {
  const bounceDomain = (cfg.bounceDomain ?? cfg.hostname).toLowerCase();
  return { bounceDomain, complaintAddress: (cfg.complaintAddress ?? `${DEFAULT_COMPLAINT_LOCAL_PART}@${bounceDomain}`).toLowerCase() };
}

/**
 * The Postline mailbox an address names, or null when it names none (refused). `route` is the
 * inbound route the address reaches (route-table.ts), if any: Postline's own mailboxes come first.
 */
export function mailboxFor(address: string, book: MxAddresses, route: InboundRouteEntry | null = null): Mailbox | null {
  const lower = address.toLowerCase();
  if (lower === book.complaintAddress) return 'complaint';
  const at = lower.lastIndexOf('@');
  const domain = lower.slice(at + 1);
  const ourBounceDomain = domain === book.bounceDomain || (book.isCustomBounceDomain?.(domain) ?? false);
  if (at > 0 && ourBounceDomain && BOUNCE_LOCAL.test(lower.slice(0, at))) return 'bounce';
  return route ? 'inbound' : null;
}

export function decideMxRcpt(s: {
  address: string;
  book: MxAddresses;
  recipientCount: number;
  alreadyListed: boolean;
  route?: InboundRouteEntry | null;
}): Decision {
  const mailbox = mailboxFor(s.address, s.book, s.route ?? null);
  // Postline's own mailboxes are exactly the configured names, whatever the general syntax rule
  // says of them: a bounce domain without a dot (localhost, a lab's bare host name) must still
  // take its own bounces.
  const own = mailbox === 'bounce' || mailbox === 'complaint';
  if (!own && !isValidEmailAddress(s.address)) return { ok: false, code: 501, message: '5.1.3 Bad recipient address syntax' };
  // One reply for another domain and for an unknown mailbox of ours: relaying denied either way,
  // and it does not tell a prober which local parts exist.
  if (mailbox === null) return { ok: false, code: 550, message: '5.7.1 Relaying denied: no such mailbox here' };
  // A route switched off by its owner takes no mail (nothing would post it).
  if (mailbox === 'inbound' && s.route && !s.route.enabled) return { ok: false, code: 550, message: '5.2.1 Mailbox disabled, not accepting messages' };
  if (!s.alreadyListed && s.recipientCount >= MAX_MX_RECIPIENTS) {
    return { ok: false, code: 452, message: `4.5.3 Too many recipients (at most ${MAX_MX_RECIPIENTS} per message)` };
  }
  return { ok: true };
}
