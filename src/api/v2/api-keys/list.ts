import type { FastifyInstance } from 'fastify';
import { withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { keySchema, paramsSchema, toWire, type KeySpace } from './wire.js';

const SORT_FIELDS = ['createdOn', 'name'] as const;

/** GET .../api-keys — the keys, revoked ones included, never a secret; oldest first by default. */
export function registerList(scope: FastifyInstance, space: KeySpace): void {
  scope.get<{ Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    space.path,
    {
      schema: {
        summary: `List ${space.tag} (paged)`,
        tags: ['api-keys'],
        params: paramsSchema(space, false),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'createdOn', sortDirection: 'asc' }),
        },
        response: withErrors({ 200: pagedResponse(keySchema) }),
      },
    },
    async (req) => {
      space.authorize(req);
      const { rows, total } = await space.store.tenancy.listApiKeysOf(space.ownerOf(req), {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
        sortField: req.query.sortField,
      });
      return { data: rows.map(toWire), total };
    },
  );
}
