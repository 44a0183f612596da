import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { checkUrl, handshake } from './handshake.js';
import { endpointOf, endpointSchema, toWire, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/webhooks/:webhookId/validate — sends the Validation request again. On a
 * 2xx the endpoint is marked validated and, if it was disabled (not validated yet, failing, or by
 * the API), enabled again: the receiver has just shown it is back. A failure changes nothing.
 */
export function registerValidate(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.post<{ Params: WebhookParams }>(
    '/webhooks/:webhookId/validate',
    {
      schema: {
        summary: 'Validate (and re-enable) a webhook endpoint',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(endpointSchema) }),
      },
    },
    async (req) => {
      const e = await endpointOf(deps.store, req.params);
      // The address rule may have changed since the endpoint was saved (or its name may resolve elsewhere now).
      await checkUrl(deps, e.url);
      await handshake(deps, e.serverId, e);
      const updated = await deps.store.webhooks.updateEndpoint(
        e.serverId,
        e.id,
        { validatedAt: deps.now(), enabled: true, disabledReason: null, failingSince: null },
        deps.now(),
      );
      req.log.info({ event: 'webhook.endpoint_validated', serverId: e.serverId, endpointId: e.id, reenabled: !e.enabled }, 'webhook endpoint validated');
      return { data: toWire(updated ?? e) };
    },
  );
}
