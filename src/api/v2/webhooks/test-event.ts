import type { FastifyInstance } from 'fastify';
import { newId } from '../../../core/ids.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../../../net/post.js';
import { validationEvent } from '../../../webhooks/event-row.js';
import { sendWebhook } from '../../../webhooks/send.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { attemptSchema, endpointOf, webhookParams, type WebhookParams, type WebhookRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/webhooks/:webhookId/test — sends the endpoint a signed `Validation`
 * payload now, whether it is enabled or not, and answers what happened in the shape of a
 * delivery-log attempt. Nothing changes: unlike .../validate it neither marks the endpoint
 * validated nor enables it, and the outcome is not written to the delivery log (that log holds
 * the attempts of stored events). A receiver's failure is an answer (ok false), not an error.
 */
export function registerTestEvent(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  scope.post<{ Params: WebhookParams }>(
    '/webhooks/:webhookId/test',
    {
      schema: {
        summary: 'Send a test (Validation) event to a webhook endpoint and answer the outcome',
        tags: ['webhooks'],
        params: webhookParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(attemptSchema) }),
      },
    },
    async (req) => {
      const e = await endpointOf(deps.store, req.params);
      const now = deps.now();
      const eventId = newId(now);
      // The guard is applied on the connection itself, so a URL the operator's rule now refuses is a failed outcome.
      const outcome = await sendWebhook(validationEvent(eventId, e.serverId, now), e, {
        guard: deps.guard,
        timeoutMs: deps.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
        now,
      });
      req.log.info(
        { event: 'webhook.test_sent', serverId: e.serverId, endpointId: e.id, ok: outcome.ok, status: outcome.status ?? null },
        'webhook test event sent',
      );
      return {
        data: {
          eventId,
          type: 'Validation',
          attemptedOn: new Date(now).toISOString(),
          ok: outcome.ok,
          status: outcome.status ?? null,
          durationMs: Math.round(outcome.durationMs),
          error: outcome.error ?? null,
          response: outcome.responseSnippet ?? null,
        },
      };
    },
  );
}
