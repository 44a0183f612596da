import { newId } from '../../../core/ids.js';
import { validationEvent } from '../../../webhooks/event-row.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../../../net/post.js';
import { sendWebhook, type SendTarget } from '../../../webhooks/send.js';
import { ApiError } from '../errors.js';
import type { WebhookRouteDeps } from './wire.js';

/** The URL's syntax and every address it resolves to, as the operator's rule allows (400 otherwise, field `url`). */
export async function checkUrl(deps: WebhookRouteDeps, url: string): Promise<void> {
  const r = await deps.guard.check(url);
  if (!r.ok) throw new ApiError('validation_failed', r.error, 'url');
}

/**
 * The Validation handshake: a signed `Type: Validation` payload POSTed to the endpoint, which
 * must answer 2xx (a form endpoint: 2xx with its ValidationKey in the body). Refused (422,
 * nothing changed) with what went wrong, so the owner can fix it.
 */
export async function handshake(deps: WebhookRouteDeps, serverId: number, endpoint: SendTarget): Promise<void> {
  const now = deps.now();
  const outcome = await sendWebhook(validationEvent(newId(now), serverId, now), endpoint, {
    guard: deps.guard,
    timeoutMs: deps.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    now,
  });
  if (outcome.ok) return;
  const answer = outcome.responseSnippet ? `; it answered: ${outcome.responseSnippet.slice(0, 200)}` : '';
  const expected =
    endpoint.format === 'form' && endpoint.validationKey
      ? `answer 2xx with the ValidationKey ${endpoint.validationKey} in the body to a POST with Type "Validation" (and to every notification)`
      : 'answer 2xx to a POST with Type "Validation"';
  throw new ApiError(
    'endpoint_validation_failed',
    `the endpoint did not accept the Validation request (${outcome.error ?? `HTTP ${outcome.status}`})${answer}; ${expected}`,
    'url',
  );
}
