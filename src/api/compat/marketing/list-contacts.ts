import type { FastifyInstance } from 'fastify';
import { MarketingError, withErrors } from './errors.js';
import { serverOf } from './auth.js';
import { noList } from './lists.js';
import {
  contactSchema,
  contactToWire,
  emailAddressProperty,
  idProperty,
  MARKETING_BODY_LIMIT,
  nameProperty,
  noContent,
  normalizedAddress,
  MARKETING_SECURITY,
} from './wire.js';
import type { MarketingRouteDeps } from './index.js';

const listParams = { type: 'object', required: ['listId'], additionalProperties: false, properties: { listId: idProperty } } as const;
const memberParams = {
  type: 'object',
  required: ['listId', 'contactId'],
  additionalProperties: false,
  properties: { listId: idProperty, contactId: idProperty },
} as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

/**
 * A list's members (§5): PUT /lists/{listId}/contacts upserts a contact by address and adds it
 * (an existing contact's names are left as they are; adding twice is no error),
 * PUT /lists/{listId}/contacts/{contactId} adds an existing contact, and
 * DELETE /lists/{listId}/contacts?emailAddress= takes an address off the list.
 */
export function registerListContactRoutes(scope: FastifyInstance, deps: MarketingRouteDeps): void {
  scope.put<{ Params: { listId: number }; Body: { emailAddress: string; firstName?: string | null; lastName?: string | null } }>(
    '/lists/:listId/contacts',
    {
      config: { marketingXml: { root: 'contact' } },
      bodyLimit: MARKETING_BODY_LIMIT,
      schema: {
        summary: 'Add a contact to a list by address, creating the contact if needed',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: listParams,
        querystring: noQuery,
        body: {
          type: 'object',
          required: ['emailAddress'],
          additionalProperties: false,
          properties: { emailAddress: emailAddressProperty, firstName: nameProperty, lastName: nameProperty },
        },
        response: withErrors({ 200: contactSchema }),
      },
    },
    async (req) => {
      const email = normalizedAddress(req.body.emailAddress);
      const r = await deps.store.marketing.addContactToListByEmail(
        serverOf(req),
        req.params.listId,
        { email, firstName: req.body.firstName ?? null, lastName: req.body.lastName ?? null },
        deps.now(),
      );
      if (!r) throw noList(req.params.listId);
      return contactToWire(r.contact);
    },
  );

  scope.put<{ Params: { listId: number; contactId: number } }>(
    '/lists/:listId/contacts/:contactId',
    {
      schema: {
        summary: 'Add an existing contact to a list',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: memberParams,
        querystring: noQuery,
        response: withErrors({ 204: noContent }),
      },
    },
    async (req, reply) => {
      const r = await deps.store.marketing.addContactToList(serverOf(req), req.params.listId, req.params.contactId, deps.now());
      if (r === 'no-list') throw noList(req.params.listId);
      if (r === 'no-contact') throw new MarketingError(404, `no contact ${req.params.contactId}`);
      return reply.code(204).send();
    },
  );

  // SocketLabs' path ends in a slash (§5); both spellings are taken, the second one left out of the document.
  for (const path of ['/lists/:listId/contacts', '/lists/:listId/contacts/']) {
    scope.delete<{ Params: { listId: number }; Querystring: { emailAddress: string } }>(
      path,
      {
        schema: {
          summary: 'Remove a contact from a list by address (the contact stays)',
          tags: ['marketing'],
          security: MARKETING_SECURITY,
          params: listParams,
          ...(path.endsWith('/') ? { hide: true } : {}),
          querystring: { type: 'object', required: ['emailAddress'], additionalProperties: false, properties: { emailAddress: emailAddressProperty } },
          response: withErrors({ 204: noContent }),
        },
      },
      async (req, reply) => {
        const email = normalizedAddress(req.query.emailAddress);
        const r = await deps.store.marketing.removeContactFromList(serverOf(req), req.params.listId, email);
        if (r === 'no-list') throw noList(req.params.listId);
        if (r === false) throw new MarketingError(404, `${email} is not on list ${req.params.listId}`);
        return reply.code(204).send();
      },
    );
  }
}
