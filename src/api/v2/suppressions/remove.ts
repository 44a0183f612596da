import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { suppressionKey } from '../../../core/suppression.js';
import { ApiError } from '../errors.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { addressQuery } from './wire.js';

/** DELETE /servers/:serverId/suppressions?emailAddress= — takes one address off the list; 404 when it was not on it. */
export function registerRemove(scope: FastifyInstance, store: Store): void {
  scope.delete<{ Params: { serverId: string }; Querystring: { emailAddress: string } }>(
    '/suppressions',
    {
      schema: {
        summary: 'Remove one address from the suppression list',
        tags: ['suppressions'],
        params: serverIdParams,
        querystring: addressQuery,
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['emailAddress', 'removed'],
            properties: { emailAddress: { type: 'string' }, removed: { type: 'boolean' } },
          }),
        }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const removed = await store.suppressions.remove(serverId, [req.query.emailAddress]);
      if (removed === 0) throw new ApiError('not_found', `${req.query.emailAddress} is not on server ${serverId}'s suppression list`, 'emailAddress');
      return { data: { emailAddress: suppressionKey(req.query.emailAddress), removed: true } };
    },
  );
}
