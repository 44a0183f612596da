import type { FastifyInstance } from 'fastify';
import { rotatedSecrets, SIGNING_SECRET_OVERLAP_MS } from '../../../webhooks/endpoint.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { routeOf, routeParams, routeToWire, routeWithSecretSchema, type InboundRouteDeps, type RouteParams } from './wire.js';

/**
 * POST /servers/:serverId/inbound-routes/:routeId/rotate-secret — a new signing secret, shown this
 * once; the previous one keeps signing beside it for 24 h (as for webhook endpoints).
 */
export function registerRotateSecret(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.post<{ Params: RouteParams }>(
    '/inbound-routes/:routeId/rotate-secret',
    {
      schema: {
        summary: 'Rotate the signing secret of an inbound route',
        tags: ['inbound'],
        params: routeParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(routeWithSecretSchema) }),
      },
    },
    async (req) => {
      const r = await routeOf(deps.store, req.params);
      const now = deps.now();
      const rot = rotatedSecrets(r, now);
      const updated = await deps.store.inbound.updateRoute(r.serverId, r.id, { signingSecrets: rot.signingSecrets, secretsRotatedAt: now }, now);
      req.log.info({ event: 'inbound.secret_rotated', serverId: r.serverId, routeId: r.id }, 'inbound route signing secret rotated');
      return {
        data: { ...routeToWire(updated ?? r), signingSecret: rot.newSecret, previousSecretExpiresOn: new Date(now + SIGNING_SECRET_OVERLAP_MS).toISOString() },
      };
    },
  );
}
