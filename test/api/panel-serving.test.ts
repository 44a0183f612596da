/**
 * How the api role serves the control panel (src/api/panel.ts): the built files and the app's
 * client-side routes with the panel's headers, and every API path answering exactly as before the
 * panel existed (the APIs' own 404s, Fastify's default 404 elsewhere). Without a build, the panel's
 * paths answer 503 saying how to build it. Needs dist/web (`npm run build`, which `pretest` runs).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_CACHE, NOT_BUILT_MESSAGE, PAGE_CACHE, PANEL_CSP, PANEL_DIR, isPanelPath, registerPanel } from '../../src/api/panel.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const PANEL_HEADERS = { 'content-security-policy': PANEL_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' };
const fastifyDefault404 = (method: string, url: string) => ({ message: `Route ${method}:${url} not found`, error: 'Not Found', statusCode: 404 });

describe('the control panel as the api role serves it', () => {
  let t: TestApp;
  const index = readFileSync(join(PANEL_DIR, 'index.html'), 'utf8');

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers index.html for / and every page path the app routes, with the panel headers', async () => {
    for (const path of ['/', '/login', '/activity', '/activity?server=10001', '/servers', '/suppressions', '/webhooks', '/no/such/page']) {
      const res = await fetch(t.url + path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      for (const [k, v] of Object.entries(PANEL_HEADERS)) expect([path, k, res.headers.get(k)]).toEqual([path, k, v]);
      expect(res.headers.get('cache-control')).toBe(PAGE_CACHE);
      expect(await res.text()).toBe(index);
    }
    const head = await fetch(`${t.url}/activity`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('serves the hashed assets for a year, with the panel headers; the page has no inline script or style', async () => {
    const assets = readdirSync(join(PANEL_DIR, 'assets'));
    expect(assets.some((a) => /^index-[\w-]+\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /^index-[\w-]+\.css$/.test(a))).toBe(true);
    for (const a of assets) {
      const res = await fetch(`${t.url}/assets/${a}`);
      expect([a, res.status]).toEqual([a, 200]);
      expect(res.headers.get('cache-control')).toBe(ASSET_CACHE);
      expect(res.headers.get('content-type')).toMatch(a.endsWith('.js') ? /javascript/ : /^text\/css/);
      for (const [k, v] of Object.entries(PANEL_HEADERS)) expect(res.headers.get(k)).toBe(v);
    }
    // Every script and stylesheet is a file of this origin (the CSP allows nothing else).
    expect(index).not.toMatch(/<script(?![^>]*\bsrc="\/assets\/)[^>]*>/);
    expect(index).not.toMatch(/<style|\sstyle=/);
    // The app's own code never writes HTML as a string (Preact, inside the bundle, implements the
    // prop; nothing of ours uses it).
    const web = join(import.meta.dirname, '../../web/src');
    for (const f of readdirSync(web, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f))) {
      expect([f, readFileSync(join(web, f), 'utf8')]).not.toEqual([f, expect.stringMatching(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/)]);
    }
  });

  it('leaves every API path and unknown file answering exactly as before the panel', async () => {
    const json = async (method: string, path: string) => {
      const res = await fetch(t.url + path, { method });
      expect(res.headers.get('content-security-policy')).toBeNull();
      return { status: res.status, body: (await res.json()) as unknown };
    };
    // Outside the APIs' scopes: Fastify's default 404, as before.
    for (const path of ['/api', '/api/nope', '/t/nope', '/favicon.ico', '/assets/missing.js', '/healthz/x']) {
      expect(await json('GET', path)).toEqual({ status: 404, body: fastifyDefault404('GET', path) });
    }
    // Only GET and HEAD are pages.
    expect(await json('POST', '/')).toEqual({ status: 404, body: fastifyDefault404('POST', '/') });
    expect(await json('DELETE', '/activity')).toEqual({ status: 404, body: fastifyDefault404('DELETE', '/activity') });
    // Inside them: each API's own not-found answer.
    expect(await json('GET', '/api/v2/nope')).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no route GET /api/v2/nope' } } });
    expect(await json('GET', '/v2/nope')).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no route GET /v2/nope' } } });
    expect(await json('GET', '/v1/nope')).toMatchObject({ status: 404, body: { result: 'NotFound', message: 'no route GET /v1/nope' } });
    expect(await json('GET', '/api/v1/nope')).toMatchObject({ status: 404, body: { ErrorCode: 'InvalidData' } });
    expect((await fetch(`${t.url}/marketing/v1/nope`)).status).toBe(401);
    // The operator routes and the API reference keep their own answers and headers.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
    const docs = await fetch(`${t.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).not.toBe(PANEL_CSP);
    const openapi = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    // The panel is not an API: none of its routes is in the OpenAPI document.
    expect(Object.keys(openapi.paths).filter((p) => p === '/' || p === '/index.html' || p.startsWith('/assets/'))).toEqual([]);
  });

  it("frames only the panel's own origin (the message view's HTML part), and is never framed", () => {
    const directives = new Map(PANEL_CSP.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1).join(' ')]));
    expect(directives.get('frame-src')).toBe("'self'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
  });

  it('tells the app pages from API and file paths', () => {
    for (const p of ['/', '/login', '/activity', '/servers/12', '/apis', '/v10', '/documents']) expect([p, isPanelPath(p)]).toEqual([p, true]);
    for (const p of [
      '/api',
      '/api/v2/x',
      '/v1/x',
      '/v2',
      '/marketing/v1/lists',
      '/t/o/x',
      '/docs',
      '/docs/static/x',
      '/healthz',
      '/readyz',
      '/metrics',
      '/x.png',
      '/a/b.js',
    ]) {
      expect([p, isPanelPath(p)]).toEqual([p, false]);
    }
  });
});

describe('the control panel without a build', () => {
  it('answers 503 with how to build it on the panel paths, and the default 404 elsewhere', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'postline-panel-'));
    const app = Fastify();
    try {
      await registerPanel(app, { dir: empty });
      for (const path of ['/', '/login', '/activity']) {
        const res = await app.inject({ method: 'GET', url: path });
        expect([path, res.statusCode]).toEqual([path, 503]);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.body).toBe(NOT_BUILT_MESSAGE);
        expect(res.body).toContain('npm run build');
        expect(res.headers['content-security-policy']).toBe(PANEL_CSP);
      }
      const api = await app.inject({ method: 'GET', url: '/api/x' });
      expect([api.statusCode, api.json()]).toEqual([404, fastifyDefault404('GET', '/api/x')]);
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
