import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { buildMergeLookup, type MergeRow } from '../../src/merge/template.js';
import { resolveLink, rewriteHtml } from '../../src/tracking/rewrite.js';
import { TRANSPARENT_GIF, trackingRoutes, type EngagementHistory, type TrackingBackend, type TrackingEvent } from '../../src/tracking/routes.js';
import { TrackingTokens } from '../../src/tracking/token.js';
import { TrackingUrls } from '../../src/tracking/urls.js';

const SECRET = 'routes-test-secret-0123456789abcdef';
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const NOW = 1_750_000_000_000;

/** An in-memory backend over one rewritten message: what the store will do, minus the store. */
class FakeBackend implements TrackingBackend {
  events: TrackingEvent[] = [];
  unsubscribed: TrackingEvent[] = [];
  linkCalls = 0;
  failRecord = false;
  failLinks = false;
  failUnsubscribe = false;
  readonly links = new Map<string, { links: readonly string[]; merge: MergeRow[] }>();
  readonly histories = new Map<string, EngagementHistory>();

  async linkFor(recipientId: string, index: number): Promise<string | null> {
    this.linkCalls++;
    if (this.failLinks) throw new Error('store down');
    const r = this.links.get(recipientId);
    const link = r?.links[index];
    // Returned as stored when not http(s): the route itself must refuse to redirect there.
    return link === undefined ? null : /^https?:/i.test(link) ? resolveLink(link, buildMergeLookup(r!.merge, undefined)) : link;
  }
  async history(recipientId: string): Promise<EngagementHistory | null> {
    return this.histories.get(recipientId) ?? null;
  }
  async record(event: TrackingEvent): Promise<void> {
    if (this.failRecord) throw new Error('store down');
    this.events.push(event);
  }
  async unsubscribe(event: TrackingEvent): Promise<void> {
    if (this.failUnsubscribe) throw new Error('store down');
    this.unsubscribed.push(event);
  }
}

