import type { FastifyInstance } from 'fastify';
import { generateApiKey, type ApiKeyScope } from '../../../core/api-key.js';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { principalOf } from '../auth.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { keyNameSchema, keyWithSecretSchema, paramsSchema, toWire, type KeySpace } from './wire.js';

/**
 * POST .../api-keys {name, scope} — a new key, answered with its plaintext (`apiKey`) this once;
 * only its hash is stored. `scopes`: what the space lets a caller create (a server: injection or
 * management; an account: account keys, the scope implied).
 */
export function registerCreate(scope: FastifyInstance, space: KeySpace, scopes: readonly [ApiKeyScope, ...ApiKeyScope[]]): void {
  const fixed = scopes.length === 1 ? scopes[0] : null;
  const properties = fixed ? { name: keyNameSchema } : { name: keyNameSchema, scope: { type: 'string', enum: [...scopes] } };
  scope.post<{ Body: { name: string; scope?: ApiKeyScope } }>(space.path, {
    bodyLimit: MAX_V2_BODY_BYTES,
    schema: {
      summary: `Create one of the ${space.tag}`, tags: ['api-keys'],
      params: paramsSchema(space, false), querystring: noQuery,
      body: { type: 'object', additionalProperties: false, required: Object.keys(properties), properties },
      response: withErrors({ 201: dataResponse(keyWithSecretSchema) }),
    },
  }, async (req, reply) => {
    space.authorize(req);
    const owner = space.ownerOf(req);
    const keyScope = fixed ?? req.body.scope!;
    const key = generateApiKey();
    const rec = await space.store.createApiKey({
      ...('serverId' in owner ? { serverId: owner.serverId } : { serverId: null, accountId: owner.accountId }),
      scope: keyScope, name: req.body.name.trim(), publicId: key.publicId, secretHash: key.secretHash,
    }, space.now());
    req.log.info({ event: 'api_key.created', keyId: rec.publicId, scope: rec.scope, serverId: rec.serverId, accountId: rec.accountId, by: principalOf(req).publicId }, 'API key created');
    return reply.code(201).send({ data: { ...toWire(rec), apiKey: key.key } });
  });
}
