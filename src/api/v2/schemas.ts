/**
 * JSON-schema pieces every v2 route shares. Routes declare their params, query, body and
 * responses with these, Fastify validates with them (unknown fields refused: see
 * V2_AJV_OPTIONS), and an OpenAPI document can be generated from the same objects.
 */
import { isValidEmailAddress, MAX_ADDRESS_LENGTH } from '../../core/address.js';
import { API_V2_ERRORS } from '../../core/api-v2-codes.js';

/**
 * Fastify's Ajv settings for the whole HTTP server (only v2 routes declare schemas):
 *  - removeAdditional off: Fastify's default silently drops unknown properties; we refuse them
 *    (`unknown_field`), so a misspelt parameter is an error rather than a no-op.
 *  - `format: "email"` is Postline's own address check (core/address.ts), the one the Injection
 *    API and SMTP use, instead of ajv-formats' different idea of an address.
 */
export const V2_AJV_OPTIONS = {
  customOptions: { removeAdditional: false as const },
  onCreate(ajv: { addFormat(name: string, format: { type: 'string'; validate: (s: string) => boolean }): unknown }): void {
    ajv.addFormat('email', { type: 'string', validate: isValidEmailAddress });
  },
};

export const emailAddressSchema = { type: 'string', format: 'email', maxLength: MAX_ADDRESS_LENGTH } as const;

/** The `:serverId` path parameter (checked first by the auth hook; declared here for the document). */
export const serverIdParams = {
  type: 'object',
  required: ['serverId'],
  properties: { serverId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'the ServerId' } },
} as const;

/** A query string that takes no parameters (any is refused as unknown). */
export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(API_V2_ERRORS) },
        message: { type: 'string' },
        field: { type: 'string', description: 'the parameter or field at fault, e.g. "emailAddresses[3]"' },
      },
    },
  },
} as const;

/** Route responses plus the shared error shape for 4xx and 5xx. */
export function withErrors<T extends Record<string, unknown>>(ok: T) {
  return { ...ok, '4xx': errorSchema, '5xx': errorSchema };
}

// The documentation keys OpenAPI generators read from route schemas (as @fastify/swagger declares
// them); Fastify itself ignores them.
declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: readonly string[];
  }
}
