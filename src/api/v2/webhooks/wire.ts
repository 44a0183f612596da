import type { Store, WebhookAttempt, WebhookEndpoint, WebhookFormat } from '../../../store/store.js';
import { LEGACY_SUBSCRIBABLE_TYPES, typesNotForForm } from '../../../core/legacy-notification-types.js';
import { VALIDATION_KEY_PATTERN } from '../../../webhooks/legacy-notification.js';
import type { UrlGuard } from '../../../net/url-guard.js';
import { MAX_WEBHOOK_URL_LENGTH } from '../../../net/url-guard.js';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../../webhooks/endpoint.js';
import { ApiError } from '../errors.js';

/** What the webhook routes need beyond the store: the URL guard (the operator's private-address rule) and the POST timeout. */
export interface WebhookRouteDeps {
  store: Store;
  now: () => number;
  guard: UrlGuard;
  timeoutMs?: number;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/**
 * An endpoint as the API shows it. The SocketLabs SecretKey is shown (it is in every payload the
 * endpoint receives anyway); signing secrets are shown only when created (create, rotate-secret).
 */
export const toWire = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  eventTypes: e.eventTypes,
  format: e.format,
  enabled: e.enabled,
  disabledReason: e.disabledReason,
  // A JSON endpoint keeps the key it had as a form endpoint (it comes back if it turns form again) but has none in use.
  failingSince: iso(e.failingSince),
  secretKey: e.secretKey,
  validationKey: e.format === 'form' ? e.validationKey : null,
  createdOn: iso(e.createdAt)!,
  lastUpdate: iso(e.updatedAt)!,
  validatedOn: iso(e.validatedAt),
});

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const endpointProperties = {
  id: { type: 'integer' },
  url: { type: 'string' },
  eventTypes: { type: 'array', items: { type: 'string' }, description: 'SocketLabs Type names; empty means every type' },
  format: { type: 'string', enum: ['json', 'form'] },
  enabled: { type: 'boolean' },
  disabledReason: { type: ['string', 'null'], description: 'why the endpoint is disabled (by the API, by persistent failure, or not validated yet)' },
  failingSince: { ...nullableTime, description: 'start of the current streak of failed attempts' },
  secretKey: { type: 'string', description: 'the SocketLabs SecretKey sent in every payload' },
  validationKey: {
    type: ['string', 'null'],
    description:
      'form endpoints: the legacy Notification API ValidationKey, never sent; the receiver must put it in the body of every answer. null for json endpoints',
  },
  createdOn: { type: 'string', format: 'date-time' },
  lastUpdate: { type: 'string', format: 'date-time' },
  validatedOn: nullableTime,
} as const;
export const endpointSchema = { type: 'object', required: Object.keys(endpointProperties), properties: endpointProperties } as const;
/** The endpoint plus its newest signing secret: create and rotate-secret only. */
export const endpointWithSecretSchema = {
  type: 'object',
  required: [...Object.keys(endpointProperties), 'signingSecret'],
  properties: {
    ...endpointProperties,
    signingSecret: { type: 'string', description: 'the Standard Webhooks secret (whsec_...); shown only now' },
    previousSecretExpiresOn: { ...nullableTime, description: 'until when the previous secret also signs (rotate-secret)' },
  },
} as const;

export const attemptSchema = {
  type: 'object',
  required: ['eventId', 'type', 'attemptedOn', 'ok', 'status', 'durationMs', 'error', 'response'],
  properties: {
    eventId: { type: 'string' },
    type: { type: 'string' },
    attemptedOn: { type: 'string', format: 'date-time' },
    ok: { type: 'boolean' },
    status: { type: ['integer', 'null'], description: 'the HTTP status answered, null when none came back' },
    durationMs: { type: 'integer' },
    error: { type: ['string', 'null'] },
    response: { type: ['string', 'null'], description: 'the first 4 KB of the answer' },
  },
} as const;
export const attemptToWire = (a: WebhookAttempt) => ({
  eventId: a.eventUid,
  type: a.eventType,
  attemptedOn: iso(a.at)!,
  ok: a.ok,
  status: a.httpStatus,
  durationMs: a.durationMs,
  error: a.error,
  response: a.responseSnippet,
});

export const urlSchema = { type: 'string', minLength: 1, maxLength: MAX_WEBHOOK_URL_LENGTH } as const;
export const eventTypesSchema = {
  type: 'array',
  uniqueItems: true,
  maxItems: SUBSCRIBABLE_EVENT_TYPES.length,
  items: { type: 'string', enum: [...SUBSCRIBABLE_EVENT_TYPES] },
  description: 'SocketLabs Type names; empty or absent means every type',
} as const;
export const formatSchema = { type: 'string', enum: ['json', 'form'], description: "json, or form for SocketLabs' legacy Notification API" } as const;
export const validationKeySchema = {
  type: 'string',
  pattern: VALIDATION_KEY_PATTERN,
  description:
    'form endpoints: the ValidationKey to use (8-128 printable characters, no spaces), e.g. the one a receiver moved from SocketLabs already answers; generated when absent',
} as const;

/** Queued and Deferred do not exist in the legacy Notification API: a form endpoint cannot ask for them (400, nothing changed). */
export function checkTypesForFormat(format: WebhookFormat, eventTypes: readonly string[]): void {
  if (format !== 'form') return;
  const refused = typesNotForForm(eventTypes);
  if (refused.length > 0) {
    throw new ApiError(
      'validation_failed',
      `a form (legacy Notification API) endpoint cannot receive ${refused.join(', ')}; its types are ${LEGACY_SUBSCRIBABLE_TYPES.join(', ')}`,
      'eventTypes',
    );
  }
}

export const webhookParams = {
  type: 'object',
  required: ['serverId', 'webhookId'],
  properties: {
    serverId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
    webhookId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'the endpoint id' },
  },
} as const;
export interface WebhookParams {
  serverId: string;
  webhookId: string;
}

/** The endpoint named by the path, or 404 (also for another server's endpoint: ids are not secrets, but not shared either). */
export async function endpointOf(store: Store, p: WebhookParams): Promise<WebhookEndpoint> {
  const e = await store.webhooks.getEndpoint(Number(p.serverId), Number(p.webhookId));
  if (!e) throw new ApiError('not_found', `server ${p.serverId} has no webhook endpoint ${p.webhookId}`, 'webhookId');
  return e;
}
