import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { endpointOf, endpointSchema, toWire, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

/** GET /servers/:serverId/webhooks/:webhookId — one endpoint, with why it is disabled when it is. */
export function registerGet(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.get<{ Params: WebhookParams }>(
    '/webhooks/:webhookId',
    {
      schema: {
        summary: 'Get a webhook endpoint',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(endpointSchema) }),
      },
    },
    async (req) => ({ data: toWire(await endpointOf(deps.store, req.params)) }),
  );
}
