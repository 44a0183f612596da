import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES, MAX_WEBHOOK_REPLAY_EVENTS, MAX_WEBHOOK_REPLAY_RANGE_MS } from '../../../core/api-v2-limits.js';
import { ApiError } from '../errors.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { endpointOf, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/webhooks/:webhookId/replay {from, to} — queues the endpoint's events
 * (of the types it wants) that happened in [from, to) to be sent again, whatever became of them
 * before. The range is at most 7 days and may match at most 100,000 events; answers how many
 * were queued.
 */
export function registerReplay(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.post<{ Params: WebhookParams; Body: { from: string; to: string } }>(
    '/webhooks/:webhookId/replay',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Send a time range of events to a webhook endpoint again',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: {
            from: { type: 'string', format: 'date-time', description: 'events at or after this time' },
            to: { type: 'string', format: 'date-time', description: 'events before this time' },
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
      const e = await endpointOf(deps.store, req.params);
      const from = Date.parse(req.body.from);
      const to = Date.parse(req.body.to);
      if (!(to > from)) throw new ApiError('validation_failed', 'to must be later than from', 'to');
      if (to - from > MAX_WEBHOOK_REPLAY_RANGE_MS) {
        throw new ApiError('validation_failed', `the range is longer than ${MAX_WEBHOOK_REPLAY_RANGE_MS / 86_400_000} days; replay it in steps`, 'to');
      }
      const r = await deps.store.webhooks.replayEvents(e.serverId, e.id, { from, to, max: MAX_WEBHOOK_REPLAY_EVENTS }, deps.now());
      if (!r.ok) {
        throw new ApiError(
          'validation_failed',
          `${r.matching} events match; at most ${MAX_WEBHOOK_REPLAY_EVENTS} per replay: narrow the range. Nothing was queued`,
          'to',
        );
      }
      req.log.info(
        { event: 'webhook.replay', serverId: e.serverId, endpointId: e.id, from: req.body.from, to: req.body.to, queued: r.queued },
        'webhook events queued again',
      );
      return { data: { queued: r.queued, from: new Date(from).toISOString(), to: new Date(to).toISOString() } };
    },
  );
}
