import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import type { RegisteredRoute } from '../../src/api/openapi/index.js';

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Fastify's `/a/:id/*` as the document writes it: `/a/{id}/{*}`. */
const docPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Routes under /api/ that are exempt from needing a 4xx response, and why. Nothing else is:
 * a route added without schemas shows up in `holes` below.
 */
const NO_4XX: Record<string, string> = {
  'GET /api/openapi.json': 'takes no input and needs no key: there is nothing to refuse',
};

/** Every way a registered /api/ route falls short of the document, one sentence each (empty: none). */
function holes(routes: readonly RegisteredRoute[], doc: OpenApiDoc): string[] {
  const out: string[] = [];
  for (const r of routes) {
    if (!r.url.startsWith('/api/')) continue;
    const name = `${r.method} ${r.url}`;
    const op = doc.paths[docPath(r.url)]?.[r.method.toLowerCase()];
    if (!op) {
      out.push(`${name} is not in the document (no schema, or hidden)`);
      continue;
    }
    if (!op.summary) out.push(`${name} has no summary`);
    if (!op.tags || op.tags.length === 0) out.push(`${name} has no tags`);
    const statuses = Object.keys(op.responses ?? {});
    if (!statuses.some((s) => /^2(\d\d|XX)$/.test(s))) out.push(`${name} documents no 2xx response`);
    if (!(name in NO_4XX) && !statuses.some((s) => /^4(\d\d|XX)$/.test(s))) out.push(`${name} documents no 4xx response`);
    for (const p of r.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
      if (!op.parameters?.some((x) => x.in === 'path' && x.name === p[1])) out.push(`${name} does not declare its path parameter ${p[1]}`);
    }
    // A response described only as "Default Response" with no schema: the route declared none.
    // (A 204 has no content by definition, RFC 9110 §15.3.5: its description is all there is.)
    const ok = statuses.find((s) => s.startsWith('2'));
    if (ok && ok !== '204' && op.responses[ok]!.content === undefined && r.method !== 'HEAD') out.push(`${name} has no schema for its ${ok} response`);
  }
  return out;
}

/** Every `$ref` in the document, with whether it resolves inside the document. */
function refs(doc: unknown): { ref: string; resolves: boolean }[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') found.push(x);
        else walk(x);
      }
    }
  };
  walk(doc);
  return found.map((ref) => {
    if (!ref.startsWith('#/')) return { ref, resolves: false };
    let at: unknown = doc;
    for (const part of ref
      .slice(2)
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
      at = at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
    }
    return { ref, resolves: at !== undefined };
  });
}

