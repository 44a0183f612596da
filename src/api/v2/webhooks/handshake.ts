import type { WebhookEndpoint } from '../../../store/store.js';
import { newId } from '../../../core/ids.js';
import { validationEvent } from '../../../webhooks/event-row.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../../../net/post.js';
import { sendWebhook } from '../../../webhooks/send.js';
import { ApiError } from '../errors.js';
import type { WebhookRouteDeps } from './wire.js';

/** The URL's syntax and every address it resolves to, as the operator's rule allows (400 otherwise, field `url`). */
export async function checkUrl(deps: WebhookRouteDeps, url: string): Promise<void> {
  const r = await deps.guard.check(url);
  if (!r.ok) throw new ApiError('validation_failed', r.error, 'url');
}

/**
 * The Validation handshake: a signed `Type: Validation` payload POSTed to the endpoint, which
 * must answer 2xx. Refused (422, nothing changed) with what went wrong, so the owner can fix it.
 */
export async function handshake(deps: WebhookRouteDeps, serverId: number,
  endpoint: Pick<WebhookEndpoint, 'url' | 'format' | 'secretKey' | 'signingSecrets' | 'secretsRotatedAt'>): Promise<void> {
  const now = deps.now();
  const outcome = await sendWebhook(validationEvent(newId(now), serverId, now), endpoint,
    { guard: deps.guard, timeoutMs: deps.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS, now });
  if (outcome.ok) return;
  const answer = outcome.responseSnippet ? `; it answered: ${outcome.responseSnippet.slice(0, 200)}` : '';
  throw new ApiError('endpoint_validation_failed',
    `the endpoint did not accept the Validation request (${outcome.error ?? `HTTP ${outcome.status}`})${answer}; answer 2xx to a POST with Type "Validation"`, 'url');
}
