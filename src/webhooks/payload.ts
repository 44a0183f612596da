import type { KeyValue } from '../core/message.js';

/**
 * SocketLabs Event Webhook payloads (reference/socketlabs-wire-format.md §3): one flat PascalCase
 * JSON object per POST, numeric enums, optional values omitted rather than null. Keys come in the
 * order of the reference's examples, so a payload reads like SocketLabs' own. Beyond SocketLabs,
 * every payload carries `EventId`, the event's stable id (also the `webhook-id` header), for
 * deduplication: webhooks are delivered at least once, and receivers tolerate unknown fields.
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
    type: 'Failed'; fromAddress?: string; failureType: FailureType; failureCode?: number; reason: string;
    bounceStatus?: string; diagnosticCode?: string; remoteMta?: string;
  })
  | (MessageEventCommon & {
    type: 'Tracking'; trackingType: TrackingType; userAgent: string; clientIp: string; url?: string; tag?: string;
    /** Beyond SocketLabs: a machine (privacy proxy, security scanner) rather than a reader did it (tracking/machine.ts). */
    machine?: boolean;
  })
  | (Omit<MessageEventCommon, 'meta' | 'tags'> & { type: 'Complaint'; fblType: string; userAgent: string; from: string; to: string; length: number })
  | (EventCommon & { type: 'Validation' });

/** A payload as sent: flat, PascalCase, values are strings, numbers or (Data only) the Meta/Tags object. */
export type WebhookPayload = Record<string, string | number | boolean | { Meta: { Key: string; Value: string }[]; Tags: string[] }>;

/**
 * .NET's round-trip ("o") format, which SocketLabs sends: seven fractional digits and a Z
 * ("2023-06-12T10:04:56.3694682Z"). Our clock has milliseconds, so the last four digits are 0.
 */
export function dotnetDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** Adds the entries whose value is present, in order: absent values are omitted, never null. */
function put(target: WebhookPayload, fields: Record<string, string | number | undefined | null>): void {
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) target[k] = v;
}

/** The payload for one event to one endpoint (SecretKey is the endpoint's). */
export function buildPayload(event: WebhookEvent, secretKey: string): WebhookPayload {
  const p: WebhookPayload = {};
  put(p, { Type: event.type, DateTime: dotnetDateTime(event.occurredAt), ServerId: event.serverId, SecretKey: secretKey });
  const ids = event.type === 'Validation' ? {} : { MailingId: event.mailingId, MessageId: event.messageId };
  switch (event.type) {
    case 'Validation':
      break;
    case 'Queued':
      // The docs' Queued example puts its own fields before MailingId/MessageId; the others after.
      put(p, { Address: event.address, FromAddress: event.fromAddress, Subject: event.subject, MessageSize: event.messageSize, ...ids });
      break;
    case 'Deferred':
      put(p, { Address: event.address, ...ids, FromAddress: event.fromAddress, DeferralCode: event.deferralCode, Reason: event.reason });
      break;
    case 'Delivered':
      put(p, { Address: event.address, ...ids, Response: event.response, LocalIp: event.localIp, RemoteMta: event.remoteMta });
      break;
    case 'Failed':
      put(p, {
        Address: event.address, ...ids, FromAddress: event.fromAddress, FailureType: event.failureType, FailureCode: event.failureCode,
        Reason: event.reason, BounceStatus: event.bounceStatus, DiagnosticCode: event.diagnosticCode, RemoteMta: event.remoteMta,
      });
      break;
    case 'Tracking':
      put(p, {
        Address: event.address, ...ids, TrackingType: event.trackingType, ClientIp: event.clientIp, UserAgent: event.userAgent,
        Url: event.url, Tag: event.tag,
      });
      if (event.machine !== undefined) p.Machine = event.machine;
      break;
    case 'Complaint':
      put(p, { Address: event.address, ...ids, FblType: event.fblType, UserAgent: event.userAgent, From: event.from, To: event.to, Length: event.length });
      break;
  }
  // Complaints carry no Data (the docs' field table leaves Meta and Tags out of them), nor does
  // Validation, which is about no message.
  if ('meta' in event) p.Data = { Meta: event.meta.map((m) => ({ Key: m.key, Value: m.value })), Tags: [...event.tags] };
  put(p, { EventId: event.eventId });
  return p;
}

export type BodyFormat = 'json' | 'form';

/**
 * The request body and its Content-Type. `form` is SocketLabs' legacy Notification API
 * (docs/webhooks.md, Legacy form-encoded format): the same top-level fields form-encoded, without Data.
 */
export function encodePayload(payload: WebhookPayload, format: BodyFormat): { body: string; contentType: string } {
  if (format === 'json') return { body: JSON.stringify(payload), contentType: 'application/json' };
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(payload)) if (typeof v !== 'object') form.append(k, String(v));
  return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
}
