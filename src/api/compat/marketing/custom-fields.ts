import type { FastifyInstance } from 'fastify';
import { MarketingError, withErrors } from './errors.js';
import { serverOf } from './auth.js';
import {
  customFieldSchema,
  customFieldToWire,
  MAX_CUSTOM_FIELD_NAME_LENGTH,
  MAX_CUSTOM_FIELDS_PER_SERVER,
  noContent,
  RESERVED_CUSTOM_FIELD_NAMES,
  MARKETING_SECURITY,
} from './wire.js';
import type { MarketingRouteDeps } from './index.js';

/** Letters, digits, `_` and `-`: the name is used as a merge field, so nothing that needs quoting. */
const NAME_PATTERN = '^[A-Za-z0-9_-]+$';
const nameParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: MAX_CUSTOM_FIELD_NAME_LENGTH, pattern: NAME_PATTERN } },
} as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

/**
 * A server's custom fields (§5): string fields only, at most 20, names of 1 to 50 characters
 * unique case-insensitively, `EmailAddress`, `ContactId` and `Id` reserved (409).
 */
export function registerCustomFieldRoutes(scope: FastifyInstance, deps: MarketingRouteDeps): void {
  scope.post<{ Params: { name: string } }>(
    '/customfields/:name',
    {
      config: { marketingXml: { root: 'customField' } },
      schema: {
        summary: 'Create a custom field (string type)',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: nameParams,
        querystring: noQuery,
        response: withErrors({ 201: customFieldSchema }),
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      if ((RESERVED_CUSTOM_FIELD_NAMES as readonly string[]).includes(name.toLowerCase())) {
        throw new MarketingError(409, `"${name}" is a reserved name (EmailAddress, ContactId and Id are)`);
      }
      const r = await deps.store.marketing.createCustomField(serverOf(req), name, MAX_CUSTOM_FIELDS_PER_SERVER, deps.now());
      if (r === 'duplicate') throw new MarketingError(409, `a custom field named "${name}" already exists (names are compared case-insensitively)`);
      if (r === 'limit') throw new MarketingError(403, `the server already has ${MAX_CUSTOM_FIELDS_PER_SERVER} custom fields, the most it may have`);
      return reply.code(201).send(customFieldToWire(r));
    },
  );

  scope.get(
    '/customfields',
    {
      config: { marketingXml: { root: 'customFields', item: 'customField' } },
      schema: {
        summary: 'List the custom fields',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        querystring: noQuery,
        response: withErrors({ 200: { type: 'array', items: customFieldSchema } }),
      },
    },
    async (req) => (await deps.store.marketing.listCustomFields(serverOf(req))).map(customFieldToWire),
  );

  scope.delete<{ Params: { name: string } }>(
    '/customfields/:name',
    {
      schema: {
        summary: "Delete a custom field and every contact's value of it",
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: nameParams,
        querystring: noQuery,
        response: withErrors({ 204: noContent }),
      },
    },
    async (req, reply) => {
      if (!(await deps.store.marketing.deleteCustomField(serverOf(req), req.params.name)))
        throw new MarketingError(404, `no custom field "${req.params.name}"`);
      return reply.code(204).send();
    },
  );
}
