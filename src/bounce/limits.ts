/**
 * Bounds on what one inbound report may make the bounce reader keep or scan. Reports arrive from
 * anyone on the internet; each bound is far above what real reports need.
 */

/**
 * Characters of a Diagnostic-Code or quoted reply kept. Real ones are under 1 KB (Gmail's longest
 * is ~700); the value travels on into webhooks and the store, and a hostile report should not fill them.
 */
export const MAX_DIAGNOSTIC_CHARS = 2000;

/** Recipients one report may list. RFC 3464 sets no limit; real reports list a handful. */
export const MAX_REPORTED_RECIPIENTS = 1000;

/**
 * Characters of a plain-text report's notice searched for failed addresses. The explanation comes
 * first and real ones are a few KB; a hostile 50 MB "notice" should not be scanned in full.
 */
export const MAX_NOTICE_CHARS = 64 * 1024;

/**
 * Characters of a text or part searched for delivery-status fields written inline. They follow a
 * notice of a few KB (Amazon WorkMail's "Technical report:"); a forwarded report may put them
 * after the forwarder's own text, so the bound is wider than a notice's.
 */
export const MAX_INLINE_STATUS_SEARCH_CHARS = 256 * 1024;

/**
 * Addresses the last plain-text layout takes from a notice that follows no known layout. A report
 * names its failed recipients, a handful; a notice naming more is listing something else (a
 * mailing list's members, say).
 */
export const MAX_NAMED_RECIPIENTS = 20;
