import type { FastifyInstance } from 'fastify';
import { serverIdParams, withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { summarySchema, toSummary, type TemplateRouteDeps } from './wire.js';

const SORT_FIELDS = ['createdOn', 'updatedOn', 'name'] as const;
const SORTS = { createdOn: 'createdAt', updatedOn: 'updatedAt', name: 'name' } as const;

/** GET /servers/:serverId/templates — the server's templates at their current versions (without bodies), paged. */
export function registerList(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  scope.get<{ Params: { serverId: string }; Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    '/templates',
    {
      schema: {
        summary: 'List stored templates (paged)',
        tags: ['templates'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'createdOn', sortDirection: 'asc' }),
        },
        response: withErrors({ 200: pagedResponse(summarySchema) }),
      },
    },
    async (req) => {
      const { rows, total } = await deps.store.templates.list(Number(req.params.serverId), {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
        sort: SORTS[req.query.sortField],
      });
      return { data: rows.map(toSummary), total };
    },
  );
}