describe(`OpenAPI document and /docs (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let doc: OpenApiDoc;
  let text: string;
  const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

  beforeAll(async () => {
    t = await startTestApp();
    const res = await fetch(`${t.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    text = await res.text();
    doc = JSON.parse(text) as OpenApiDoc;
  });
  afterAll(async () => {
    await t.close();
  });

  it('is an OpenAPI 3 document titled Postline, versioned as package.json, pointing to docs/', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toBe('Postline');
    expect(doc.info.version).toBe(PACKAGE_VERSION);
    expect(doc.info.description).toContain('docs/api-v2.md');
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
      session: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'postline_session' }),
    });
  });

  it('documents every /api/ route Fastify registered, with summary, tags, parameters, a 2xx and a 4xx response', () => {
    const routes = t.app.http!.registeredRoutes;
    const api = routes.filter((r) => r.url.startsWith('/api/'));
    // The v1 injection route, the document itself, and the v2 resources.
    expect(api.some((r) => r.url === '/api/v1/email')).toBe(true);
    expect(api.filter((r) => r.url.startsWith('/api/v2/')).length).toBeGreaterThanOrEqual(15);
    expect(holes(routes, doc)).toEqual([]);
  });

  it('the coverage check names a route added without schemas', () => {
    const added = [...t.app.http!.registeredRoutes, { method: 'GET', url: '/api/v2/servers/:serverId/widgets/:widgetId' }];
    expect(holes(added, doc)).toEqual(['GET /api/v2/servers/:serverId/widgets/:widgetId is not in the document (no schema, or hidden)']);
    const bare: OpenApiDoc = structuredClone(doc);
    const op = bare.paths['/api/v2/servers/{serverId}/webhooks/{webhookId}']!.get!;
    delete op.summary;
    op.tags = [];
    op.responses = { 200: {} };
    op.parameters = op.parameters!.filter((p) => p.name !== 'webhookId');
    expect(holes(t.app.http!.registeredRoutes, bare)).toEqual([
      'GET /api/v2/servers/:serverId/webhooks/:webhookId has no summary',
      'GET /api/v2/servers/:serverId/webhooks/:webhookId has no tags',
      'GET /api/v2/servers/:serverId/webhooks/:webhookId documents no 4xx response',
      'GET /api/v2/servers/:serverId/webhooks/:webhookId does not declare its path parameter webhookId',
      'GET /api/v2/servers/:serverId/webhooks/:webhookId has no schema for its 200 response',
    ]);
  });

  it('has unique operationIds, v2 operations secured by Bearer, Basic or the session cookie, and every $ref resolving', () => {
    const ids = operations().map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations().filter((o) => o.path.startsWith('/api/v2/'))) {
      expect([method, path, op.security]).toEqual([method, path, [{ bearer: [] }, { basic: [] }, { session: [] }]]);
    }
    expect(refs(doc).filter((r) => !r.resolves)).toEqual([]);
    // The document round-trips as JSON (nothing undefined or cyclic was dropped).
    expect(JSON.parse(JSON.stringify(doc))).toEqual(JSON.parse(text));
  });

  it('leaves out what is not an API (tracking links, the docs page) and shows operator routes as such', () => {
    const paths = Object.keys(doc.paths);
    expect(paths.filter((p) => p.startsWith('/t/') || p.startsWith('/docs'))).toEqual([]);
    // The tracking routes exist; they are only hidden.
    expect(t.app.http!.registeredRoutes.some((r) => r.url.startsWith('/t/'))).toBe(true);
    for (const p of ['/metrics', '/healthz', '/readyz']) expect([p, doc.paths[p]?.get?.tags]).toEqual([p, ['operations']]);
  });

  it('describes the Injection API by its SocketLabs request and response, JSON and XML, Bearer or body key', () => {
    const op = doc.paths['/api/v1/email']!.post!;
    expect(op.tags).toEqual(['injection']);
    expect(op.security).toEqual([{ bearer: [] }, {}]);
    expect(Object.keys(op.requestBody!.content).sort()).toEqual(['application/json', 'application/xml']);
    const req = op.requestBody!.content['application/json']!.schema as {
      description: string;
      properties: Record<string, { items?: { properties: Record<string, unknown> } }>;
    };
    expect(Object.keys(req.properties)).toEqual(['ServerId', 'ApiKey', 'Messages']);
    expect(Object.keys(req.properties.Messages!.items!.properties).sort()).toEqual(
      [
        'Attachments',
        'Bcc',
        'Cc',
        'Charset',
        'CustomHeaders',
        'From',
        'HtmlBody',
        'MailingId',
        'MergeData',
        'MessageId',
        'Metadata',
        'ReplyTo',
        'Subject',
        'Tags',
        'TextBody',
        'To',
        'AmpBody',
        'ApiTemplate',
      ].sort(),
    );
    expect(req.description).toMatch(/case-insensitively/);
    expect(req.description).toMatch(/XML/);
    expect(Object.keys(op.responses['200']!.content!).sort()).toEqual(['application/json', 'application/xml']);
    const res = op.responses['200']!.content!['application/json']!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(res.properties)).toEqual(['ErrorCode', 'MessageResults', 'TransactionReceipt']);
  });

  it('the documentation schema does not validate the injection body: casing variants, strings and unknown fields still work', async () => {
    // Keys in capitals, ServerId as a string, an unknown property: a Fastify schema would refuse or alter all three.
    const r = await inject(t, {
      SERVERID: String(t.credentials.serverId),
      APIKEY: t.credentials.apiKey,
      XExtra: { anything: true },
      MESSAGES: [{ TO: ['casing@example.com'], FROM: { EMAILADDRESS: 'from@example.com' }, SUBJECT: 'S', TEXTBODY: 'T', charSet: 'utf-8' }],
    });
    expect([r.status, r.text]).toEqual([200, '{"ErrorCode":"Success","MessageResults":[],"TransactionReceipt":null}']);
    const xml =
      `<?xml version="1.0"?><PostBody><ServerId>${t.credentials.serverId}</ServerId><ApiKey>${t.credentials.apiKey}</ApiKey>` +
      '<Messages><EmailMessage><Subject>x</Subject><TextBody>y</TextBody><To><Address><EmailAddress>xml@example.com</EmailAddress></Address></To>' +
      '<From><EmailAddress>from@example.com</EmailAddress></From></EmailMessage></Messages></PostBody>';
    const x = await inject(t, undefined, { raw: xml, contentType: 'application/xml' });
    expect(x.body.ErrorCode).toBe('Success');
    // A refusal is still the route's own: HTTP 200, the three properties, InvalidData.
    const bad = await inject(t, undefined, { raw: '{"ServerId": ' });
    expect([bad.status, bad.body.ErrorCode, Object.keys(bad.body)]).toEqual([200, 'InvalidData', ['ErrorCode', 'MessageResults', 'TransactionReceipt']]);
  });

  it('serves /docs without a key, from local assets only', async () => {
    const page = await fetch(`${t.url}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    // No source on another host may be allowed: only 'self', data: and the like.
    expect(csp.split(/[\s;]+/).filter((tok) => /^(https?:|\*|[a-z0-9.-]+\.[a-z]{2,})/i.test(tok))).toEqual([]);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const a of assets) {
      expect([a, /^(https?:)?\/\//i.test(a)]).toEqual([a, false]);
      const got = await fetch(new URL(a, `${t.url}/docs/`));
      expect([a, got.status]).toEqual([a, 200]);
      await got.arrayBuffer();
    }
    const init = await (await fetch(`${t.url}/docs/static/swagger-initializer.js`)).text();
    expect(init).toContain('validatorUrl: null');
    expect(init).toContain("resolveUrl('./json')");
    // What the page loads is the same document.
    expect(await (await fetch(`${t.url}/docs/json`)).json()).toEqual(doc);
    expect((await fetch(`${t.url}/docs`)).status).toBe(200);
  });

  it('v2 answers are unchanged by the generator: a missing key is still 401', async () => {
    const key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    const base = `/servers/${t.credentials.serverId}/webhooks`;
    expect((await v2(t, 'GET', base, { key: null })).status).toBe(401);
    const ok = await v2<{ data: unknown[]; total: number }>(t, 'GET', base, { key });
    expect([ok.status, ok.body.total]).toEqual([200, 0]);
  });
});
