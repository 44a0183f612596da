/**
 * Management API (v2) limits. Each is a named constant with the reason beside it;
 * docs/api-v2.md lists them (a test keeps the two in step).
 */

/** Entries per page when `pageSize` is not given. */
export const DEFAULT_PAGE_SIZE = 25;

/** Largest `pageSize`: SocketLabs' v2 API caps pages at 100; the CSV download has no page limit. */
export const MAX_PAGE_SIZE = 100;

/** Largest `pageNumber` (0-based). Offsets this deep are not browsing; the download streams everything. */
export const MAX_PAGE_NUMBER = 1_000_000;

/** Addresses in one `bulk-remove` request: SocketLabs' documented limit. */
export const MAX_BULK_REMOVE = 1_000;

/**
 * Addresses in one `bulk-add` request: as many as bulk-remove takes, so one request is one short
 * transaction; a longer list (the panel's file upload) is sent in several requests.
 */
export const MAX_BULK_ADD = 1_000;

/** Rows per store query while a CSV download streams: bounds memory per download whatever the list size. */
export const SUPPRESSION_DOWNLOAD_BATCH = 1_000;

/** Largest v2 request body (bytes): a full bulk-remove (1,000 addresses of up to 320 characters) fits three times. */
export const MAX_V2_BODY_BYTES = 1_048_576;

/** Webhook endpoints per server: each event is posted to every one of them, so each multiplies the work of every send. */
export const MAX_WEBHOOK_ENDPOINTS_PER_SERVER = 20;

/** Widest `from`-`to` of one webhook replay (7 days): longer outages are replayed in steps, each answered quickly. */
export const MAX_WEBHOOK_REPLAY_RANGE_MS = 604_800_000;

/** Events one replay may queue; a range with more is refused (narrow it), so one request never writes an unbounded outbox. */
export const MAX_WEBHOOK_REPLAY_EVENTS = 100_000;

/** Rows per store query while a recipient-search CSV export streams (keyset batches): bounds memory per export whatever the result size. */
export const REPORT_EXPORT_BATCH = 1_000;
