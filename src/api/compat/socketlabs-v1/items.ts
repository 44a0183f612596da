/**
 * One event as a record of the legacy v1 lists, from the webhook mapping (webhooks/event-row.ts)
 * so both APIs say the same about an event. Field names and order follow what SocketLabs' clients
 * read (docs/legacy-v1.md says from where): every record starts with ServerId (AccountId when the
 * caller named the server so), DateTime, MessageId, MailingId, ToAddress, FromAddress.
 * DateTime is epoch milliseconds of the caller's local time (UTC plus timeZone minutes).
 */
import type { EventReportRow } from '../../../store/event-reports.js';
import type { WebhookEvent } from '../../../webhooks/payload.js';
import { fromEventRow } from '../../../webhooks/event-row.js';
import type { V1Record } from './render.js';

export type V1ListMethod = 'messagesFailed' | 'messagesQueued' | 'messagesProcessed' | 'messagesFblReported' | 'messagesOpenClick';

interface ListSpec {
  /** The event types listed. */
  types: readonly WebhookEvent['type'][];
  /** The fields after the common ones, in order. */
  fields: readonly string[];
  /** Those fields' values for one event of the listed types. */
  values(e: WebhookEvent, row: EventReportRow): V1Record;
}

export const COMMON_FIELDS = ['DateTime', 'MessageId', 'MailingId', 'ToAddress', 'FromAddress'] as const;

export const LISTS: Record<V1ListMethod, ListSpec> = {
  messagesFailed: {
    types: ['Failed'],
    fields: ['FailureType', 'FailureCode', 'Reason'],
    values: (e) => (e.type === 'Failed' ? { FailureType: e.failureType, FailureCode: e.failureCode ?? null, Reason: e.reason } : ({} as V1Record)),
  },
  // A Queued event has no failure; the fields are kept (null) because SocketLabs' records carry them.
  messagesQueued: {
    types: ['Queued'],
    fields: ['MessageSize', 'FailureCode', 'Reason'],
    values: (_e, row) => ({ MessageSize: row.message.sizeBytes, FailureCode: null, Reason: null }),
  },
  // Disposition 0: accepted by the receiving server (the only kind of processed message here).
  messagesProcessed: {
    types: ['Delivered'],
    fields: ['Disposition', 'LocalIp', 'MessageSize', 'Response'],
    values: (e, row) =>
      e.type === 'Delivered' ? { Disposition: 0, LocalIp: e.localIp ?? null, MessageSize: row.message.sizeBytes, Response: e.response } : ({} as V1Record),
  },
  messagesFblReported: {
    types: ['Complaint'],
    fields: ['OriginalRecipient', 'Type', 'UserAgent'],
    values: (e) => (e.type === 'Complaint' ? { OriginalRecipient: e.address, Type: e.fblType, UserAgent: e.userAgent ?? null } : ({} as V1Record)),
  },
  // EventType is the webhooks' TrackingType: 0 click, 1 open, 2 unsubscribe.
  messagesOpenClick: {
    types: ['Tracking'],
    fields: ['OriginalRecipient', 'EventType'],
    values: (e) => (e.type === 'Tracking' ? { OriginalRecipient: e.address, EventType: e.trackingType } : ({} as V1Record)),
  },
};

export const V1_LIST_METHODS = Object.keys(LISTS) as V1ListMethod[];

/** The CSV header (and JSON key order) of a list's records. */
export function columnsOf(method: V1ListMethod, idName: 'serverId' | 'accountId'): string[] {
  return [idName === 'accountId' ? 'AccountId' : 'ServerId', ...COMMON_FIELDS, ...LISTS[method].fields];
}

/** The record of one row, or an error when the row cannot be read (a producer's bug, reported, not fatal). */
export function recordOf(
  method: V1ListMethod,
  row: EventReportRow,
  idName: 'serverId' | 'accountId',
  timeZoneMinutes: number,
): { ok: true; record: V1Record } | { ok: false; error: string } {
  const mapped = fromEventRow({ event: row.event, message: row.message, recipient: row.recipient });
  if (!mapped.ok) return mapped;
  const e = mapped.event;
  if (e.type === 'Validation') return { ok: false, error: `event ${row.event.uid} is not about a message` };
  return {
    ok: true,
    record: {
      [idName === 'accountId' ? 'AccountId' : 'ServerId']: e.serverId,
      DateTime: e.occurredAt + timeZoneMinutes * 60_000,
      MessageId: e.messageId ?? null,
      MailingId: e.mailingId ?? null,
      ToAddress: e.address,
      FromAddress: row.message.fromAddress,
      ...LISTS[method].values(e, row),
    },
  };
}
