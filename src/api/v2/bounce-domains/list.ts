import type { FastifyInstance } from 'fastify';
import { serverIdParams, withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { domainSchema, toWire, type CustomDomainRouteDeps, type ResourceSpec } from './wire.js';

const SORT_FIELDS = ['createdOn', 'domain'] as const;

/** GET /servers/:serverId/{bounce,tracking}-domains — the server's domains, a page at a time, oldest first by default. */
export function registerList(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  scope.get<{ Params: { serverId: string }; Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    spec.path,
    {
      schema: {
        summary: `List ${spec.noun}s (paged)`,
        tags: [spec.tag],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'createdOn', sortDirection: 'asc' }),
        },
        response: withErrors({ 200: pagedResponse(domainSchema(spec)) }),
      },
    },
    async (req) => {
      const { rows, total } = await deps.domains.list(Number(req.params.serverId), spec.kind, {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
        sort: req.query.sortField === 'domain' ? 'domain' : 'createdAt',
      });
      return { data: rows.map((d) => toWire(d, deps.targets)), total };
    },
  );
}
