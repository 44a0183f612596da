import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES, MAX_WEBHOOK_ENDPOINTS_PER_SERVER } from '../../../core/api-v2-limits.js';
import type { WebhookFormat } from '../../../store/store.js';
import { generateSecretKey } from '../../../webhooks/endpoint.js';
import { generateSecret } from '../../../net/standard-signature.js';
import { generateValidationKey, validatesOnCreate } from '../../../webhooks/legacy-notification.js';
import { ApiError } from '../errors.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { checkUrl, handshake } from './handshake.js';
import {
  checkTypesForFormat,
  endpointWithSecretSchema,
  eventTypesSchema,
  formatSchema,
  toWire,
  urlSchema,
  validationKeySchema,
  type WebhookRouteDeps,
} from './wire.js';

/** Endpoints created with `validate: false` wait, disabled, for a successful POST .../validate. */
export const NOT_VALIDATED_REASON = 'not validated yet: POST .../validate once the receiver is up';

/**
 * POST /servers/:serverId/webhooks {url, eventTypes?, format?, validationKey?, validate?} — checks
 * the URL, runs the Validation handshake (unless not validated, see validatesOnCreate) and only
 * then stores the endpoint, answering it with its signing secret (shown this once).
 */
export function registerCreate(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.post<{ Params: { serverId: string }; Body: { url: string; eventTypes: string[]; format: WebhookFormat; validationKey?: string; validate?: boolean } }>(
    '/webhooks',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Create a webhook endpoint',
        tags: ['webhooks'],
        params: serverIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: urlSchema,
            eventTypes: { ...eventTypesSchema, default: [] },
            format: { ...formatSchema, default: 'json' },
            validationKey: validationKeySchema,
            validate: {
              type: 'boolean',
              description:
                'false: store it disabled, to be validated later. Default true, except for a form endpoint given no validationKey (its receiver cannot know the new key yet)',
            },
          },
        },
        response: withErrors({ 200: dataResponse(endpointWithSecretSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const { url, eventTypes, format } = req.body;
      if (req.body.validationKey !== undefined && format !== 'form') {
        throw new ApiError('validation_failed', 'validationKey is for form (legacy Notification API) endpoints only', 'validationKey');
      }
      checkTypesForFormat(format, eventTypes);
      const validate = validatesOnCreate(format, req.body.validate, req.body.validationKey);
      const { total } = await deps.store.webhooks.listEndpoints(serverId, { limit: 1, offset: 0, direction: 'asc' });
      if (total >= MAX_WEBHOOK_ENDPOINTS_PER_SERVER) {
        throw new ApiError('limit_reached', `server ${serverId} already has ${total} webhook endpoints (at most ${MAX_WEBHOOK_ENDPOINTS_PER_SERVER})`);
      }
      await checkUrl(deps, url);
      const secretKey = generateSecretKey();
      const signingSecret = generateSecret();
      const validationKey = format === 'form' ? (req.body.validationKey ?? generateValidationKey()) : null;
      if (validate) await handshake(deps, serverId, { url, format, secretKey, validationKey, signingSecrets: [signingSecret], secretsRotatedAt: null });
      const endpoint = await deps.store.webhooks.createEndpoint(
        {
          serverId,
          url,
          eventTypes,
          format,
          secretKey,
          signingSecret,
          validationKey,
          enabled: validate,
          disabledReason: validate ? null : NOT_VALIDATED_REASON,
          validatedAt: validate ? deps.now() : null,
        },
        deps.now(),
      );
      req.log.info({ event: 'webhook.endpoint_created', serverId, endpointId: endpoint.id, url, validated: validate }, 'webhook endpoint created');
      return { data: { ...toWire(endpoint), signingSecret } };
    },
  );
}
