import type { FastifyInstance } from 'fastify';
import { rotatedSecrets, SIGNING_SECRET_OVERLAP_MS } from '../../../webhooks/endpoint.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { endpointOf, endpointWithSecretSchema, toWire, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/webhooks/:webhookId/rotate-secret — a new signing secret, shown this
 * once. Requests are signed with the new and the previous secret for SIGNING_SECRET_OVERLAP_MS
 * (24 h), then with the new one only; a second rotation drops the oldest secret at once.
 */
export function registerRotateSecret(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.post<{ Params: WebhookParams }>(
    '/webhooks/:webhookId/rotate-secret',
    {
      schema: {
        summary: 'Rotate the signing secret of a webhook endpoint',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(endpointWithSecretSchema) }),
      },
    },
    async (req) => {
      const e = await endpointOf(deps.store, req.params);
      const now = deps.now();
      const r = rotatedSecrets(e, now);
      const updated = await deps.store.webhooks.updateEndpoint(e.serverId, e.id, { signingSecrets: r.signingSecrets, secretsRotatedAt: now }, now);
      req.log.info({ event: 'webhook.secret_rotated', serverId: e.serverId, endpointId: e.id }, 'webhook signing secret rotated');
      return {
        data: { ...toWire(updated ?? e), signingSecret: r.newSecret, previousSecretExpiresOn: new Date(now + SIGNING_SECRET_OVERLAP_MS).toISOString() },
      };
    },
  );
}
