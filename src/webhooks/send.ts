import type { Dispatcher } from 'undici';
import type { WebhookEndpoint } from '../store/store.js';
import { activeSigningSecrets } from './endpoint.js';
import { buildPayload, encodePayload, type WebhookEvent } from './payload.js';
import { postWebhook, type PostOutcome } from '../net/post.js';
import { requireValidationKey } from './legacy-notification.js';
import { sign } from '../net/standard-signature.js';
import type { UrlGuard } from '../net/url-guard.js';

export interface SendOptions {
  guard: UrlGuard;
  timeoutMs: number;
  /** The attempt's time (epoch ms): webhook-timestamp and which secrets are active. */
  now: number;
  dispatcher?: Dispatcher;
}

/** Where an event goes and how: an endpoint, or an inbound route's receiver (which has no ValidationKey). */
export type SendTarget = Pick<WebhookEndpoint, 'url' | 'format' | 'secretKey' | 'signingSecrets' | 'secretsRotatedAt'> & { validationKey?: string | null };

/**
 * One event to one endpoint: the SocketLabs payload in the endpoint's format, signed with every
 * active secret (webhook-id is the event id, the same on every retry), POSTed through the guard.
 * A form endpoint's answer must also carry its ValidationKey (legacy-notification.ts).
 */
export async function sendWebhook(event: WebhookEvent, endpoint: SendTarget, o: SendOptions): Promise<PostOutcome> {
  const { body, contentType } = encodePayload(buildPayload(event, endpoint.secretKey), endpoint.format);
  const headers = sign(event.eventId, Math.floor(o.now / 1000), body, activeSigningSecrets(endpoint, o.now));
  const outcome = await postWebhook(endpoint.url, { body, contentType, headers, timeoutMs: o.timeoutMs, guard: o.guard, dispatcher: o.dispatcher });
  return endpoint.format === 'form' ? requireValidationKey(outcome, endpoint.validationKey ?? null) : outcome;
}
