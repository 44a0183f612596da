import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { SUPPRESSION_REASONS, type SuppressionReason } from '../../../core/suppression.js';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { emailAddressSchema, noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { suppressionSchema, toWire } from './wire.js';

/**
 * POST /servers/:serverId/suppressions {emailAddress, reason?} — adds one address (reason
 * CustomerRequest unless given). Adding a listed address updates its reason and lastUpdate.
 */
export function registerAdd(scope: FastifyInstance, store: Store, now: () => number): void {
  scope.post<{ Params: { serverId: string }; Body: { emailAddress: string; reason: SuppressionReason } }>(
    '/suppressions',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Add one address to the suppression list',
        tags: ['suppressions'],
        params: serverIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['emailAddress'],
          properties: {
            emailAddress: emailAddressSchema,
            reason: { type: 'string', enum: [...SUPPRESSION_REASONS], default: 'CustomerRequest' },
          },
        },
        response: withErrors({ 200: dataResponse(suppressionSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      await store.suppressions.add(serverId, [{ address: req.body.emailAddress, reason: req.body.reason, detail: null }], now());
      // Read back: the stored form (lower-cased, creation time kept on an update) is the answer.
      return { data: toWire((await store.suppressions.get(serverId, req.body.emailAddress))!) };
    },
  );
}
