/**
 * The fixed parts of the OpenAPI document: info, security schemes and tag descriptions. Paths come
 * from the routes themselves (transform.ts); nothing here lists an endpoint.
 */
import { readFileSync } from 'node:fs';
import { SESSION_COOKIE } from '../../accept/sessions.js';

/** package.json sits three levels up from both src/api/openapi and dist/api/openapi. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

export const OPENAPI_VERSION = '3.0.3';

/** Where the document and the browsable page are served. */
export const OPENAPI_JSON_PATH = '/api/openapi.json';
export const DOCS_PREFIX = '/docs';

export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'an API key: `Authorization: Bearer <key>`' },
  basic: { type: 'http', scheme: 'basic', description: 'an API key as the password, any user name (`curl -u api:<key>`)' },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description:
      "the control panel's session cookie (`POST /api/v2/session`); a request that changes something also sends the session's `X-CSRF-Token` (docs/panel-auth.md)",
  },
} as const;

/** Management API v2: a management key, as Bearer or Basic, or a signed-in person's session cookie. */
export const V2_SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { basic: [] }, { session: [] }];

export const TAGS = [
  { name: 'injection', description: 'SocketLabs-compatible Injection API: sending mail (docs/injection-api.md)' },
  { name: 'suppressions', description: "A server's suppression list (docs/api-v2.md#suppressions)" },
  { name: 'webhooks', description: 'Event-webhook endpoints (docs/api-v2.md#webhooks, docs/webhooks.md)' },
  { name: 'legacy-v1', description: "SocketLabs' legacy v1 Reporting and Suppression API at /v1 (docs/legacy-v1.md)" },
  { name: 'operations', description: 'For operators and their monitoring, not for API clients (docs/operations.md)' },
  { name: 'meta', description: 'This document' },
];

export function openapiOptions() {
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Postline',
      version: packageVersion(),
      description: [
        "Postline's HTTP API: the SocketLabs-compatible Injection API (`/api/v1/email`) and the management API v2",
        "(`/api/v2/servers/{serverId}/...`, SocketLabs' v2 conventions; every v2 path is also served at SocketLabs' own `/v2/...`).",
        'The reference is the `docs/` directory of the Postline source: docs/injection-api.md, docs/api-v2.md',
        '(authentication, envelopes, paging, error codes), docs/webhooks.md and docs/openapi.md (this document, and generating clients from it).',
      ].join(' '),
      license: { name: 'MIT' },
    },
    components: { securitySchemes: SECURITY_SCHEMES },
    tags: TAGS,
  };
}
