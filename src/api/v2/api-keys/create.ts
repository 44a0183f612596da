import type { FastifyInstance } from 'fastify';
import { generateApiKey, serverScopeOf, SERVER_KEY_PERMISSIONS, SERVER_KEY_SCOPES, type ApiKeyScope } from '../../../core/api-key.js';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { keyNameSchema, keyWithSecretSchema, paramsSchema, toWire, type KeySpace } from './wire.js';

/**
 * A server key's permissions: `"injection"`, `"management"`, both (`"injection,management"`) or
 * the same as an array (`["injection", "management"]`). The schema only takes the two types; the
 * values are judged by serverScopeOf, so the refusal can say what is allowed.
 */
const serverScopeSchema = {
  description: 'injection, management or both: "injection,management" or ["injection", "management"]',
  anyOf: [
    { type: 'string' },
    { type: 'array', items: { type: 'string', enum: [...SERVER_KEY_PERMISSIONS] }, minItems: 1, maxItems: SERVER_KEY_PERMISSIONS.length },
  ],
} as const;

/**
 * POST .../api-keys {name, scope} — a new key, answered with its plaintext (`apiKey`) this once;
 * only its hash is stored. `fixedScope`: the scope every key of the space has (an account's keys
 * are account keys); null for a server's keys, whose permissions the caller chooses.
 */
export function registerCreate(scope: FastifyInstance, space: KeySpace, fixedScope: 'account' | null): void {
  const properties = fixedScope ? { name: keyNameSchema } : { name: keyNameSchema, scope: serverScopeSchema };
  scope.post<{ Body: { name: string; scope?: string | string[] } }>(
    space.path,
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: `Create one of the ${space.tag}`,
        tags: ['api-keys'],
        params: paramsSchema(space, false),
        querystring: noQuery,
        body: { type: 'object', additionalProperties: false, required: Object.keys(properties), properties },
        response: withErrors({ 201: dataResponse(keyWithSecretSchema) }),
      },
    },
    async (req, reply) => {
      space.authorize(req);
      const owner = space.ownerOf(req);
      const keyScope: ApiKeyScope | null = fixedScope ?? serverScopeOf(req.body.scope!);
      if (keyScope === null) {
        throw new ApiError(
          'validation_failed',
          `scope must be one of: ${SERVER_KEY_SCOPES.join(', ')} (both permissions may also be sent as ["injection", "management"])`,
          'scope',
        );
      }
      const key = generateApiKey();
      const rec = await space.store.tenancy.createApiKey(
        {
          ...('serverId' in owner ? { serverId: owner.serverId } : { serverId: null, accountId: owner.accountId }),
          scope: keyScope,
          name: req.body.name.trim(),
          publicId: key.publicId,
          secretHash: key.secretHash,
        },
        space.now(),
      );
      req.log.info(
        { event: 'api_key.created', keyId: rec.publicId, scope: rec.scope, serverId: rec.serverId, accountId: rec.accountId, by: principalOf(req).publicId },
        'API key created',
      );
      return reply.code(201).send({ data: { ...toWire(rec), apiKey: key.key } });
    },
  );
}
