import type { FastifyInstance } from 'fastify';
import { serverIdParams, withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { routeSchema, routeToWire, type InboundRouteDeps } from './wire.js';

const SORT_FIELDS = ['createdOn'] as const;

/** GET /servers/:serverId/inbound-routes — the server's routes, a page at a time, oldest first by default. */
export function registerList(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.get<{ Params: { serverId: string }; Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    '/inbound-routes',
    {
      schema: {
        summary: 'List inbound routes (paged)',
        tags: ['inbound'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'createdOn', sortDirection: 'asc' }),
        },
        response: withErrors({ 200: pagedResponse(routeSchema) }),
      },
    },
    async (req) => {
      const { rows, total } = await deps.store.inbound.listRoutes(Number(req.params.serverId), {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
      });
      return { data: rows.map(routeToWire), total };
    },
  );
}
