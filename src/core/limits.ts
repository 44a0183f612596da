/**
 * Injection limits. Each is a named constant with the reason beside it; docs/injection-api.md
 * lists them with the error code a sender gets when one is exceeded.
 */

/** Messages in one request (`TooManyMessages`). SocketLabs documented 10; official clients send 1;
 *  we allow more so third-party batchers are not penalised. */
export const MAX_MESSAGES_PER_REQUEST = 50;

/** Recipients of one message: To+Cc+Bcc of a basic message, or PerMessage rows of a merge
 *  (`TooManyRecipients`). Large enough for 1,000-recipient bulk requests with room to spare. */
export const MAX_RECIPIENTS_PER_MESSAGE = 10_000;

/** One message's content: subject, bodies, headers and decoded attachments (`MessageTooLarge`).
 *  Matches common receiving limits (Gmail accepts 25 MB of attachments, encoded ~34 MB). */
export const MAX_MESSAGE_SIZE_BYTES = 30 * 1024 * 1024;

/** One HTTP request body, before parsing (`MessageTooLarge`): one maximal message base64-encoded
 *  in JSON plus envelope. */
export const MAX_REQUEST_BODY_BYTES = 48 * 1024 * 1024;

/** Metadata keys/values plus tags of one message, in UTF-8 bytes (`MetadataOrTagsAreTooLarge`);
 *  SocketLabs' limit of 12.5 KB. */
export const MAX_METADATA_AND_TAGS_BYTES = 12_800;

/** Failed authentications from one client within AUTH_FAILURE_WINDOW_MS before it is answered
 *  `TooManyErrors` without checking further keys (slows key guessing). */
export const AUTH_FAILURE_LIMIT = 20;
export const AUTH_FAILURE_WINDOW_MS = 60_000;

/** An Idempotency-Key is remembered this long; a repeat within it returns the first answer. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Longest accepted Idempotency-Key header value. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Longest custom header value and name we accept (RFC 5322 line limit is 998 per line; folded
 *  values may be longer, but nothing legitimate needs more than this). */
export const MAX_HEADER_VALUE_LENGTH = 8_192;
export const MAX_HEADER_NAME_LENGTH = 76;

/** Merge rows: field name and value lengths (`InvalidMergeData` beyond). */
export const MAX_MERGE_FIELD_NAME_LENGTH = 100;
export const MAX_MERGE_VALUE_LENGTH = 65_536;
