import type { FastifyInstance } from 'fastify';
import { withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import { attemptSchema, attemptToWire, endpointOf, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

const SORT_FIELDS = ['attemptedOn'] as const;

/** GET /servers/:serverId/webhooks/:webhookId/attempts — the endpoint's delivery log, newest first by default. */
export function registerAttempts(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.get<{ Params: WebhookParams; Querystring: PagedQuery<(typeof SORT_FIELDS)[number]> }>(
    '/webhooks/:webhookId/attempts',
    {
      schema: {
        summary: 'List the delivery attempts of a webhook endpoint (paged)',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(SORT_FIELDS, { sortField: 'attemptedOn', sortDirection: 'dsc' }),
        },
        response: withErrors({ 200: pagedResponse(attemptSchema) }),
      },
    },
    async (req) => {
      const e = await endpointOf(deps.store, req.params);
      const { rows, total } = await deps.store.webhooks.listAttempts(e.serverId, e.id, {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
      });
      return { data: rows.map(attemptToWire), total };
    },
  );
}
