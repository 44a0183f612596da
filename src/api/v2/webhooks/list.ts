import type { FastifyInstance } from 'fastify';
import { serverIdParams, withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { endpointSchema, toWire, type WebhookRouteDeps } from './wire.js';

const SORT_FIELDS = ['createdOn'] as const;

/** GET /servers/:serverId/webhooks — the server's endpoints, a page at a time, oldest first by default. */
export function registerList(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.get<{ Params: { serverId: string }; Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    '/webhooks',
    {
      schema: {
        summary: 'List webhook endpoints (paged)',
        tags: ['webhooks'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'createdOn', sortDirection: 'asc' }),
        },
        response: withErrors({ 200: pagedResponse(endpointSchema) }),
      },
    },
    async (req) => {
      const { rows, total } = await deps.store.webhooks.listEndpoints(Number(req.params.serverId), {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
      });
      return { data: rows.map(toWire), total };
    },
  );
}
