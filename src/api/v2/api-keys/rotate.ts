import type { FastifyInstance } from 'fastify';
import { newSecretFor } from '../../../core/api-key.js';
import { ApiError } from '../errors.js';
import { principalOf } from '../auth.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { keyOf, keyWithSecretSchema, paramsSchema, toWire, type KeySpace } from './wire.js';

/**
 * POST .../api-keys/:keyId/rotate — a new secret for the same key (id, name, scope), shown this
 * once; the old secret is refused from the next request on. A revoked key cannot be rotated.
 */
export function registerRotate(scope: FastifyInstance, space: KeySpace): void {
  scope.post<{ Params: { keyId: string } }>(
    `${space.path}/:keyId/rotate`,
    {
      schema: {
        summary: `Rotate the secret of one of the ${space.tag}`,
        tags: ['api-keys'],
        params: paramsSchema(space, true),
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(keyWithSecretSchema) }),
      },
    },
    async (req) => {
      space.authorize(req);
      const current = await keyOf(space, req, req.params.keyId);
      const fresh = newSecretFor(current.publicId);
      const rotated = current.revokedAt === null ? await space.store.tenancy.rotateApiKeyOf(space.ownerOf(req), current.publicId, fresh.secretHash) : undefined;
      if (!rotated) throw new ApiError('key_revoked', `API key ${current.publicId} is revoked; create a new one`, 'keyId');
      req.log.info({ event: 'api_key.rotated', keyId: current.publicId, by: principalOf(req).publicId }, 'API key rotated');
      return { data: { ...toWire(rotated), apiKey: fresh.key } };
    },
  );
}
