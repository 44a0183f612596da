import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { keyOf, keySchema, paramsSchema, toWire, type KeySpace } from './wire.js';

/**
 * DELETE .../api-keys/:keyId — revokes the key: its next request is refused (keys are checked on
 * every request, uncached). Revoking a revoked key answers it unchanged; the key making the
 * request may revoke itself.
 */
export function registerRevoke(scope: FastifyInstance, space: KeySpace): void {
  scope.delete<{ Params: { keyId: string } }>(
    `${space.path}/:keyId`,
    {
      schema: {
        summary: `Revoke one of the ${space.tag}`,
        tags: ['api-keys'],
        params: paramsSchema(space, true),
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(keySchema) }),
      },
    },
    async (req) => {
      space.authorize(req);
      const current = await keyOf(space, req, req.params.keyId);
      const revoked = await space.store.tenancy.revokeApiKeyOf(space.ownerOf(req), current.publicId, space.now());
      req.log.info({ event: 'api_key.revoked', keyId: current.publicId, by: principalOf(req).publicId }, 'API key revoked');
      return { data: toWire(revoked ?? current) };
    },
  );
}