describe('tracking routes over HTTP', () => {
  let app: FastifyInstance;
  let base: string;
  let urls: TrackingUrls;
  const tokens = new TrackingTokens(SECRET);
  const backend = new FakeBackend();
  const html =
    '<html><body><a href="https://shop.example/sale?a=1&amp;b=2">Sale</a>' +
    '<a href="https://shop.example/u/%%UserId%%">Account</a><a href="javascript:void(0)">x</a></body></html>';
  const tracked = rewriteHtml(html);
  let clock = NOW;

  const get = (url: string, init: RequestInit = {}) =>
    fetch(url, { redirect: 'manual', ...init, headers: { 'user-agent': BROWSER, ...(init.headers as Record<string, string> | undefined) } });
  const addRecipient = (merge: Record<string, string> = {}, links: readonly string[] = tracked.links) => {
    const id = newId();
    backend.links.set(id, { links, merge: Object.entries(merge).map(([field, value]) => ({ field, value })) });
    return id;
  };

  beforeAll(async () => {
    app = Fastify({ logger: false });
    await app.register(trackingRoutes, { tokens, backend, now: () => clock });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    urls = new TrackingUrls(base, tokens);
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    backend.events = [];
    backend.unsubscribed = [];
    backend.failRecord = backend.failLinks = backend.failUnsubscribe = false;
    clock += 60_000;
  });

  describe('open pixel', () => {
    it('answers the 43-byte transparent GIF, uncacheable, and records the open', async () => {
      const id = addRecipient();
      const r = await get(urls.open(id));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/gif');
      expect(r.headers.get('content-length')).toBe('43');
      expect(r.headers.get('cache-control')).toContain('no-store');
      expect(r.headers.get('pragma')).toBe('no-cache');
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(bytes.equals(TRANSPARENT_GIF)).toBe(true);
      expect(bytes.length).toBe(43);
      expect(bytes.subarray(0, 6).toString('latin1')).toBe('GIF89a');
      expect(backend.events).toEqual([
        {
          kind: 'open',
          trackingType: 1,
          recipientId: id,
          linkIndex: null,
          url: null,
          userAgent: BROWSER,
          clientIp: '127.0.0.1',
          machine: false,
          reason: null,
          at: clock,
        },
      ]);
    });

    it('answers the GIF for a bad token too, recording nothing, so no broken image ever shows', async () => {
      const id = addRecipient();
      const good = urls.open(id);
      const tampered = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
      const odd = [`${base}/t/o/garbage`, `${base}/t/o/${'A'.repeat(300)}`, `${base}/t/o/${good.slice(good.lastIndexOf('/') + 1)}/extra`, `${base}/t/o/`];
      for (const url of [tampered, ...odd, urls.click(id, 0).replace('/t/c/', '/t/o/'), urls.unsubscribe(id).replace('/t/u/', '/t/o/')]) {
        const r = await get(url);
        expect(r.status, url).toBe(200);
        expect(Buffer.from(await r.arrayBuffer()).equals(TRANSPARENT_GIF)).toBe(true);
      }
      expect(backend.events).toEqual([]);
    });

    it('records machine opens with their reason', async () => {
      const id = addRecipient();
      await get(urls.open(id), { headers: { 'user-agent': 'Mozilla/5.0' } });
      await get(urls.open(id), { method: 'HEAD' });
      expect(backend.events.map((e) => [e.kind, e.machine, e.reason])).toEqual([
        ['open', true, 'apple-privacy-proxy'],
        ['open', true, 'head-request'],
      ]);
    });

    it('still answers the GIF when recording fails', async () => {
      backend.failRecord = true;
      const r = await get(urls.open(addRecipient()));
      expect(r.status).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(TRANSPARENT_GIF)).toBe(true);
    });
  });

  describe('click redirect', () => {
    it('redirects to the stored link, HTML-decoded, and records the click', async () => {
      const id = addRecipient();
      const r = await get(urls.click(id, 0));
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe('https://shop.example/sale?a=1&b=2');
      expect(r.headers.get('location')).toBe(tracked.links[0]);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(backend.events).toEqual([
        {
          kind: 'click',
          trackingType: 0,
          recipientId: id,
          linkIndex: 0,
          url: 'https://shop.example/sale?a=1&b=2',
          userAgent: BROWSER,
          clientIp: '127.0.0.1',
          machine: false,
          reason: null,
          at: clock,
        },
      ]);
    });

    it('follows a link from the rendered body to the link with the recipient’s merge fields', async () => {
      const id = addRecipient({ UserId: 'u-42' });
      const body = tracked.render((i) => urls.click(id, i), urls.open(id));
      const account = [...body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!)[1]!;
      expect(account).toBe(urls.click(id, 1));
      const r = await get(account);
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe('https://shop.example/u/u-42');
    });

    it('answers 404 without a Location and records nothing for tampered, foreign or unknown tokens', async () => {
      const id = addRecipient();
      const good = urls.click(id, 0);
      const token = good.slice(good.lastIndexOf('/') + 1);
      const flipped = [...token].map((c, i) => (i === 20 ? (c === 'A' ? 'B' : 'A') : c)).join('');
      const other = new TrackingUrls(base, new TrackingTokens('some-other-secret-0123456789abcd')).click(id, 0);
      const bad = [
        `${base}/t/c/${flipped}`,
        `${base}/t/c/${token.slice(0, -2)}`,
        other,
        urls.open(id).replace('/t/o/', '/t/c/'),
        urls.unsubscribe(id).replace('/t/u/', '/t/c/'),
        `${base}/t/c/https%3A%2F%2Fevil.example%2F`,
      ];
      const before = backend.linkCalls;
      for (const url of bad) {
        const r = await get(url);
        expect(r.status, url).toBe(404);
        expect(r.headers.get('location'), url).toBeNull();
        expect(await r.text()).toBe('Not found\n');
      }
      expect(backend.linkCalls).toBe(before); // a bad token never reaches the store
      // Valid tokens for links or recipients the store does not know, or stored non-http links.
      const unsafe = addRecipient({}, ['javascript:alert(1)', 'data:text/html,<b>x</b>']);
      for (const url of [urls.click(id, 7), urls.click(newId(), 0), urls.click(id, 2), urls.click(unsafe, 0), urls.click(unsafe, 1)]) {
        const r = await get(url);
        expect(r.status, url).toBe(404);
        expect(r.headers.get('location')).toBeNull();
      }
      expect(backend.events).toEqual([]);
    });

    it('still redirects when recording fails, and answers 503 when the link cannot be looked up', async () => {
      const id = addRecipient();
      backend.failRecord = true;
      const r = await get(urls.click(id, 0));
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe(tracked.links[0]);
      backend.failRecord = false;
      backend.failLinks = true;
      const down = await get(urls.click(id, 0));
      expect(down.status).toBe(503);
      expect(down.headers.get('location')).toBeNull();
      expect(backend.events).toEqual([]);
    });

    it('flags clicks too soon after delivery, bursts over several links, and HEAD probes', async () => {
      const fresh = addRecipient();
      backend.histories.set(fresh, { deliveredAt: clock - 500 });
      await get(urls.click(fresh, 0));
      const scanned = addRecipient();
      await get(urls.click(scanned, 0));
      await get(urls.click(scanned, 1));
      const probed = addRecipient();
      const head = await get(urls.click(probed, 0), { method: 'HEAD' });
      expect(head.status).toBe(302);
      expect(backend.events.map((e) => [e.recipientId, e.linkIndex, e.machine, e.reason])).toEqual([
        [fresh, 0, true, 'click-too-soon'],
        [scanned, 0, false, null],
        [scanned, 1, true, 'click-burst'],
        [probed, 0, true, 'head-request'],
      ]);
    });
  });

  describe('unsubscribe', () => {
    it('GET shows a confirmation form posting back, and unsubscribes no one', async () => {
      const id = addRecipient();
      const r = await get(urls.unsubscribe(id));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      const page = await r.text();
      expect(page).toContain('<form method="post">');
      expect(page).not.toContain('action=');
      expect(backend.unsubscribed).toEqual([]);
      expect(backend.events).toEqual([]);
      const bad = await get(urls.open(id).replace('/t/o/', '/t/u/'));
      expect(bad.status).toBe(404);
      expect(await bad.text()).toContain('not valid');
    });

    it('POST with the RFC 8058 one-click body unsubscribes and answers a plain 200', async () => {
      const id = addRecipient();
      const r = await get(urls.unsubscribe(id), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await r.text()).toBe('Unsubscribed\n');
      expect(backend.unsubscribed).toEqual([
        {
          kind: 'unsubscribe',
          trackingType: 2,
          recipientId: id,
          linkIndex: null,
          url: null,
          userAgent: BROWSER,
          clientIp: '127.0.0.1',
          machine: false,
          reason: null,
          at: clock,
        },
      ]);
    });

    it('accepts the one-click body as multipart/form-data too', async () => {
      const id = addRecipient();
      const form = new FormData();
      form.set('List-Unsubscribe', 'One-Click');
      const r = await get(urls.unsubscribe(id), { method: 'POST', body: form });
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('Unsubscribed\n');
      expect(backend.unsubscribed.map((e) => e.recipientId)).toEqual([id]);
    });

    it('POST from the confirmation form unsubscribes and answers a page', async () => {
      const id = addRecipient();
      const r = await get(urls.unsubscribe(id), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=1' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await r.text()).toContain('You have been unsubscribed.');
      const empty = await get(urls.unsubscribe(id), { method: 'POST' });
      expect(empty.status).toBe(200);
      expect(backend.unsubscribed.map((e) => e.recipientId)).toEqual([id, id]);
    });

    it('refuses tampered and other-kind tokens, and answers 500 when the store fails', async () => {
      const id = addRecipient();
      const good = urls.unsubscribe(id);
      for (const url of [good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A'), urls.open(id).replace('/t/o/', '/t/u/')]) {
        const r = await get(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
        expect(r.status, url).toBe(404);
      }
      expect(backend.unsubscribed).toEqual([]);
      backend.failUnsubscribe = true;
      const r = await get(good, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      expect(r.status).toBe(500);
    });
  });
});
