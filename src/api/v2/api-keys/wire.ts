import type { FastifyRequest } from 'fastify';
import type { ApiKeyOwner, ApiKeyRecord, Store } from '../../../store/store.js';
import { API_KEY_PUBLIC_LENGTH, API_KEY_SCOPES } from '../../../core/api-key.js';
import { ApiError } from '../errors.js';

/** A key as the API shows it: never its secret or its hash. keyId is the 20-character public id. */
export const toWire = (k: ApiKeyRecord) => ({
  keyId: k.publicId,
  name: k.name,
  scope: k.scope,
  serverId: k.serverId,
  accountId: k.accountId,
  status: k.revokedAt === null ? ('active' as const) : ('revoked' as const),
  createdOn: new Date(k.createdAt).toISOString(),
  revokedOn: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
});

const keyProperties = {
  keyId: { type: 'string', description: 'the public id: the 20 characters before the dot' },
  name: { type: 'string' },
  scope: {
    type: 'string',
    enum: [...API_KEY_SCOPES],
    description: "a server key's permissions (injection, management, or both: injection,management), or account",
  },
  serverId: { type: ['integer', 'null'], description: 'null for account keys' },
  accountId: { type: 'integer' },
  status: { type: 'string', enum: ['active', 'revoked'] },
  createdOn: { type: 'string', format: 'date-time' },
  revokedOn: { type: ['string', 'null'], format: 'date-time' },
} as const;
export const keySchema = { type: 'object', required: Object.keys(keyProperties), properties: keyProperties } as const;
/** The key plus its plaintext: create and rotate only, the one time it is shown. */
export const keyWithSecretSchema = {
  type: 'object',
  required: [...Object.keys(keyProperties), 'apiKey'],
  properties: { ...keyProperties, apiKey: { type: 'string', description: 'the whole key (61 characters); shown only now, stored hashed' } },
} as const;

export const MAX_KEY_NAME_LENGTH = 200;
export const keyNameSchema = { type: 'string', minLength: 1, maxLength: MAX_KEY_NAME_LENGTH, pattern: '\\S', description: 'what the key is for' } as const;

export const keyIdSchema = { type: 'string', pattern: `^[A-Za-z0-9]{${API_KEY_PUBLIC_LENGTH}}$`, description: 'the public id of the key' } as const;

/**
 * Where a set of key routes lives: a server's keys (`/servers/:serverId/api-keys`) or an
 * account's own keys (`/account/api-keys`). `ownerOf` is the tenant filter every store call
 * takes; `authorize` refuses callers the space is not for.
 */
export interface KeySpace {
  store: Store;
  now: () => number;
  path: string;
  tag: string;
  /** Path parameters besides :keyId (serverId for a server's keys). */
  params: Record<string, object>;
  ownerOf(req: FastifyRequest): ApiKeyOwner;
  authorize(req: FastifyRequest): void;
  describe: string;
}

export function paramsSchema(space: KeySpace, withKey: boolean) {
  const properties = withKey ? { ...space.params, keyId: keyIdSchema } : space.params;
  return { type: 'object', required: Object.keys(properties), properties } as const;
}

/** The owner's key the path names, or 404 (also for another server's or account's key: nothing about it is told). */
export async function keyOf(space: KeySpace, req: FastifyRequest, keyId: string): Promise<ApiKeyRecord> {
  const k = await space.store.tenancy.getApiKeyOf(space.ownerOf(req), keyId);
  if (!k) throw new ApiError('not_found', `${space.describe} has no API key ${keyId}`, 'keyId');
  return k;
}
