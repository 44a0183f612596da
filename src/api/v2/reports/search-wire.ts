import type { RecipientStatus } from '../../../core/message.js';
import { RECIPIENT_SEARCH_SORTS, type RecipientSearchQuery, type RecipientSearchRow, type RecipientSearchSort } from '../../../store/search.js';
import { ApiError } from '../errors.js';
import { emailAddressSchema } from '../schemas.js';
import { directionOf, pagedQueryProperties, type PagedQuery } from '../paging.js';

/**
 * What recipient search and message detail share: the filters (SocketLabs' names), their
 * validation, the status names and one recipient as a search row.
 */

/** recipients.status -> the status name the API shows (SocketLabs' names where it has one). */
export const STATUS_NAMES: Record<RecipientStatus, string> = {
  queued: 'Queued',
  delivering: 'Delivering',
  deferred: 'Deferred',
  delivered: 'Delivered',
  failed: 'Failed',
  suppressed: 'Suppressed',
  sandboxed: 'Sandboxed',
};
export const WIRE_STATUSES = Object.values(STATUS_NAMES);
const STATUS_OF = new Map(Object.entries(STATUS_NAMES).map(([k, v]) => [v, k as RecipientStatus]));

/** Longest mailing id / message id filter: the Injection API stores them as given; longer cannot match anything it accepted. */
const MAX_ID_FILTER_LENGTH = 255;
/** Longest subject filter (RFC 5322's line limit). */
const MAX_SUBJECT_FILTER_LENGTH = 998;

export const filterProperties = {
  toEmailAddress: { ...emailAddressSchema, description: 'recipient address (case-insensitive, exact)' },
  fromEmailAddress: { ...emailAddressSchema, description: 'From address of the message (case-insensitive, exact)' },
  subject: { type: 'string', minLength: 1, maxLength: MAX_SUBJECT_FILTER_LENGTH, description: 'part of the subject (case-insensitive)' },
  mailingId: { type: 'string', minLength: 1, maxLength: MAX_ID_FILTER_LENGTH, description: 'the MailingId given at injection' },
  messageId: { type: 'string', minLength: 1, maxLength: MAX_ID_FILTER_LENGTH, description: "Postline's message id, or the MessageId given at injection" },
  status: { type: 'string', enum: WIRE_STATUSES, description: 'current status of the recipient' },
  startDate: {
    type: 'string',
    minLength: 10,
    maxLength: 40,
    description: 'queued at or after: YYYY-MM-DD (UTC midnight) or an ISO 8601 date-time with a zone',
  },
  endDate: {
    type: 'string',
    minLength: 10,
    maxLength: 40,
    description: 'queued before: YYYY-MM-DD (that whole UTC day included) or an ISO 8601 date-time with a zone',
  },
} as const;

export const SORT_DEFAULTS = { sortField: 'queuedTime', sortDirection: 'dsc' } as const;
export const searchQueryProperties = { ...pagedQueryProperties(RECIPIENT_SEARCH_SORTS, SORT_DEFAULTS), ...filterProperties } as const;

export interface FilterQuery {
  toEmailAddress?: string;
  fromEmailAddress?: string;
  subject?: string;
  mailingId?: string;
  messageId?: string;
  status?: string;
  startDate?: string;
  endDate?: string;
}
export type SearchQuery = PagedQuery<RecipientSearchSort> & FilterQuery;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A date-time needs its zone: a bare local time would mean something different on every server. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Epoch ms of a date parameter; a date alone is UTC midnight (`endDate` the midnight after, so the day is included). */
export function parseDateParam(value: string, field: 'startDate' | 'endDate'): number {
  const d = DATE_ONLY.exec(value);
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const t = Date.UTC(y, m - 1, day);
    const back = new Date(t);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== day) {
      throw new ApiError('validation_failed', `${field} is not a calendar date: ${value}`, field);
    }
    return field === 'endDate' ? t + DAY_MS : t;
  }
  const t = DATE_TIME.test(value) ? Date.parse(value.replace(' ', 'T')) : NaN;
  if (!Number.isFinite(t)) {
    throw new ApiError('validation_failed', `${field} must be a date (YYYY-MM-DD) or an ISO 8601 date-time with a zone (2025-11-04T10:00:00Z)`, field);
  }
  return t;
}

/** The store's query for validated parameters; bad dates and a range that ends before it starts are refused. */
export function toStoreQuery(q: FilterQuery & { sortField?: RecipientSearchSort; sortDirection?: PagedQuery<string>['sortDirection'] }): RecipientSearchQuery {
  const startTime = q.startDate === undefined ? undefined : parseDateParam(q.startDate, 'startDate');
  const endTime = q.endDate === undefined ? undefined : parseDateParam(q.endDate, 'endDate');
  if (startTime !== undefined && endTime !== undefined && endTime < startTime) {
    throw new ApiError('validation_failed', 'endDate is before startDate', 'endDate');
  }
  return {
    toEmailAddress: q.toEmailAddress,
    fromEmailAddress: q.fromEmailAddress,
    subject: q.subject,
    mailingId: q.mailingId,
    messageId: q.messageId,
    statuses: q.status === undefined ? undefined : [STATUS_OF.get(q.status)!],
    startTime,
    endTime,
    sort: q.sortField ?? SORT_DEFAULTS.sortField,
    direction: directionOf(q.sortDirection ?? SORT_DEFAULTS.sortDirection),
  };
}

/** One recipient as search shows it (SocketLabs' from/to/subject/status/statusDate, and the ids). */
export interface SearchRowWire {
  from: string;
  to: string;
  subject: string;
  status: string;
  statusDate: string;
  queuedTime: string;
  messageId: string;
  customMessageId: string | null;
  mailingId: string | null;
  recipientId: string;
}

export const toWire = (r: RecipientSearchRow): SearchRowWire => ({
  from: r.from,
  to: r.to,
  subject: r.subject,
  status: STATUS_NAMES[r.status] ?? r.status,
  statusDate: new Date(r.statusAt).toISOString(),
  queuedTime: new Date(r.queuedAt).toISOString(),
  messageId: r.messageId,
  customMessageId: r.customMessageId,
  mailingId: r.mailingId,
  recipientId: r.recipientId,
});

export const searchRowProperties = {
  from: { type: 'string', description: 'From address of the message' },
  to: { type: 'string', description: 'the recipient address' },
  subject: { type: 'string', description: 'subject as submitted (before merge)' },
  status: { type: 'string', enum: WIRE_STATUSES },
  statusDate: { type: 'string', format: 'date-time', description: 'when the status last changed' },
  queuedTime: { type: 'string', format: 'date-time', description: 'when the message was accepted' },
  messageId: { type: 'string', description: "Postline's message id" },
  customMessageId: { type: ['string', 'null'], description: 'the MessageId given at injection' },
  mailingId: { type: ['string', 'null'] },
  recipientId: { type: 'string', description: 'this delivery (Message-ID local part of what was sent)' },
} as const;

export const searchRowSchema = { type: 'object', required: Object.keys(searchRowProperties), properties: searchRowProperties } as const;

/** CSV columns of the export, in order (the JSON row's fields). */
export const CSV_COLUMNS = ['queuedTime', 'to', 'from', 'subject', 'status', 'statusDate', 'messageId', 'customMessageId', 'mailingId', 'recipientId'] as const;
