import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { withErrors } from '../schemas.js';
import { directionOf, pagedQueryProperties, pagedResponse, pageOf, type PagedQuery } from '../paging.js';
import {
  attemptSchema,
  attemptToWire,
  messageParams,
  postSchema,
  postToWire,
  routeOf,
  routeParams,
  type InboundRouteDeps,
  type MessageParams,
  type RouteParams,
} from './wire.js';

/**
 * GET /servers/:serverId/inbound-routes/:routeId/messages — the route's messages (one per routed
 * recipient), newest first by default, with where each stands; never the message itself.
 * GET .../messages/:messageId/attempts — one message's attempts.
 */
export function registerMessages(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.get<{ Params: RouteParams; Querystring: PagedQuery<'receivedOn'> }>(
    '/inbound-routes/:routeId/messages',
    {
      schema: {
        summary: 'List the messages of an inbound route (paged)',
        tags: ['inbound'],
        params: routeParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(['receivedOn'] as const, { sortField: 'receivedOn', sortDirection: 'dsc' }),
        },
        response: withErrors({ 200: pagedResponse(postSchema) }),
      },
    },
    async (req) => {
      const r = await routeOf(deps.store, req.params);
      const { rows, total } = await deps.store.inbound.listPosts(r.serverId, r.id, { ...pageOf(req.query), direction: directionOf(req.query.sortDirection) });
      return { data: rows.map(postToWire), total };
    },
  );

  scope.get<{ Params: MessageParams; Querystring: PagedQuery<'attemptedOn'> }>(
    '/inbound-routes/:routeId/messages/:messageId/attempts',
    {
      schema: {
        summary: 'List the post attempts of an inbound message (paged)',
        tags: ['inbound'],
        params: messageParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: pagedQueryProperties(['attemptedOn'] as const, { sortField: 'attemptedOn', sortDirection: 'dsc' }),
        },
        response: withErrors({ 200: pagedResponse(attemptSchema) }),
      },
    },
    async (req) => {
      const r = await routeOf(deps.store, req.params);
      const post = await deps.store.inbound.getPost(r.serverId, r.id, Number(req.params.messageId));
      if (!post) throw new ApiError('not_found', `inbound route ${r.id} has no message ${req.params.messageId}`, 'messageId');
      const { rows, total } = await deps.store.inbound.listAttempts(r.serverId, r.id, post.id, {
        ...pageOf(req.query),
        direction: directionOf(req.query.sortDirection),
      });
      return { data: rows.map(attemptToWire), total };
    },
  );
}
