import type { FastifyInstance } from 'fastify';
import { MAX_REQUEST_BODY_BYTES } from '../../../core/limits.js';
import { domainOf } from '../../../core/address.js';
import { unverifiedFromMessage } from '../../../domains/verified-domains.js';
import type { ListSend } from '../../../store/store.js';
import { listSendMessage } from '../../../marketing/list-send.js';
import { contactMergeRow } from '../../../merge/contact-row.js';
import { renderForRecipient } from '../../../merge/render-message.js';
import { MarketingError, withErrors } from './errors.js';
import { serverOf } from './auth.js';
import { noList } from './lists.js';
import { idProperty, MARKETING_SECURITY } from './wire.js';
import type { MarketingRouteDeps } from './index.js';

const listParams = { type: 'object', required: ['listId'], additionalProperties: false, properties: { listId: idProperty } } as const;
const sendParams = {
  type: 'object',
  required: ['listId', 'sendId'],
  additionalProperties: false,
  properties: { listId: idProperty, sendId: idProperty },
} as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const listSendSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'sendId',
    'listId',
    'serverId',
    'messageId',
    'state',
    'contactsSeen',
    'queued',
    'skippedUnsubscribed',
    'skippedSuppressed',
    'createdOn',
    'updatedOn',
    'finishedOn',
  ],
  properties: {
    sendId: { type: 'integer' },
    listId: { type: 'integer' },
    serverId: { type: 'integer' },
    messageId: { type: 'string', description: 'the id of the one message every recipient of the send belongs to' },
    state: { type: 'string', enum: ['expanding', 'done'], description: 'expanding: contacts are still being turned into recipients; done: every one has been' },
    contactsSeen: { type: 'integer', description: 'contacts of the list looked at so far' },
    queued: { type: 'integer', description: 'recipients queued for delivery (one per subscribed, unsuppressed contact)' },
    skippedUnsubscribed: { type: 'integer', description: 'unsubscribed contacts: no recipient' },
    skippedSuppressed: {
      type: 'integer',
      description: "contacts whose address is on the server's suppression list: a Failed (suppressed) recipient, never sent",
    },
    createdOn: { type: 'string', format: 'date-time' },
    updatedOn: { type: 'string', format: 'date-time' },
    finishedOn: { type: 'string', format: 'date-time', nullable: true },
  },
} as const;

export const listSendToWire = (s: ListSend) => ({
  sendId: s.id,
  listId: s.listId,
  serverId: s.serverId,
  messageId: s.messageId,
  state: s.state,
  contactsSeen: s.contactsSeen,
  queued: s.queued,
  skippedUnsubscribed: s.skippedUnsubscribed,
  skippedSuppressed: s.skippedSuppressed,
  createdOn: iso(s.acceptedAt)!,
  updatedOn: iso(s.updatedAt)!,
  finishedOn: iso(s.finishedAt),
});

const addressSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['emailAddress', 'friendlyName'],
  properties: { emailAddress: { type: 'string' }, friendlyName: { type: 'string', nullable: true } },
} as const;

export const previewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['listId', 'contactId', 'unsubscribed', 'from', 'to', 'subject', 'textBody', 'htmlBody'],
  properties: {
    listId: { type: 'integer' },
    contactId: { type: 'integer' },
    unsubscribed: { type: 'boolean', description: 'an unsubscribed contact would get nothing from the send' },
    from: addressSchema,
    to: addressSchema,
    subject: { type: 'string' },
    textBody: { type: 'string', nullable: true },
    htmlBody: { type: 'string', nullable: true, description: 'as merged, before engagement tracking rewrites its links' },
  },
} as const;

/** The body is judged by the Injection API's normalizer (any casing, nulls as absent), not by this schema. */
const messageBody = {
  type: 'object',
  description:
    'One SocketLabs message without recipients: From, Subject, TextBody and/or HtmlBody (AmpBody), ReplyTo, MailingId, MessageId, ' +
    'Charset, CustomHeaders, Attachments, MergeData.Global, Metadata, Tags, in any casing, validated as the Injection API validates them. ' +
    'To, Cc, Bcc and MergeData.PerMessage are refused: every contact is a merge recipient, with %%DeliveryAddress%%, %%EmailAddress%%, ' +
    '%%FirstName%%, %%LastName%%, %%RecipientName%%, %%ContactId%% and its custom fields by name.',
} as const;

/**
 * POST /lists/{listId}/send sends one message to every subscribed contact of the list;
 * GET /lists/{listId}/sends/{sendId} shows how far the send has got.
 */
