import type { Server, Store } from '../../../store/store.js';
import { ApiError } from '../errors.js';

/** A server as the API shows it: SocketLabs v2's camelCase. */
export const toWire = (s: Server) => ({
  serverId: s.id,
  accountId: s.accountId,
  name: s.name,
  status: s.status,
  sandbox: s.sandbox,
  requireVerifiedDomain: s.requireVerifiedDomain,
  tracking: { opens: s.tracking.opens, clicks: s.tracking.clicks, unsubscribes: s.tracking.unsubscribes, domain: s.tracking.domain },
  createdOn: new Date(s.createdAt).toISOString(),
});

const serverProperties = {
  serverId: { type: 'integer', description: 'the ServerId' },
  accountId: { type: 'integer' },
  name: { type: 'string' },
  status: { type: 'string', enum: ['active', 'disabled'], description: "disabled: the server's keys are refused (injection, SMTP AUTH, its management keys)" },
  sandbox: { type: 'boolean', description: 'accept mail but deliver none' },
  requireVerifiedDomain: { type: 'boolean', description: 'refuse mail whose From domain is not a verified sending domain of the server' },
  tracking: {
    type: 'object',
    required: ['opens', 'clicks', 'unsubscribes', 'domain'],
    properties: {
      opens: { type: 'boolean' },
      clicks: { type: 'boolean' },
      unsubscribes: { type: 'boolean' },
      domain: { type: ['string', 'null'], description: "the tracking links' origin; null: Postline's public URL" },
    },
  },
  createdOn: { type: 'string', format: 'date-time' },
} as const;
export const serverSchema = { type: 'object', required: Object.keys(serverProperties), properties: serverProperties } as const;

/** Longest server name (as `postline servers create` allows). */
export const MAX_SERVER_NAME_LENGTH = 200;
export const nameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_SERVER_NAME_LENGTH,
  pattern: '\\S',
  description: 'shown in lists; not unique',
} as const;

/** The settings a server is created or updated with (the body fields both share). */
export const settingsProperties = {
  name: nameSchema,
  sandbox: { type: 'boolean', description: 'accept mail but deliver none' },
  trackOpens: { type: 'boolean' },
  trackClicks: { type: 'boolean' },
  trackUnsubscribes: { type: 'boolean' },
  requireVerifiedDomain: { type: 'boolean', description: "refuse mail whose From domain is not one of the server's verified sending domains" },
} as const;
export interface ServerSettings {
  name?: string;
  sandbox?: boolean;
  trackOpens?: boolean;
  trackClicks?: boolean;
  trackUnsubscribes?: boolean;
  requireVerifiedDomain?: boolean;
}

export interface ServerRouteDeps {
  store: Store;
  now: () => number;
  /** Tells this process's caches of server settings (the verified-From rule, delivery's tracking and bounce settings) that a server changed. */
  serverChanged?: (serverId: number) => void;
}

/** The server the path names; authentication has already tied it to the caller's key. */
export async function serverOf(store: Store, serverId: string): Promise<Server> {
  const s = await store.tenancy.getServer(Number(serverId));
  if (!s) throw new ApiError('not_found', `no server ${serverId}`, 'serverId');
  return s;
}
