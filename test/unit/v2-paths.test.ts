import { describe, expect, it } from 'vitest';
import { rewriteV2Url } from '../../src/api/v2/paths.js';
import { RouteIndex, pathOf } from '../../src/api/route-index.js';

describe('rewriteV2Url: SocketLabs /v2 paths onto the one /api/v2 route table', () => {
  it('maps /v2/... onto /api/v2/..., keeping the query string', () => {
    expect(rewriteV2Url('/v2/servers/1/suppressions?emailAddress=a@b.c')).toBe('/api/v2/servers/1/suppressions?emailAddress=a@b.c');
    expect(rewriteV2Url('/v2')).toBe('/api/v2');
    expect(rewriteV2Url('/v2/')).toBe('/api/v2/');
  });
  it("drops a v2 path's trailing slash under either prefix, before the query string", () => {
    expect(rewriteV2Url('/v2/servers/1/reports/recipient-search/?pageSize=5')).toBe('/api/v2/servers/1/reports/recipient-search?pageSize=5');
    expect(rewriteV2Url('/api/v2/servers/1/reports/recipient-search/')).toBe('/api/v2/servers/1/reports/recipient-search');
  });
  it('leaves every other URL as it is', () => {
    for (const url of ['/api/v1/email', '/v1/suppressions?serverId=1', '/v20/x', '/v2x', '/marketing/v1/lists/', '/healthz', '/api/v20/x']) {
      expect(rewriteV2Url(url)).toBe(url);
    }
  });
});

describe('RouteIndex: which methods a path is served with', () => {
  const index = new RouteIndex();
  index.add(['GET', 'HEAD'], '/api/v2/servers/:serverId/webhooks/:webhookId');
  index.add('DELETE', '/api/v2/servers/:serverId/webhooks/:webhookId');
  index.add('POST', '/api/v2/servers/:serverId/webhooks/:webhookId/replay');
  index.add('GET', '/files/*');
  index.add('GET', '/a.b');

  it('matches parameters as one segment each and lists every method, sorted', () => {
    expect(index.allowedMethods('/api/v2/servers/1/webhooks/7')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(index.allowedMethods('/api/v2/servers/1/webhooks/7/replay')).toEqual(['POST']);
    expect(index.allowedMethods('/api/v2/servers/1/webhooks')).toEqual([]);
    expect(index.allowedMethods('/api/v2/servers/1/2/webhooks/7')).toEqual([]);
  });
  it('treats * as the rest of the path and other characters literally', () => {
    expect(index.allowedMethods('/files/x/y')).toEqual(['GET']);
    expect(index.allowedMethods('/a.b')).toEqual(['GET']);
    expect(index.allowedMethods('/aXb')).toEqual([]);
  });
  it('pathOf drops the query string', () => {
    expect(pathOf('/x/y?z=1')).toBe('/x/y');
    expect(pathOf('/x')).toBe('/x');
  });
});
