import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { endpointOf, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

/** DELETE /servers/:serverId/webhooks/:webhookId — the endpoint, its undelivered events and its attempt log. */
export function registerDelete(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.delete<{ Params: WebhookParams }>(
    '/webhooks/:webhookId',
    {
      schema: {
        summary: 'Delete a webhook endpoint',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        response: withErrors({
          200: dataResponse({ type: 'object', required: ['id', 'deleted'], properties: { id: { type: 'integer' }, deleted: { type: 'boolean' } } }),
        }),
      },
    },
    async (req) => {
      const e = await endpointOf(deps.store, req.params);
      await deps.store.webhooks.deleteEndpoint(e.serverId, e.id);
      req.log.info({ event: 'webhook.endpoint_deleted', serverId: e.serverId, endpointId: e.id }, 'webhook endpoint deleted');
      return { data: { id: e.id, deleted: true } };
    },
  );
}
