import type { FastifyInstance } from 'fastify';
import { serverIdParams, withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { domainSchema, toWire, type SendingDomainRouteDeps } from './wire.js';

const SORT_FIELDS = ['domain', 'createdOn'] as const;

/** GET /servers/:serverId/sending-domains — the server's sending domains, a page at a time, by name. */
export function registerList(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  scope.get<{ Params: { serverId: string }; Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    '/sending-domains',
    {
      schema: {
        summary: 'List sending domains (paged)',
        tags: ['sending-domains'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'domain', sortDirection: 'asc' }),
        },
        response: withErrors({ 200: pagedResponse(domainSchema) }),
      },
    },
    async (req) => {
      const { rows, total } = await deps.store.sendingDomains.list(Number(req.params.serverId), {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
        sortField: req.query.sortField,
      });
      const now = deps.now();
      return { data: rows.map((d) => toWire(d, now)), total };
    },
  );
}
