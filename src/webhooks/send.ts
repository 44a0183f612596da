import type { Dispatcher } from 'undici';
import type { WebhookEndpoint } from '../store/store.js';
import { activeSigningSecrets } from './endpoint.js';
import { buildPayload, encodePayload, type WebhookEvent } from './payload.js';
import { postWebhook, type PostOutcome } from '../net/post.js';
import { sign } from '../net/standard-signature.js';
import type { UrlGuard } from '../net/url-guard.js';

export interface SendOptions {
  guard: UrlGuard;
  timeoutMs: number;
  /** The attempt's time (epoch ms): webhook-timestamp and which secrets are active. */
  now: number;
  dispatcher?: Dispatcher;
}

/**
 * One event to one endpoint: the SocketLabs payload in the endpoint's format, signed with every
 * active secret (webhook-id is the event id, the same on every retry), POSTed through the guard.
 */
export function sendWebhook(event: WebhookEvent, endpoint: Pick<WebhookEndpoint, 'url' | 'format' | 'secretKey' | 'signingSecrets' | 'secretsRotatedAt'>,
  o: SendOptions): Promise<PostOutcome> {
  const { body, contentType } = encodePayload(buildPayload(event, endpoint.secretKey), endpoint.format);
  const headers = sign(event.eventId, Math.floor(o.now / 1000), body, activeSigningSecrets(endpoint, o.now));
  return postWebhook(endpoint.url, { body, contentType, headers, timeoutMs: o.timeoutMs, guard: o.guard, dispatcher: o.dispatcher });
}
