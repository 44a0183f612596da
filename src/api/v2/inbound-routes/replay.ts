import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { MAX_INBOUND_REPLAY_MESSAGES, MAX_INBOUND_REPLAY_RANGE_MS } from '../../../inbound/limits.js';
import { ApiError } from '../errors.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { routeOf, routeParams, type InboundRouteDeps, type RouteParams } from './wire.js';

/**
 * POST /servers/:serverId/inbound-routes/:routeId/replay {from, to} — posts the route's messages
 * received in [from, to) again, whatever became of them (delivered or given up); messages still
 * waiting are left as they are. At most 7 days and 10,000 messages; wider is refused, nothing queued.
 */
export function registerReplay(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.post<{ Params: RouteParams; Body: { from: string; to: string } }>(
    '/inbound-routes/:routeId/replay',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: "Post a time range of an inbound route's messages again",
        tags: ['inbound'],
        params: routeParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: {
            from: { type: 'string', format: 'date-time', description: 'messages received at or after this time' },
            to: { type: 'string', format: 'date-time', description: 'messages received before this time' },
          },
        },
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['queued', 'from', 'to'],
            properties: { queued: { type: 'integer' }, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' } },
          }),
        }),
      },
    },
    async (req) => {
      const r = await routeOf(deps.store, req.params);
      const from = Date.parse(req.body.from);
      const to = Date.parse(req.body.to);
      if (!(to > from)) throw new ApiError('validation_failed', 'to must be later than from', 'to');
      if (to - from > MAX_INBOUND_REPLAY_RANGE_MS) {
        throw new ApiError('validation_failed', `the range is longer than ${MAX_INBOUND_REPLAY_RANGE_MS / 86_400_000} days; replay it in steps`, 'to');
      }
      const res = await deps.store.inbound.replayPosts(r.serverId, r.id, { from, to, max: MAX_INBOUND_REPLAY_MESSAGES }, deps.now());
      if (!res.ok) {
        throw new ApiError(
          'validation_failed',
          `${res.matching} messages match; at most ${MAX_INBOUND_REPLAY_MESSAGES} per replay: narrow the range. Nothing was queued`,
          'to',
        );
      }
      req.log.info({ event: 'inbound.replay', serverId: r.serverId, routeId: r.id, queued: res.queued }, 'inbound messages queued again');
      return { data: { queued: res.queued, from: new Date(from).toISOString(), to: new Date(to).toISOString() } };
    },
  );
}
