import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { ApiError } from '../errors.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { addressQuery, suppressionSchema, toWire } from './wire.js';

/** GET /servers/:serverId/suppressions?emailAddress= — is this address suppressed? 200 with the entry, or 404. */
export function registerLookup(scope: FastifyInstance, store: Store): void {
  scope.get<{ Params: { serverId: string }; Querystring: { emailAddress: string } }>(
    '/suppressions',
    {
      schema: {
        summary: 'Look up one address on the suppression list',
        tags: ['suppressions'],
        params: serverIdParams,
        querystring: addressQuery,
        response: withErrors({ 200: dataResponse(suppressionSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const found = await store.suppressions.get(serverId, req.query.emailAddress);
      if (!found) throw new ApiError('not_found', `${req.query.emailAddress} is not on server ${serverId}'s suppression list`, 'emailAddress');
      return { data: toWire(found) };
    },
  );
}
