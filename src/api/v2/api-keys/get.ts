import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { keyOf, keySchema, paramsSchema, toWire, type KeySpace } from './wire.js';

/** GET .../api-keys/:keyId — one key, never its secret. */
export function registerGet(scope: FastifyInstance, space: KeySpace): void {
  scope.get<{ Params: { keyId: string } }>(
    `${space.path}/:keyId`,
    {
      schema: {
        summary: `Get one of the ${space.tag}`,
        tags: ['api-keys'],
        params: paramsSchema(space, true),
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(keySchema) }),
      },
    },
    async (req) => {
      space.authorize(req);
      return { data: toWire(await keyOf(space, req, req.params.keyId)) };
    },
  );
}
