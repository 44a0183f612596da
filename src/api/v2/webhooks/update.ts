import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import type { WebhookEndpointPatch, WebhookFormat } from '../../../store/store.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { checkUrl, handshake } from './handshake.js';
import {
  checkTypesForFormat,
  endpointOf,
  endpointSchema,
  eventTypesSchema,
  formatSchema,
  toWire,
  urlSchema,
  validationKeySchema,
  webhookParams,
  type WebhookParams,
  type WebhookRouteDeps,
} from './wire.js';
import { generateValidationKey } from '../../../webhooks/legacy-notification.js';
import { ApiError } from '../errors.js';

export const DISABLED_BY_API_REASON = 'disabled through the API';

/**
 * PATCH /servers/:serverId/webhooks/:webhookId {url?, eventTypes?, format?, validationKey?, enabled?}
 * — changes the given fields. An endpoint becoming a form endpoint gets a ValidationKey (the given
 * one, the one it had, or a new one); like a rotation, the receiver must answer the key from then
 * on. A new URL must pass the checks and the Validation handshake first, and so must an endpoint
 * being enabled that was never validated; a refusal changes nothing. Enabling a
 * disabled endpoint clears its reason and failure streak; the events it missed while disabled are
 * not queued (replay them).
 */
export function registerUpdate(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.patch<{ Params: WebhookParams; Body: { url?: string; eventTypes?: string[]; format?: WebhookFormat; validationKey?: string; enabled?: boolean } }>(
    '/webhooks/:webhookId',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Update a webhook endpoint',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { url: urlSchema, eventTypes: eventTypesSchema, format: formatSchema, validationKey: validationKeySchema, enabled: { type: 'boolean' } },
        },
        response: withErrors({ 200: dataResponse(endpointSchema) }),
      },
    },
    async (req) => {
      const current = await endpointOf(deps.store, req.params);
      const b = req.body;
      const patch: WebhookEndpointPatch = {};
      const format = b.format ?? current.format;
      if (b.validationKey !== undefined && format !== 'form') {
        throw new ApiError('validation_failed', 'validationKey is for form (legacy Notification API) endpoints only', 'validationKey');
      }
      checkTypesForFormat(format, b.eventTypes ?? current.eventTypes);
      if (b.eventTypes !== undefined) patch.eventTypes = b.eventTypes;
      if (b.format !== undefined) patch.format = b.format;
      const validationKey = format === 'form' ? (b.validationKey ?? current.validationKey ?? generateValidationKey()) : current.validationKey;
      if (validationKey !== current.validationKey) patch.validationKey = validationKey;
      const newUrl = b.url !== undefined && b.url !== current.url ? b.url : undefined;
      const enabling = b.enabled === true && !current.enabled;
      if (newUrl !== undefined || (enabling && current.validatedAt === null)) {
        const url = newUrl ?? current.url;
        if (newUrl !== undefined) await checkUrl(deps, url);
        await handshake(deps, current.serverId, { ...current, url, format, validationKey });
        patch.url = url;
        patch.validatedAt = deps.now();
      }
      if (enabling) Object.assign(patch, { enabled: true, disabledReason: null, failingSince: null });
      if (b.enabled === false && current.enabled) Object.assign(patch, { enabled: false, disabledReason: DISABLED_BY_API_REASON });
      const updated = await deps.store.webhooks.updateEndpoint(current.serverId, current.id, patch, deps.now());
      req.log.info(
        { event: 'webhook.endpoint_updated', serverId: current.serverId, endpointId: current.id, fields: Object.keys(b) },
        'webhook endpoint updated',
      );
      return { data: toWire(updated ?? current) };
    },
  );
}
