import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { filterProperties, SORT_DEFAULTS, SORT_FIELDS, storeQuery, suppressionSchema, toWire, type FilterQuery, type SortField } from './wire.js';

/** GET /servers/:serverId/suppressions/search — one page of the list, sorted, optionally filtered, with the total. */
export function registerSearch(scope: FastifyInstance, store: Store): void {
  scope.get<{ Params: { serverId: string }; Querystring: PagedQuery<SortField> & FilterQuery }>(
    '/suppressions/search',
    {
      schema: {
        summary: 'Search the suppression list (paged)',
        tags: ['suppressions'],
        params: serverIdParams,
        querystring: { type: 'object', additionalProperties: false, properties: { ...pagedQueryProperties(SORT_FIELDS, SORT_DEFAULTS), ...filterProperties } },
        response: withErrors({ 200: pagedResponse(suppressionSchema) }),
      },
    },
    async (req) => {
      const { rows, total } = await store.suppressions.search(Number(req.params.serverId), { ...storeQuery(req.query), ...pageOf(req.query) });
      return { data: rows.map(toWire), total };
    },
  );
}
