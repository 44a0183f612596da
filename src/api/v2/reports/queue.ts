import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { PendingCounts } from '../../../store/queue.js';
import { principalOf } from '../auth.js';
import { dataResponse } from '../paging.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';

const queueSchema = {
  type: 'object',
  required: ['queued', 'deferred', 'delivering', 'total'],
  properties: {
    queued: { type: 'integer', description: 'recipients waiting for their first attempt' },
    deferred: { type: 'integer', description: 'recipients waiting to be retried after a temporary failure' },
    delivering: { type: 'integer', description: 'recipients a delivery worker holds right now' },
    total: { type: 'integer', description: 'queued + deferred + delivering' },
  },
} as const;

const wire = (c: PendingCounts) => ({ ...c, total: c.queued + c.deferred + c.delivering });

/**
 * GET /servers/:serverId/queue — how many of the server's recipients wait for an outcome now
 * (queued, deferred, delivering): the control panel's queue depth. Counted on each request.
 */
export function registerServerQueue(scope: FastifyInstance, store: Store): void {
  scope.get<{ Params: { serverId: string } }>(
    '/queue',
    {
      schema: {
        summary: "The server's queue now: recipients queued, deferred and being delivered",
        tags: ['reports'],
        params: serverIdParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(queueSchema) }),
      },
    },
    async (req) => ({ data: wire(await store.queue.countPending(Number(req.params.serverId))) }),
  );
}

/** GET /account/queue — the same over every server of the account (a management key: its own server). */
export function registerAccountQueue(scope: FastifyInstance, store: Store): void {
  scope.get(
    '/account/queue',
    {
      schema: {
        summary: "The queue now over all the account's servers",
        tags: ['reports'],
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(queueSchema) }),
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { data: wire(await store.queue.countPending(p.serverId ?? { accountId: p.accountId })) };
    },
  );
}
