/**
 * Where the management API is served. Its routes are registered once, under `/api/v2`; SocketLabs
 * serves the same API at `/v2`, so a request to `/v2/...` is rewritten onto `/api/v2/...` before
 * routing (Fastify's `rewriteUrl`): one route table, two spellings of its paths. A trailing slash
 * on a v2 path is dropped the same way, because SocketLabs' own paths sometimes carry one
 * (`reports/recipient-search/`) and its clients send them as written.
 */
export const API_V2_PREFIX = '/api/v2';
/** SocketLabs' prefix of the same API (`https://api.socketlabs.com/v2`). */
export const SOCKETLABS_V2_PREFIX = '/v2';

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** The URL the router sees: `/v2/...` as `/api/v2/...`, without a v2 path's trailing slash; any other URL unchanged. */
export function rewriteV2Url(url: string): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (under(path, SOCKETLABS_V2_PREFIX)) path = `/api${path}`;
  else if (!under(path, API_V2_PREFIX)) return url;
  if (path.length > API_V2_PREFIX.length + 1) path = path.replace(/\/+$/, '');
  return q === -1 ? path : path + url.slice(q);
}