export function registerListSendRoutes(scope: FastifyInstance, deps: MarketingRouteDeps): void {
  scope.post<{ Params: { listId: number }; Body: unknown }>(
    '/lists/:listId/send',
    {
      config: { marketingXml: { root: 'send' } },
      bodyLimit: MAX_REQUEST_BODY_BYTES,
      schema: {
        summary: 'Send a message to every subscribed contact of a list (merge fields from each contact)',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: listParams,
        querystring: noQuery,
        body: messageBody,
        response: withErrors({ 202: listSendSchema }),
      },
    },
    async (req, reply) => {
      const serverId = serverOf(req);
      const now = deps.now();
      const built = await listSendMessage(req.body, serverId, now, deps.store);
      if (!built.ok) throw new MarketingError(400, built.reason);
      const from = domainOf(built.message.template.from.email);
      const policy = deps.verifiedFrom ? await deps.verifiedFrom.forServer(serverId) : null;
      if (policy && !policy.allows(from)) throw new MarketingError(400, `InvalidFrom: ${unverifiedFromMessage(from, serverId)}`);
      // Answered after the commit: the send (message and job row) is on disk; recipients follow in batches.
      const r = await deps.store.listSends.accept(serverId, req.params.listId, built.message);
      if (r === 'no-list') throw noList(req.params.listId);
      if (r === 'empty') throw new MarketingError(400, `list ${req.params.listId} has no subscribed contact; nothing was sent`);
      req.log.info({ event: 'marketing.list_send_accepted', serverId, listId: r.listId, sendId: r.id, messageId: r.messageId }, 'list send accepted');
      deps.onListSend?.();
      return reply.code(202).send(listSendToWire(r));
    },
  );

  scope.post<{ Params: { listId: number }; Querystring: { contactId: number }; Body: unknown }>(
    '/lists/:listId/send/preview',
    {
      config: { marketingXml: { root: 'preview' } },
      bodyLimit: MAX_REQUEST_BODY_BYTES,
      schema: {
        summary: 'The message a send to the list would give one contact, merged (nothing is sent)',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: listParams,
        querystring: {
          type: 'object',
          required: ['contactId'],
          additionalProperties: false,
          properties: { contactId: { ...idProperty, description: 'the contact whose merge fields fill the message' } },
        },
        body: messageBody,
        response: withErrors({ 200: previewSchema }),
      },
    },
    async (req) => {
      const serverId = serverOf(req);
      // The same checks as the send itself, so what previews well is what the send accepts.
      const built = await listSendMessage(req.body, serverId, deps.now(), deps.store);
      if (!built.ok) throw new MarketingError(400, built.reason);
      const from = domainOf(built.message.template.from.email);
      const policy = deps.verifiedFrom ? await deps.verifiedFrom.forServer(serverId) : null;
      if (policy && !policy.allows(from)) throw new MarketingError(400, `InvalidFrom: ${unverifiedFromMessage(from, serverId)}`);
      if (!(await deps.store.marketing.getList(serverId, req.params.listId))) throw noList(req.params.listId);
      const c = await deps.store.marketing.getContact(serverId, req.query.contactId);
      if (!c) throw new MarketingError(404, `no contact ${req.query.contactId}`, 'contactId');
      const fieldNames = (await deps.store.marketing.listCustomFields(serverId)).map((f) => f.name);
      const row = contactMergeRow(
        {
          contactId: c.id,
          email: c.email,
          firstName: c.firstName,
          lastName: c.lastName,
          unsubscribed: c.unsubscribedAt !== null,
          fields: new Map(Object.entries(c.customFields)),
        },
        fieldNames,
      );
      const r = renderForRecipient(built.message.template, row);
      const addr = (a: { email: string; name: string | null }) => ({ emailAddress: a.email, friendlyName: a.name });
      return {
        listId: req.params.listId,
        contactId: c.id,
        unsubscribed: c.unsubscribedAt !== null,
        from: addr(r.from),
        to: addr(r.to[0]!),
        subject: r.subject,
        textBody: r.textBody,
        htmlBody: r.htmlBody,
      };
    },
  );

  scope.get<{ Params: { listId: number; sendId: number } }>(
    '/lists/:listId/sends/:sendId',
    {
      config: { marketingXml: { root: 'send' } },
      schema: {
        summary: 'How far a send to a list has got',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: sendParams,
        querystring: noQuery,
        response: withErrors({ 200: listSendSchema }),
      },
    },
    async (req) => {
      const s = await deps.store.listSends.get(serverOf(req), req.params.listId, req.params.sendId);
      if (!s) throw new MarketingError(404, `no send ${req.params.sendId} of list ${req.params.listId}`);
      return listSendToWire(s);
    },
  );
}
