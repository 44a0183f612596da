import type { FastifyInstance } from 'fastify';
import type { Server, Store, StoredEvent, StoredRecipient } from '../../../store/store.js';
import type { MessageTemplate } from '../../../core/message.js';
import type { TrackingService } from '../../../tracking/service.js';
import { composeMessage } from '../../../compose/compose.js';
import { describeFailureCode } from '../../../core/failure-codes.js';
import type { VerpKeyring } from '../../../core/verp.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { pagedResponse, pageOf } from '../paging.js';
import { searchQueryProperties, searchRowProperties, toStoreQuery, toWire, type SearchQuery } from './search-wire.js';

export interface DetailDeps {
  store: Store;
  /** The Message-ID domain delivery uses (config hostname), so the rendered message is the one sent. */
  hostname?: string;
  /** Engagement tracking, so a tracked message is rendered with its tracked links, pixel and List-Unsubscribe as sent. */
  tracking?: TrackingService | null;
  /** The trace-tag keys (bounce/verp-keys.ts), so the Message-ID is the tagged one delivery sent. */
  verp?: VerpKeyring | null;
}

/** Event types that are delivery attempts: the rendered message's Date is the last one's time (when it was composed). */
const ATTEMPT_EVENTS = new Set(['Delivered', 'Deferred', 'Failed']);

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** One event as detail shows it: the facts clients look for lifted out of its data (SMTP reply, failure, tracking), and the data itself. */
function eventWire(e: StoredEvent, to: string) {
  const d = (e.data ?? {}) as Record<string, unknown>;
  return {
    type: e.type,
    time: new Date(e.occurredAt).toISOString(),
    eventId: e.uid,
    recipientId: e.recipientId,
    to: e.recipientId === null ? null : to,
    smtpReply: str(d.Response) ?? str(d.Reason) ?? null,
    remoteMta: str(d.RemoteMta),
    failureCode: num(d.FailureCode),
    failureDescription: describeFailureCode(num(d.FailureCode)),
    failureType: num(d.FailureType),
    bounceStatus: str(d.BounceStatus),
    explanation: str(d.Explanation),
    trackingType: num(d.TrackingType),
    url: str(d.Url),
    userAgent: str(d.UserAgent),
    tls: tlsOf(d),
    data: e.data === null ? null : d,
  };
}

/** A Delivered event's TLS: null without TLS (or for other events). */
function tlsOf(d: Record<string, unknown>) {
  if (d.Tls !== true) return null;
  return {
    version: str(d.TlsVersion),
    cipher: str(d.TlsCipher),
    verified: typeof d.TlsVerified === 'boolean' ? d.TlsVerified : null,
    policy: str(d.TlsPolicy),
  };
}

const eventSchema = {
  type: 'object',
  required: [
    'type',
    'time',
    'eventId',
    'recipientId',
    'to',
    'smtpReply',
    'remoteMta',
    'failureCode',
    'failureDescription',
    'failureType',
    'bounceStatus',
    'explanation',
    'trackingType',
    'url',
    'userAgent',
    'tls',
    'data',
  ],
  properties: {
    type: { type: 'string', description: 'Queued, Delivered, Deferred, Failed, Tracking, Complaint, ... (the webhook event types)' },
    time: { type: 'string', format: 'date-time' },
    eventId: { type: 'string', description: 'the stable event id webhooks carry' },
    recipientId: { type: ['string', 'null'], description: 'null for an event about the whole message' },
    to: { type: ['string', 'null'] },
    smtpReply: { type: ['string', 'null'], description: "the remote server's reply (Delivered), or the failure or deferral reason" },
    remoteMta: { type: ['string', 'null'] },
    failureCode: { type: ['integer', 'null'] },
    failureDescription: { type: ['string', 'null'], description: 'what the FailureCode means, in words (null without a code)' },
    failureType: { type: ['integer', 'null'], description: '0 temporary, 1 permanent, 2 suppressed' },
    bounceStatus: { type: ['string', 'null'], description: 'enhanced status code, e.g. 5.1.1' },
    explanation: { type: ['string', 'null'], description: "the bounce classifier's one-line explanation of this reply (Failed and Deferred events)" },
    trackingType: { type: ['integer', 'null'], description: 'Tracking events: 0 click, 1 open, 2 unsubscribe' },
    url: { type: ['string', 'null'], description: 'Tracking clicks: the clicked URL' },
    userAgent: { type: ['string', 'null'] },
    tls: {
      type: ['object', 'null'],
      description: 'Delivered events sent over TLS: how (null without TLS, and for other events)',
      properties: {
        version: { type: ['string', 'null'], description: 'e.g. TLSv1.3' },
        cipher: { type: ['string', 'null'], description: 'e.g. TLS_AES_256_GCM_SHA384' },
        verified: {
          type: ['boolean', 'null'],
          description:
            "the receiver's certificate was verified: it chains to a trusted root and names the host, or it matches the host's DANE TLSA record (null: recorded before Postline kept it)",
        },
        policy: {
          type: ['string', 'null'],
          enum: ['required', 'opportunistic', 'mta-sts', 'mta-sts-testing', 'dane', null],
          description:
            "required (a smart host), mta-sts or dane (the receiving domain's policy, enforced), mta-sts-testing (its policy in testing mode: checked, not enforced) or opportunistic",
        },
      },
    },
    data: { type: ['object', 'null'], additionalProperties: true, description: "the event's whole data, as webhooks carry it" },
  },
} as const;

