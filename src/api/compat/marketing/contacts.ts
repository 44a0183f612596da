import type { FastifyInstance } from 'fastify';
import type { UnknownCustomField } from '../../../store/store.js';
import { MarketingError, withErrors } from './errors.js';
import { serverOf } from './auth.js';
import { noList } from './lists.js';
import {
  contactSchema,
  contactToWire,
  customFieldsProperty,
  emailAddressProperty,
  idProperty,
  MARKETING_BODY_LIMIT,
  MAX_CONTACTS_PAGE_SIZE,
  nameProperty,
  noContent,
  normalizedAddress,
  MARKETING_SECURITY,
} from './wire.js';
import type { MarketingRouteDeps } from './index.js';

const contactParams = { type: 'object', required: ['contactId'], additionalProperties: false, properties: { contactId: idProperty } } as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

const noContact = (id: number) => new MarketingError(404, `no contact ${id}`);
const isUnknownField = (r: unknown): r is UnknownCustomField => typeof r === 'object' && r !== null && 'unknownField' in r;
const unknownField = (r: UnknownCustomField) =>
  new MarketingError(400, `there is no custom field "${r.unknownField}"; create it first with POST /customfields/${encodeURIComponent(r.unknownField)}`);

interface ContactBody {
  emailAddress: string;
  firstName?: string | null;
  lastName?: string | null;
  customFields?: Record<string, string>;
}
type SearchQuery = { emailAddress?: string; startsWith?: string; listId?: number; pageSize: number; pageNumber: number };

/** A server's contacts: create, read, change, delete, search, unsubscribe. */
export function registerContactRoutes(scope: FastifyInstance, deps: MarketingRouteDeps): void {
  scope.post<{ Body: ContactBody }>(
    '/contacts',
    {
      config: { marketingXml: { root: 'contact' } },
      bodyLimit: MARKETING_BODY_LIMIT,
      schema: {
        summary: 'Create a contact, with custom field values',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        querystring: noQuery,
        body: {
          type: 'object',
          required: ['emailAddress'],
          additionalProperties: false,
          properties: { emailAddress: emailAddressProperty, firstName: nameProperty, lastName: nameProperty, customFields: customFieldsProperty },
        },
        response: withErrors({ 201: contactSchema }),
      },
    },
    async (req, reply) => {
      const email = normalizedAddress(req.body.emailAddress);
      const r = await deps.store.marketing.createContact(
        serverOf(req),
        {
          email,
          firstName: req.body.firstName ?? null,
          lastName: req.body.lastName ?? null,
          customFields: req.body.customFields ?? {},
        },
        deps.now(),
      );
      if (r === 'exists') throw new MarketingError(409, `a contact with the address ${email} already exists`);
      if (isUnknownField(r)) throw unknownField(r);
      return reply.code(201).send(contactToWire(r));
    },
  );

  scope.get<{ Querystring: SearchQuery }>(
    '/contacts',
    {
      config: { marketingXml: { root: 'contactSearch' } },
      schema: {
        summary: 'Search contacts by address or address prefix (paged)',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            emailAddress: { ...emailAddressProperty, description: 'only this address' },
            startsWith: { type: 'string', minLength: 1, maxLength: 320, description: 'only addresses that start with this (case-insensitive)' },
            listId: { ...idProperty, description: "Postline's addition: only the members of this list (404 when the server has no such list)" },
            pageSize: { type: 'integer', minimum: 1, maximum: MAX_CONTACTS_PAGE_SIZE, default: 100 },
            pageNumber: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0, description: '0-based' },
          },
        },
        response: withErrors({
          200: {
            type: 'object',
            required: ['total', 'contacts'],
            additionalProperties: false,
            properties: { total: { type: 'integer', description: 'contacts that match, on all pages' }, contacts: { type: 'array', items: contactSchema } },
          },
        }),
      },
    },
    async (req) => {
      const q = req.query;
      if (q.listId !== undefined && !(await deps.store.marketing.getList(serverOf(req), q.listId))) throw noList(q.listId);
      const { rows, total } = await deps.store.marketing.searchContacts(
        serverOf(req),
        {
          ...(q.listId === undefined ? {} : { listId: q.listId }),
          ...(q.emailAddress === undefined ? {} : { email: q.emailAddress.trim().toLowerCase() }),
          ...(q.startsWith === undefined ? {} : { startsWith: q.startsWith.toLowerCase() }),
        },
        { limit: q.pageSize, offset: q.pageSize * q.pageNumber },
      );
      return { total, contacts: rows.map(contactToWire) };
    },
  );

  scope.get<{ Params: { contactId: number } }>(
    '/contacts/:contactId',
    {
      config: { marketingXml: { root: 'contact' } },
      schema: {
        summary: 'Get a contact',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: contactParams,
        querystring: noQuery,
        response: withErrors({ 200: contactSchema }),
      },
    },
    async (req) => {
      const c = await deps.store.marketing.getContact(serverOf(req), req.params.contactId);
      if (!c) throw noContact(req.params.contactId);
      return contactToWire(c);
    },
  );

  scope.patch<{ Params: { contactId: number }; Body: Omit<ContactBody, 'emailAddress'> }>(
    '/contacts/:contactId',
    {
      config: { marketingXml: { root: 'contact' } },
      bodyLimit: MARKETING_BODY_LIMIT,
      schema: {
        summary: "Change a contact's names or custom field values (the address stays)",
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: contactParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { firstName: nameProperty, lastName: nameProperty, customFields: customFieldsProperty },
        },
        response: withErrors({ 200: contactSchema }),
      },
    },
    async (req) => {
      const r = await deps.store.marketing.updateContact(serverOf(req), req.params.contactId, req.body, deps.now());
      if (r === undefined) throw noContact(req.params.contactId);
      if (isUnknownField(r)) throw unknownField(r);
      return contactToWire(r);
    },
  );

  scope.delete<{ Params: { contactId: number } }>(
    '/contacts/:contactId',
    {
      schema: {
        summary: 'Delete a contact, its list memberships and field values',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: contactParams,
        querystring: noQuery,
        response: withErrors({ 204: noContent }),
      },
    },
    async (req, reply) => {
      if (!(await deps.store.marketing.deleteContact(serverOf(req), req.params.contactId))) throw noContact(req.params.contactId);
      return reply.code(204).send();
    },
  );

  // SocketLabs' path ends in a slash (§5); both spellings are taken, the second one left out of the document.
  for (const path of ['/contacts/unsubscribe', '/contacts/unsubscribe/']) {
    scope.post<{ Body: { emailAddress: string } }>(
      path,
      {
        config: { marketingXml: { root: 'contact' } },
        bodyLimit: MARKETING_BODY_LIMIT,
        schema: {
          summary: "Unsubscribe a contact from the server's lists",
          tags: ['marketing'],
          security: MARKETING_SECURITY,
          querystring: noQuery,
          ...(path.endsWith('/') ? { hide: true } : {}),
          body: { type: 'object', required: ['emailAddress'], additionalProperties: false, properties: { emailAddress: emailAddressProperty } },
          response: withErrors({ 200: contactSchema }),
        },
      },
      async (req) => {
        const email = normalizedAddress(req.body.emailAddress);
        const c = await deps.store.marketing.unsubscribeContact(serverOf(req), email, deps.now());
        if (!c) throw new MarketingError(404, `no contact with the address ${email}`);
        req.log.info({ event: 'marketing.unsubscribed', serverId: c.serverId, contactId: c.id }, 'contact unsubscribed');
        return contactToWire(c);
      },
    );
  }
}
