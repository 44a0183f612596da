import type { StoredEvent, StoredMessage, StoredRecipient } from '../store/store.js';
import { FAILURE_TYPE, TRACKING_TYPE, type FailureType, type TrackingType, type WebhookEvent } from './payload.js';

/**
 * From an events row (the durable outbox) and its message and recipient to a WebhookEvent.
 * The row's `data` JSON holds what the producer recorded, under SocketLabs' field names
 * (src/delivery/outcome.ts writes Delivered, Deferred and Failed; Queued has none). Tracking and
 * Complaint producers are to record their fields the same way (TrackingType, UserAgent, ClientIp,
 * Url, Tag; FblType, UserAgent, From, To, Length). Fields of our own (Explanation, Attempts,
 * NextAttempt, Expired, Sandbox, Tls) stay out of the SocketLabs payload; SuppressionReason and
 * Machine go in, as documented additions.
 */

export interface EventRowInput {
  event: Pick<StoredEvent, 'uid' | 'type' | 'serverId' | 'occurredAt' | 'data'>;
  message: Pick<StoredMessage, 'id' | 'fromAddress' | 'subject' | 'sizeBytes' | 'metadata' | 'tags'>;
  recipient: Pick<StoredRecipient, 'address' | 'mailingId' | 'messageId_'>;
}

/** A row that cannot become a payload is a producer's bug, reported as a value so one bad row cannot stall the outbox. */
export type EventMapping = { ok: true; event: WebhookEvent } | { ok: false; error: string };

class BadRow extends Error {}

function optStr(data: Record<string, unknown>, key: string): string | undefined {
  const v = data[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BadRow(`data.${key} is not a string: ${JSON.stringify(v)}`);
  return v;
}
function optNum(data: Record<string, unknown>, key: string): number | undefined {
  const v = data[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRow(`data.${key} is not a number: ${JSON.stringify(v)}`);
  return v;
}
function need<T>(v: T | undefined, key: string): T {
  if (v === undefined) throw new BadRow(`data.${key} is missing`);
  return v;
}
const str = (data: Record<string, unknown>, key: string) => need(optStr(data, key), key);
const num = (data: Record<string, unknown>, key: string) => need(optNum(data, key), key);

function oneOf<T extends number>(values: Record<string, T>, v: number, key: string): T {
  if (!(Object.values(values) as number[]).includes(v)) throw new BadRow(`data.${key} is not one of ${Object.values(values).join(', ')}: ${v}`);
  return v as T;
}

/** The SMTP reply code a deferral's Reason starts with ("451 4.7.1 try later"); none for a network error. */
export function deferralCodeOf(reason: string): number | undefined {
  const m = /^([45]\d\d)(?:[ -]|$)/.exec(reason);
  return m ? Number(m[1]) : undefined;
}

export function fromEventRow({ event, message, recipient }: EventRowInput): EventMapping {
  const data = (event.data ?? {}) as Record<string, unknown>;
  if (typeof data !== 'object' || Array.isArray(data)) return { ok: false, error: `event ${event.uid}: data is not an object` };
  const about = {
    eventId: event.uid,
    occurredAt: event.occurredAt,
    serverId: event.serverId,
    address: recipient.address,
    // SocketLabs always sends a MailingId and a MessageId, its own when the sender gave none. Postline's
    // message id plays that part for MessageId; a MailingId nobody set is null.
    mailingId: recipient.mailingId ?? undefined,
    messageId: recipient.messageId_ ?? message.id,
  };
  const common = { ...about, meta: message.metadata, tags: message.tags };
  try {
    switch (event.type) {
      case 'Queued':
        return { ok: true, event: { ...common, type: 'Queued', fromAddress: message.fromAddress, subject: message.subject, messageSize: message.sizeBytes } };
      case 'Deferred': {
        const reason = str(data, 'Reason');
        return { ok: true, event: { ...common, type: 'Deferred', fromAddress: message.fromAddress, deferralCode: deferralCodeOf(reason), reason } };
      }
      case 'Delivered':
        return {
          ok: true,
          event: { ...common, type: 'Delivered', response: str(data, 'Response'), localIp: optStr(data, 'LocalIp'), remoteMta: optStr(data, 'RemoteMta') },
        };
      case 'Failed':
        return {
          ok: true,
          event: {
            ...common,
            type: 'Failed',
            fromAddress: message.fromAddress,
            failureType: oneOf<FailureType>(FAILURE_TYPE, num(data, 'FailureType'), 'FailureType'),
            failureCode: optNum(data, 'FailureCode'),
            reason: str(data, 'Reason'),
            bounceStatus: optStr(data, 'BounceStatus'),
            diagnosticCode: optStr(data, 'DiagnosticCode'),
            remoteMta: optStr(data, 'RemoteMta'),
            suppressionReason: optStr(data, 'SuppressionReason'),
          },
        };
      case 'Tracking':
        return {
          ok: true,
          event: {
            ...common,
            type: 'Tracking',
            trackingType: oneOf<TrackingType>(TRACKING_TYPE, num(data, 'TrackingType'), 'TrackingType'),
            userAgent: str(data, 'UserAgent'),
            clientIp: str(data, 'ClientIp'),
            url: optStr(data, 'Url'),
            tag: optStr(data, 'Tag'),
            ...(typeof data.Machine === 'boolean' ? { machine: data.Machine } : {}),
          },
        };
      case 'Complaint':
        return {
          ok: true,
          event: {
            ...about,
            type: 'Complaint',
            fblType: str(data, 'FblType'),
            // A report without a User-Agent (the MX records null) still reports a complaint.
            userAgent: optStr(data, 'UserAgent'),
            from: str(data, 'From'),
            to: str(data, 'To'),
            length: num(data, 'Length'),
          },
        };
      default:
        return { ok: false, error: `event ${event.uid}: type ${JSON.stringify(event.type)} has no webhook payload` };
    }
  } catch (err) {
    if (err instanceof BadRow) return { ok: false, error: `event ${event.uid} (${event.type}): ${err.message}` };
    throw err;
  }
}

/** The event a Validate button sends: no message, only the endpoint's server and a fresh id. */
export function validationEvent(eventId: string, serverId: number, now: number): WebhookEvent {
  return { type: 'Validation', eventId, serverId, occurredAt: now };
}