const detailSchema = {
  type: 'object',
  required: [...Object.keys(searchRowProperties), 'attempts', 'lastReply', 'mx', 'failureCode', 'failureDescription', 'events', 'bodyRetained', 'rendered'],
  properties: {
    ...searchRowProperties,
    attempts: { type: 'integer', description: 'delivery attempts made' },
    lastReply: { type: ['string', 'null'], description: 'the last SMTP reply (or failure reason)' },
    mx: { type: ['string', 'null'], description: 'the MX host of the last attempt' },
    failureCode: { type: ['integer', 'null'] },
    failureDescription: { type: ['string', 'null'], description: 'what the FailureCode means, in words (null without a code)' },
    events: { type: 'array', items: eventSchema, description: 'every event of this recipient (and of its message as a whole), in the order they happened' },
    bodyRetained: { type: 'boolean', description: 'false once retention removed the message body (docs/operations.md, Retention)' },
    rendered: {
      type: ['string', 'null'],
      description:
        'the MIME message composed for this recipient from the stored body and its merge row (Date, boundaries and DKIM signature differ from the copy sent); null when the body is no longer retained',
    },
  },
} as const;

/**
 * GET /servers/:serverId/reports/messages/detail — SocketLabs' message detail: per recipient
 * (a SocketLabs "message"), its status, last SMTP reply and MX, every event in order, and the
 * message as composed for it while the body is retained. Takes `messageId` (Postline's id: all
 * its recipients; or the customer's MessageId), `recipientId`, or the search filters and dates;
 * paged and sorted like recipient search.
 */
export function registerMessageDetail(scope: FastifyInstance, deps: DetailDeps): void {
  scope.get<{ Params: { serverId: string }; Querystring: SearchQuery & { recipientId?: string } }>(
    '/reports/messages/detail',
    {
      schema: {
        summary: 'Message detail: per recipient, its events in order, last SMTP reply and MX, and the rendered message while retained',
        tags: ['reports'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...searchQueryProperties, recipientId: { type: 'string', minLength: 1, maxLength: 64, description: 'one recipient (delivery) id' } },
        },
        response: withErrors({ 200: pagedResponse(detailSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const query = { ...toStoreQuery(req.query), recipientId: req.query.recipientId };
      const { rows, total } = await deps.store.reports.searchRecipients(serverId, query, pageOf(req.query));
      const detail = await deps.store.reports.loadRecipientDetail(
        serverId,
        rows.map((r) => r.recipientId),
      );
      const server = deps.tracking ? await deps.store.tenancy.getServer(serverId) : undefined;
      const data = [];
      for (const row of rows) {
        const r = detail.recipients.get(row.recipientId);
        // Deleted between the two reads (retention): nothing left to show of it.
        if (!r) continue;
        const events = detail.events.get(r.id) ?? [];
        const template = detail.templates.get(r.messageId);
        data.push({
          ...toWire(row),
          attempts: r.attempts,
          lastReply: r.lastReply,
          mx: r.lastMx,
          failureCode: r.failureCode,
          failureDescription: describeFailureCode(r.failureCode),
          events: events.map((e) => eventWire(e, r.address)),
          bodyRetained: template !== undefined,
          rendered: template === undefined ? null : await render(deps, server, template, r, events),
        });
      }
      return { data, total };
    },
  );
}

/** The message for this recipient through delivery's own compose path (merge, tracking, MIME), unsigned. */
export async function render(
  deps: DetailDeps,
  server: Server | undefined,
  template: MessageTemplate,
  r: StoredRecipient,
  events: readonly StoredEvent[],
): Promise<string> {
  const lastAttempt = [...events].reverse().find((e) => ATTEMPT_EVENTS.has(e.type) && e.recipientId === r.id);
  const tracking = server && deps.tracking && !template.rawMime ? deps.tracking.forRecipient(server, r.messageId, template, r.id) : null;
  const mime = await composeMessage({
    template,
    merge: r.merge,
    deliveryAddress: r.address,
    recipientId: r.id,
    traceTag: deps.verp?.tag(r.id) ?? null,
    hostname: deps.hostname ?? 'localhost',
    date: new Date(lastAttempt?.occurredAt ?? r.createdAt),
    tracking,
  });
  return mime.toString('utf8');
}
