import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { MAX_BULK_REMOVE, MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { suppressionKey } from '../../../core/suppression.js';
import { emailAddressSchema, noQuery, withErrors } from '../schemas.js';
import { SERVER_PATH, type ServerPath } from '../server-path.js';
import { dataResponse } from '../paging.js';

/**
 * POST /servers/:serverId/suppressions/bulk-remove {emailAddresses: [...]} — takes up to 1,000
 * addresses off the list in one transaction. A longer list or any invalid address is refused
 * whole (400) and nothing is removed. Answers how many were on the list. Also a sub-account's
 * (`/subaccount/:subaccountId/suppressions/bulk-remove`), through `path`.
 */
export function registerBulkRemove(scope: FastifyInstance, store: Store, path: ServerPath = SERVER_PATH): void {
  scope.post<{ Body: { emailAddresses: string[] } }>(
    '/suppressions/bulk-remove',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: `Remove up to ${MAX_BULK_REMOVE} addresses from the suppression list`,
        tags: ['suppressions'],
        params: path.params,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['emailAddresses'],
          properties: { emailAddresses: { type: 'array', minItems: 1, maxItems: MAX_BULK_REMOVE, items: emailAddressSchema } },
        },
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['requested', 'removed'],
            properties: {
              requested: { type: 'integer', description: 'distinct addresses in the request (case-insensitive)' },
              removed: { type: 'integer', description: 'how many of them were on the list' },
            },
          }),
        }),
      },
    },
    async (req) => {
      const requested = new Set(req.body.emailAddresses.map(suppressionKey)).size;
      const removed = await store.suppressions.remove(path.serverIdOf(req), req.body.emailAddresses);
      return { data: { requested, removed } };
    },
  );
}
