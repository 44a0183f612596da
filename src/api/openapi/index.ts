/**
 * The OpenAPI 3 document of the HTTP API, generated from the routes' own schemas by
 * @fastify/swagger (dynamic mode), served at GET /api/openapi.json, and browsable at /docs
 * (@fastify/swagger-ui, its assets served from the package: the page loads nothing from
 * elsewhere, and its Content-Security-Policy says so). Register before any route: the generator
 * learns routes from Fastify's onRoute hook, so routes added earlier are missing from the document.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { DOCS_PREFIX, OPENAPI_JSON_PATH, openapiOptions } from './document.js';
import { transformRoute } from './transform.js';

/** A route as registered (method and URL pattern), HEAD routes Fastify adds for GET left out. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after registerOpenApi: what the document must cover (checked by the tests). */
    registeredRoutes: RegisteredRoute[];
  }
}

/**
 * The page's CSP: swagger-ui's own, less what reaches other hosts (`https:` fonts and styles, the
 * validator badge) and `upgrade-insecure-requests`, which would break the page on a plain-HTTP
 * address other than localhost.
 */
export function tightenCsp(header: string): string {
  return (
    header
      .split(';')
      .map((d) => d.trim())
      .filter((d) => d !== '' && d !== 'upgrade-insecure-requests')
      .map((d) =>
        d
          .split(/\s+/)
          .filter((t) => t !== 'https:' && t !== 'validator.swagger.io')
          .join(' '),
      )
      .concat("connect-src 'self'")
      .join('; ') + ';'
  );
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
  });

  await app.register(swagger, { mode: 'dynamic', openapi: openapiOptions(), transform: transformRoute } as Parameters<typeof swagger>[1]);
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: true,
    transformStaticCSP: tightenCsp,
    theme: { title: 'Postline API' },
    uiConfig: { deepLinking: true, validatorUrl: null },
  });

  app.get(
    OPENAPI_JSON_PATH,
    {
      schema: {
        summary: 'This OpenAPI document',
        tags: ['meta'],
        operationId: 'getOpenApiDocument',
        description: "Generated from the routes' own schemas; no key needed. A browsable version is at /docs.",
        response: { 200: { type: 'object', additionalProperties: true, description: 'an OpenAPI 3 document' } },
      },
    },
    async (_req, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
}
