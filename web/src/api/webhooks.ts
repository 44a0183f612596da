/**
 * The Webhooks pages' calls: a server's event-webhook endpoints (docs/webhooks.md, api-v2.md
 * "Webhooks") and its inbound routes (docs/inbound.md), all under /api/v2/servers/{id}.
 */
import { call, seg, type Page } from '../api.js';

/** The event types an endpoint can ask for (SocketLabs Type names); none chosen means all of them. */
export const EVENT_TYPES = ['Queued', 'Deferred', 'Delivered', 'Failed', 'Tracking', 'Complaint'] as const;

export interface Endpoint {
  id: number;
  url: string;
  eventTypes: string[];
  format: 'json' | 'form';
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  secretKey: string;
  validationKey: string | null;
  createdOn: string;
  lastUpdate: string;
  validatedOn: string | null;
}

export interface EndpointWithSecret extends Endpoint {
  signingSecret: string;
  previousSecretExpiresOn?: string | null;
}

/** One delivery attempt (or the outcome of a test event). */
export interface Attempt {
  eventId: string;
  type: string;
  attemptedOn: string;
  ok: boolean;
  status: number | null;
  durationMs: number;
  error: string | null;
  response: string | null;
}

export interface Replayed {
  queued: number;
  from: string;
  to: string;
}

const hooks = (serverId: number) => `/api/v2/servers/${seg(serverId)}/webhooks`;
const hook = (serverId: number, id: number) => `${hooks(serverId)}/${seg(id)}`;

export const listEndpoints = (serverId: number) => call<Page<Endpoint>>('GET', `${hooks(serverId)}?pageSize=100`);
export const getEndpoint = async (serverId: number, id: number) => (await call<{ data: Endpoint }>('GET', hook(serverId, id))).data;
export const createEndpoint = async (serverId: number, body: { url: string; eventTypes: string[] }) =>
  (await call<{ data: EndpointWithSecret }>('POST', hooks(serverId), body)).data;
export const updateEndpoint = async (serverId: number, id: number, body: { url?: string; eventTypes?: string[]; enabled?: boolean }) =>
  (await call<{ data: Endpoint }>('PATCH', hook(serverId, id), body)).data;
export const deleteEndpoint = (serverId: number, id: number) => call<unknown>('DELETE', hook(serverId, id));
export const rotateEndpointSecret = async (serverId: number, id: number) =>
  (await call<{ data: EndpointWithSecret }>('POST', `${hook(serverId, id)}/rotate-secret`)).data;
export const validateEndpoint = async (serverId: number, id: number) => (await call<{ data: Endpoint }>('POST', `${hook(serverId, id)}/validate`)).data;
export const testEndpoint = async (serverId: number, id: number) => (await call<{ data: Attempt }>('POST', `${hook(serverId, id)}/test`)).data;
export const listAttempts = (serverId: number, id: number, pageSize = 50) =>
  call<Page<Attempt>>('GET', `${hook(serverId, id)}/attempts?pageSize=${pageSize}&sortField=attemptedOn&sortDirection=dsc`);
export const replayEndpoint = async (serverId: number, id: number, range: { from: string; to: string }) =>
  (await call<{ data: Replayed }>('POST', `${hook(serverId, id)}/replay`, range)).data;

export interface InboundRoute {
  id: number;
  match: string;
  kind: 'domain' | 'address';
  url: string;
  enabled: boolean;
  secretKey: string;
  createdOn: string;
  lastUpdate: string;
  validatedOn: string | null;
}

export interface InboundRouteWithSecret extends InboundRoute {
  signingSecret: string;
  previousSecretExpiresOn?: string | null;
}

/** One received message to one routed recipient, and where its posting stands. */
export interface InboundPost {
  id: number;
  messageId: string;
  rcptTo: string;
  mailFrom: string;
  size: number;
  receivedOn: string;
  status: 'pending' | 'failed' | 'delivered' | 'gave_up';
  attempts: number;
  nextAttemptOn: string | null;
  lastStatus: number | null;
  lastError: string | null;
}

const routes = (serverId: number) => `/api/v2/servers/${seg(serverId)}/inbound-routes`;
const route = (serverId: number, id: number) => `${routes(serverId)}/${seg(id)}`;

export const listRoutes = (serverId: number) => call<Page<InboundRoute>>('GET', `${routes(serverId)}?pageSize=100`);
export const createRoute = async (serverId: number, body: { match: string; url: string }) =>
  (await call<{ data: InboundRouteWithSecret }>('POST', routes(serverId), body)).data;
export const updateRoute = async (serverId: number, id: number, body: { url?: string; enabled?: boolean }) =>
  (await call<{ data: InboundRoute }>('PATCH', route(serverId, id), body)).data;
export const deleteRoute = (serverId: number, id: number) => call<unknown>('DELETE', route(serverId, id));
export const rotateRouteSecret = async (serverId: number, id: number) =>
  (await call<{ data: InboundRouteWithSecret }>('POST', `${route(serverId, id)}/rotate-secret`)).data;
export const listRoutePosts = (serverId: number, id: number, pageSize = 50) =>
  call<Page<InboundPost>>('GET', `${route(serverId, id)}/messages?pageSize=${pageSize}&sortField=receivedOn&sortDirection=dsc`);
export const replayRoute = async (serverId: number, id: number, range: { from: string; to: string }) =>
  (await call<{ data: Replayed }>('POST', `${route(serverId, id)}/replay`, range)).data;
