import type { KeyValue } from '../core/message.js';
import { LEGACY_NOTIFICATION_TYPES as LEGACY_TYPES } from '../core/legacy-notification-types.js';

/**
 * SocketLabs Event Webhook payloads (docs/webhooks.md, Payloads): one flat PascalCase
 * JSON object per POST, numeric enums. Every field SocketLabs' field table lists for a type is
 * present, null where Postline has no value, so a receiver that reads a field finds it (a missing
 * key and a null read differently in several languages). Keys come in the order of SocketLabs'
 * examples, so a payload reads like SocketLabs' own. Beyond SocketLabs, every payload carries
 * `EventId`, the event's stable id (also the `webhook-id` header), for deduplication: webhooks are
 * delivered at least once, and receivers tolerate unknown fields.
 */

/** The wire `Type` values: public API, one registry. */
export const WEBHOOK_EVENT_TYPES = ['Queued', 'Deferred', 'Delivered', 'Failed', 'Tracking', 'Complaint', 'Validation'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** SocketLabs' TrackingType (.NET enum Click=0, Open=1, Unsubscribe=2). */
export const TRACKING_TYPE = { click: 0, open: 1, unsubscribe: 2 } as const;
export type TrackingType = (typeof TRACKING_TYPE)[keyof typeof TRACKING_TYPE];
/** SocketLabs' FailureType: 0 temporary, 1 permanent (address suppressed), 2 suppressed (not attempted). */
export const FAILURE_TYPE = { temporary: 0, permanent: 1, suppressed: 2 } as const;
export type FailureType = (typeof FAILURE_TYPE)[keyof typeof FAILURE_TYPE];

interface EventCommon {
  /** The stable event id (the events row's uid): the same on every retry and to every endpoint. */
  eventId: string;
  /** When the event happened, epoch milliseconds. */
  occurredAt: number;
  serverId: number;
}
/** What every event about one recipient of one message carries. */
interface MessageEventCommon extends EventCommon {
  address: string;
  mailingId?: string;
  messageId?: string;
  /** The injection's Metadata and Tags, echoed back as Data.Meta and Data.Tags. */
  meta: readonly KeyValue[];
  tags: readonly string[];
}

/** One event, as the payload builder needs it; a store row plus its message maps to this (event-row.ts). */
export type WebhookEvent =
  | (MessageEventCommon & { type: 'Queued'; fromAddress: string; subject: string; messageSize: number })
  | (MessageEventCommon & { type: 'Deferred'; fromAddress?: string; deferralCode?: number; reason: string })
  | (MessageEventCommon & { type: 'Delivered'; response: string; localIp?: string; remoteMta?: string })
  | (MessageEventCommon & {
      type: 'Failed';
      fromAddress?: string;
      failureType: FailureType;
      failureCode?: number;
      reason: string;
      bounceStatus?: string;
      diagnosticCode?: string;
      remoteMta?: string;
      /** Beyond SocketLabs: why a suppressed recipient (FailureType 2) is on the list (core/suppression.ts). */
      suppressionReason?: string;
    })
  | (MessageEventCommon & {
      type: 'Tracking';
      trackingType: TrackingType;
      userAgent: string;
      clientIp: string;
      url?: string;
      tag?: string;
      /** Beyond SocketLabs: a machine (privacy proxy, security scanner) rather than a reader did it (tracking/machine.ts). */
      machine?: boolean;
    })
  | (Omit<MessageEventCommon, 'meta' | 'tags'> & { type: 'Complaint'; fblType: string; userAgent?: string; from: string; to: string; length: number })
  | (EventCommon & { type: 'Validation' });

/** SocketLabs' Data: the injection's Metadata and Tags. */
export interface PayloadData {
  Meta: { Key: string; Value: string }[];
  Tags: string[];
}
/** A payload as sent: flat, PascalCase; values are strings, numbers, booleans, null or (Data only) the Meta/Tags object. */
export type WebhookPayload = Record<string, string | number | boolean | null | PayloadData>;

/**
 * .NET's round-trip ("o") format, which SocketLabs sends: seven fractional digits and a Z
 * ("2023-06-12T10:04:56.3694682Z"). Our clock has milliseconds, so the last four digits are 0.
 */
export function dotnetDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** SocketLabs has IP pools; Postline sends from the host's addresses, so IpPoolId is always null. */
const NO_IP_POOL = null;

/**
 * The payload for one event to one endpoint (SecretKey is the endpoint's). A sub-account is a
 * Postline server and its subaccountId is the ServerId (docs/api-v2.md), so SubaccountId equals
 * ServerId, as in SocketLabs' own Queued example; Complaint has none (the field table leaves it out).
 */
export function buildPayload(event: WebhookEvent, secretKey: string): WebhookPayload {
  const head = { Type: event.type, DateTime: dotnetDateTime(event.occurredAt) };
  const server = { ServerId: event.serverId, SubaccountId: event.serverId };
  const eventId = { EventId: event.eventId };
  if (event.type === 'Validation') {
    // About no message: the common fields with no values, as the field table lists them for every type.
    return { ...head, ...server, SecretKey: secretKey, Address: null, MailingId: null, MessageId: null, Data: { Meta: [], Tags: [] }, ...eventId };
  }
  const ids = { MailingId: event.mailingId ?? null, MessageId: event.messageId ?? null };
  const recipient = { SecretKey: secretKey, Address: event.address, ...ids };
  if (event.type === 'Complaint') {
    return {
      ...head,
      ServerId: event.serverId,
      ...recipient,
      FblType: event.fblType,
      UserAgent: event.userAgent ?? null,
      From: event.from,
      To: event.to,
      Length: event.length,
      ...eventId,
    };
  }
  const data: PayloadData = { Meta: event.meta.map((m) => ({ Key: m.key, Value: m.value })), Tags: [...event.tags] };
  switch (event.type) {
    case 'Queued':
      // The docs' Queued example puts SubaccountId first and its own fields before MailingId/MessageId.
      return {
        ...head,
        SubaccountId: event.serverId,
        ServerId: event.serverId,
        SecretKey: secretKey,
        Address: event.address,
        FromAddress: event.fromAddress,
        Subject: event.subject,
        MessageSize: event.messageSize,
        ...ids,
        Data: data,
        ...eventId,
      };
    case 'Deferred':
      return {
        ...head,
        ...server,
        IpPoolId: NO_IP_POOL,
        ...recipient,
        FromAddress: event.fromAddress ?? null,
        DeferralCode: event.deferralCode ?? null,
        Reason: event.reason,
        Data: data,
        ...eventId,
      };
    case 'Delivered':
      return {
        ...head,
        ...server,
        IpPoolId: NO_IP_POOL,
        ...recipient,
        Response: event.response,
        LocalIp: event.localIp ?? null,
        RemoteMta: event.remoteMta ?? null,
        Data: data,
        ...eventId,
      };
    case 'Failed':
      return {
        ...head,
        ...server,
        IpPoolId: NO_IP_POOL,
        ...recipient,
        FromAddress: event.fromAddress ?? null,
        FailureType: event.failureType,
        FailureCode: event.failureCode ?? null,
        Reason: event.reason,
        BounceStatus: event.bounceStatus ?? null,
        DiagnosticCode: event.diagnosticCode ?? null,
        RemoteMta: event.remoteMta ?? null,
        SuppressionReason: event.suppressionReason ?? null,
        Data: data,
        ...eventId,
      };
    case 'Tracking':
      return {
        ...head,
        ...server,
        ...recipient,
        TrackingType: event.trackingType,
        ClientIp: event.clientIp,
        UserAgent: event.userAgent,
        Url: event.url ?? null,
        Tag: event.tag ?? null,
        Machine: event.machine ?? null,
        Data: data,
        ...eventId,
      };
  }
}

export type BodyFormat = 'json' | 'form';

/** The types a form endpoint receives (core/legacy-notification-types.ts). */
export const LEGACY_NOTIFICATION_TYPES: readonly WebhookEventType[] = LEGACY_TYPES;

/**
 * Fields the legacy Notification API never had: the v2 (Complex Sender) ids, the Data object, and
 * Postline's own additions. A form body carries SocketLabs' legacy field names and nothing else.
 */
const NOT_IN_LEGACY_FORM = new Set(['SubaccountId', 'IpPoolId', 'Data', 'EventId', 'Machine', 'SuppressionReason']);

/**
 * The request body and its Content-Type. `form` is SocketLabs' legacy Notification API
 * (docs/webhooks.md, Legacy Notification API): the same field names form-encoded, a field without a
 * value as an empty value (a form has no null; the receiver still finds the field), and only the
 * legacy fields.
 */
export function encodePayload(payload: WebhookPayload, format: BodyFormat): { body: string; contentType: string } {
  if (format === 'json') return { body: JSON.stringify(payload), contentType: 'application/json' };
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(payload)) {
    if (NOT_IN_LEGACY_FORM.has(k) || (typeof v === 'object' && v !== null)) continue;
    form.append(k, v === null ? '' : String(v));
  }
  return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
}
