import type { FastifyInstance } from 'fastify';

/**
 * The methods each route of one API answers, so that API's not-found handler can tell a wrong
 * method (405 with `Allow`) from a path it does not serve (404). Fastify answers both alike and
 * does not expose its router's matching, so each API keeps this index of its own routes.
 */
export class RouteIndex {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  add(methods: string | readonly string[], url: string): void {
    const pattern = patternOf(url);
    const known = this.routes.find((r) => r.pattern.source === pattern.source);
    const entry = known ?? { pattern, methods: new Set<string>() };
    if (!known) this.routes.push(entry);
    for (const m of typeof methods === 'string' ? [methods] : methods) entry.methods.add(m.toUpperCase());
  }

  /** The methods some route serves at `path` (no query string), sorted; empty when none does. */
  allowedMethods(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}

/** `/servers/:serverId/x` -> /^\/servers\/[^/]+\/x$/ (a `:param(regex)` counts as any one segment, `*` as the rest). */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      return segment.replace(/:[A-Za-z0-9_]+(\([^)]*\))?|[.*+?^${}()|[\]\\]/g, (m) => (m.startsWith(':') ? '[^/]+' : `\\${m}`));
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

/** An index of every route registered in `app` (and its child plugins) from now on. */
export function indexRoutes(app: FastifyInstance): RouteIndex {
  const index = new RouteIndex();
  app.addHook('onRoute', (route) => index.add(route.method, route.url));
  return index;
}

/** The path of a request URL, without its query string. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
