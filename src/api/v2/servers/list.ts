import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth.js';
import { withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { serverSchema, toWire, type ServerRouteDeps } from './wire.js';

const SORT_FIELDS = ['serverId', 'name', 'createdOn'] as const;

/**
 * GET /servers — the servers the key reaches, a page at a time: every server of an account key's
 * account; for a server's management key, that one server.
 */
export function registerList(scope: FastifyInstance, deps: ServerRouteDeps): void {
  scope.get<{ Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    '/servers',
    {
      schema: {
        summary: 'List servers (paged)',
        tags: ['servers'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'serverId', sortDirection: 'asc' }),
        },
        response: withErrors({ 200: pagedResponse(serverSchema) }),
      },
    },
    async (req) => {
      const p = principalOf(req);
      if (p.serverId !== null) {
        const own = await deps.store.tenancy.getServer(p.serverId);
        const rows = own && req.query.pageNumber === 0 ? [own] : [];
        return { data: rows.map(toWire), total: own ? 1 : 0 };
      }
      const { rows, total } = await deps.store.tenancy.listServersOfAccount(p.accountId, {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
        sortField: req.query.sortField,
      });
      return { data: rows.map(toWire), total };
    },
  );
}
