import { describe, expect, it } from 'vitest';
import { InboundRouteTable, parseMatch, routeFor } from '../../src/inbound/route-table.js';
import { ByteBudget } from '../../src/inbound/byte-budget.js';
import { decideMxRcpt, mailboxFor, mxAddressesOf } from '../../src/mx/recipient-policy.js';
import type { InboundRouteEntry } from '../../src/store/inbound.js';
import { createTestDb } from '../helpers/stores.js';
import { ensureBootstrap } from '../../src/accept/bootstrap.js';

const entry = (id: number, match: string, enabled = true): InboundRouteEntry => ({
  id,
  serverId: 1,
  match,
  kind: match.includes('@') ? 'address' : 'domain',
  enabled,
});

describe('inbound route matching', () => {
  it.each([
    ['Example.COM', { ok: true, match: 'example.com', kind: 'domain' }],
    [' mail.example.co.uk ', { ok: true, match: 'mail.example.co.uk', kind: 'domain' }],
    ['Support@Example.com', { ok: true, match: 'support@example.com', kind: 'address' }],
    ['localhost', { ok: false }],
    ['-bad.example', { ok: false }],
    ['exa mple.com', { ok: false }],
    ['a@', { ok: false }],
    ['', { ok: false }],
  ] as const)('parseMatch(%j)', (input, expected) => {
    expect(parseMatch(input)).toMatchObject(expected);
  });

  it('an address route wins over its domain route; case is ignored; other domains and subdomains do not match', () => {
    const routes = new Map([entry(1, 'example.com'), entry(2, 'support@example.com')].map((e) => [e.match, e]));
    expect(routeFor('SUPPORT@Example.com', routes)?.id).toBe(2);
    expect(routeFor('sales@EXAMPLE.com', routes)?.id).toBe(1);
    expect(routeFor('sales@sub.example.com', routes)).toBeNull();
    expect(routeFor('support@example.org', routes)).toBeNull();
  });

  it('the MX policy: own mailboxes first, routed addresses accepted, disabled routes and the rest refused', () => {
    const book = mxAddressesOf({ bounceDomain: null, hostname: 'postline.test', complaintAddress: null });
    const rcpt = (address: string, route: InboundRouteEntry | null) => decideMxRcpt({ address, book, recipientCount: 0, alreadyListed: false, route });
    expect(mailboxFor('b@postline.test', book, entry(1, 'postline.test'))).toBe('bounce');
    expect(mailboxFor('x@example.com', book, entry(1, 'example.com'))).toBe('inbound');
    expect(rcpt('x@example.com', entry(1, 'example.com'))).toEqual({ ok: true });
    expect(rcpt('x@example.com', entry(1, 'example.com', false))).toMatchObject({ ok: false, code: 550, message: expect.stringMatching(/^5\.2\.1 /) });
    expect(rcpt('x@example.com', null)).toMatchObject({ ok: false, code: 550, message: expect.stringMatching(/^5\.7\.1 /) });
  });
});

describe('the routing table over the store', () => {
  it('keeps what it read for its TTL, and reads again at once after invalidate()', async () => {
    const db = await createTestDb();
    const store = await db.open();
    try {
      const { credentials } = await ensureBootstrap(store, db.dataDir, Date.now());
      let now = 1_000;
      const table = new InboundRouteTable(store, () => now, 5_000);
      expect(await table.lookup('a@one.example')).toBeNull();
      const route = await store.inbound.createRoute(
        {
          serverId: credentials.serverId,
          match: 'one.example',
          kind: 'domain',
          url: 'https://x.example/',
          secretKey: 'k',
          signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          enabled: true,
          validatedAt: null,
        },
        Date.now(),
      );
      expect(await table.lookup('a@one.example')).toBeNull(); // cached
      now += 5_000;
      expect((await table.lookup('a@one.example'))?.id).toBe(route!.id);
      await store.inbound.deleteRoute(credentials.serverId, route!.id);
      table.invalidate();
      expect(await table.lookup('a@one.example')).toBeNull();
    } finally {
      await store.close();
      await db.drop();
    }
  });
});

describe('the byte budget of the poster', () => {
  it('holds requests past the limit until bytes are released, first come first served; a lone oversized one passes', async () => {
    const budget = new ByteBudget(100);
    const order: string[] = [];
    const a = await budget.acquire(60);
    const b = budget.acquire(60).then((r) => {
      order.push('b');
      return r;
    });
    const c = budget.acquire(10).then((r) => {
      order.push('c');
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect([order, budget.inUse]).toEqual([[], 60]);
    a();
    const rb = await b;
    const rc = await c;
    expect([order, budget.inUse]).toEqual([['b', 'c'], 70]);
    rb();
    rc();
    const big = await budget.acquire(500);
    expect(budget.inUse).toBe(500);
    big();
    big(); // releasing twice changes nothing
    expect(budget.inUse).toBe(0);
  });
});
