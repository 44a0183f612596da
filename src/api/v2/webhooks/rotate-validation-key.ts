import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { generateValidationKey } from '../../../webhooks/legacy-notification.js';
import { ApiError } from '../errors.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { endpointOf, endpointSchema, toWire, validationKeySchema, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/webhooks/:webhookId/rotate-validation-key {validationKey?} — a form
 * endpoint's new ValidationKey (the given one, or a new one). It applies at once: answers carrying
 * only the old key fail and are retried until the receiver answers the new one. No handshake runs,
 * since the receiver cannot know a new key yet; POST .../validate checks it once it does.
 */
export function registerRotateValidationKey(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.post<{ Params: WebhookParams; Body: { validationKey?: string } }>(
    '/webhooks/:webhookId/rotate-validation-key',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      // The body is optional: no body means a generated key.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        summary: 'Rotate (or set) the ValidationKey of a form webhook endpoint',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        body: { type: 'object', additionalProperties: false, properties: { validationKey: validationKeySchema } },
        response: withErrors({ 200: dataResponse(endpointSchema) }),
      },
    },
    async (req) => {
      const e = await endpointOf(deps.store, req.params);
      if (e.format !== 'form') {
        throw new ApiError(
          'validation_failed',
          'only a form (legacy Notification API) endpoint has a ValidationKey; json endpoints are signed instead',
          'webhookId',
        );
      }
      const validationKey = req.body.validationKey ?? generateValidationKey();
      const updated = await deps.store.webhooks.updateEndpoint(e.serverId, e.id, { validationKey }, deps.now());
      req.log.info(
        { event: 'webhook.validation_key_rotated', serverId: e.serverId, endpointId: e.id, given: req.body.validationKey !== undefined },
        'webhook ValidationKey rotated',
      );
      return { data: toWire(updated ?? e) };
    },
  );
}
