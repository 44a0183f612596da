import type { InboundAttempt, InboundPostView, InboundRoute } from '../../../store/inbound.js';
import type { Store } from '../../../store/store.js';
import { ApiError } from '../errors.js';
import type { WebhookRouteDeps } from '../webhooks/wire.js';

/** What the inbound-route routes need: the webhook routes' guard and timeout, plus the MX routing table's invalidation. */
export interface InboundRouteDeps extends WebhookRouteDeps {
  /** A route was created, changed or deleted: the MX listener of this process reads its table again. */
  onRoutesChanged?: () => void;
  /** Postline's own bounce domain (lower case): its mail is Postline's, never a route's. */
  bounceDomain?: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** A route as the API shows it; signing secrets only in the answers of create and rotate-secret. */
export const routeToWire = (r: InboundRoute) => ({
  id: r.id,
  match: r.match,
  kind: r.kind,
  url: r.url,
  enabled: r.enabled,
  secretKey: r.secretKey,
  createdOn: iso(r.createdAt)!,
  lastUpdate: iso(r.updatedAt)!,
  validatedOn: iso(r.validatedAt),
});
const routeProperties = {
  id: { type: 'integer' },
  match: { type: 'string', description: 'the routed domain (example.com) or address (support@example.com), lower case' },
  kind: { type: 'string', enum: ['domain', 'address'] },
  url: { type: 'string', description: 'where each message is POSTed as SocketLabs Inbound Parse JSON' },
  enabled: { type: 'boolean', description: 'false: mail for the match is refused at RCPT and waiting messages are not posted' },
  secretKey: { type: 'string', description: 'the SocketLabs SecretKey sent in every payload' },
  createdOn: { type: 'string', format: 'date-time' },
  lastUpdate: { type: 'string', format: 'date-time' },
  validatedOn: nullableTime,
} as const;
export const routeSchema = { type: 'object', required: Object.keys(routeProperties), properties: routeProperties } as const;
export const routeWithSecretSchema = {
  type: 'object',
  required: [...Object.keys(routeProperties), 'signingSecret'],
  properties: {
    ...routeProperties,
    signingSecret: { type: 'string', description: 'the Standard Webhooks secret (whsec_...); shown only now' },
    previousSecretExpiresOn: { ...nullableTime, description: 'until when the previous secret also signs (rotate-secret)' },
  },
} as const;

export const postToWire = (p: InboundPostView) => ({
  id: p.id,
  messageId: p.messageId,
  rcptTo: p.rcptTo,
  mailFrom: p.mailFrom,
  size: p.sizeBytes,
  receivedOn: iso(p.receivedAt)!,
  status: p.status,
  attempts: p.attempts,
  nextAttemptOn: iso(p.nextAttemptAt),
  lastStatus: p.lastStatus,
  lastError: p.lastError,
});
export const postSchema = {
  type: 'object',
  required: ['id', 'messageId', 'rcptTo', 'mailFrom', 'size', 'receivedOn', 'status', 'attempts', 'nextAttemptOn', 'lastStatus', 'lastError'],
  properties: {
    id: { type: 'integer', description: 'the inbound message id (one message to one routed recipient)' },
    messageId: { type: 'string', description: 'the received message (shared by its routed recipients)' },
    rcptTo: { type: 'string' },
    mailFrom: { type: 'string', description: 'the envelope sender; empty for <>' },
    size: { type: 'integer', description: 'bytes of the message as received' },
    receivedOn: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: ['pending', 'failed', 'delivered', 'gave_up'], description: 'failed: waiting for its next attempt' },
    attempts: { type: 'integer' },
    nextAttemptOn: nullableTime,
    lastStatus: { type: ['integer', 'null'], description: 'the HTTP status of the last attempt' },
    lastError: { type: ['string', 'null'] },
  },
} as const;

export const attemptToWire = (a: InboundAttempt) => ({
  attemptedOn: iso(a.at)!,
  ok: a.ok,
  status: a.httpStatus,
  durationMs: a.durationMs,
  error: a.error,
  response: a.responseSnippet,
});
export const attemptSchema = {
  type: 'object',
  required: ['attemptedOn', 'ok', 'status', 'durationMs', 'error', 'response'],
  properties: {
    attemptedOn: { type: 'string', format: 'date-time' },
    ok: { type: 'boolean' },
    status: { type: ['integer', 'null'], description: 'the HTTP status answered, null when none came back' },
    durationMs: { type: 'integer' },
    error: { type: ['string', 'null'] },
    response: { type: ['string', 'null'], description: 'the first 4 KB of the answer' },
  },
} as const;

const idPattern = { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } as const;
export const routeParams = {
  type: 'object',
  required: ['serverId', 'routeId'],
  properties: { serverId: idPattern, routeId: { ...idPattern, description: 'the inbound route id' } },
} as const;
export interface RouteParams {
  serverId: string;
  routeId: string;
}
export const messageParams = {
  type: 'object',
  required: ['serverId', 'routeId', 'messageId'],
  properties: { serverId: idPattern, routeId: idPattern, messageId: { ...idPattern, description: 'the inbound message id' } },
} as const;
export interface MessageParams extends RouteParams {
  messageId: string;
}

/** The route named by the path, or 404 (also for another server's route). */
export async function routeOf(store: Store, p: RouteParams): Promise<InboundRoute> {
  const r = await store.inbound.getRoute(Number(p.serverId), Number(p.routeId));
  if (!r) throw new ApiError('not_found', `server ${p.serverId} has no inbound route ${p.routeId}`, 'routeId');
  return r;
}
