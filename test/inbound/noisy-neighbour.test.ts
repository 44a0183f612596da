import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startHoldingReceiver, startReceiver, until, type HoldingReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import { newId } from '../../src/core/ids.js';
import { INBOUND_POSTS_PER_ROUTE } from '../../src/inbound/poster.js';

/**
 * Two tenants' inbound routes: one whose endpoint holds every POST open, one that answers at once.
 * The slow route's mail is older and more than the poster has slots, so a poster that filled its
 * slots in order would hold the healthy route's mail behind it.
 */
describe(`inbound routes do not hold each other back (${TEST_STORE_KIND})`, () => {
  const SLOW_MESSAGES = 40;
  const FAST_MESSAGES = 20;
  let t: TestApp;
  let slow: HoldingReceiver;
  let fast: WebhookReceiver;

  beforeAll(async () => {
    // The slow receiver answers when the test lets it, or after 15 s at the latest; the poster waits 20 s.
    slow = await startHoldingReceiver(15_000);
    fast = await startReceiver();
    t = await startTestApp({ roles: ['webhooks'], config: { webhookAllowCidrs: ['127.0.0.1'] }, webhooks: { pollMs: 50, timeoutMs: 20_000 } });
  });
  afterAll(async () => {
    await t?.close();
    await slow?.close();
    await fast?.close();
  });

  it('every message of the healthy route is posted while the slow route still holds its posts; then the slow route gets all of its own', async () => {
    const now = Date.now();
    const slowServer = t.credentials.serverId;
    const account = await t.store.tenancy.createAccount('Healthy tenant', now);
    const fastServer = (await t.store.tenancy.createServer({ accountId: account.id, name: 'Healthy' }, now)).id;
    const route = async (serverId: number, match: string, url: string) =>
      (await t.store.inbound.createRoute(
        {
          serverId,
          match,
          kind: 'domain',
          url,
          secretKey: 'K',
          signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          enabled: true,
          validatedAt: now,
        },
        now,
      ))!;
    const slowRoute = await route(slowServer, 'slow.example', slow.url);
    const fastRoute = await route(fastServer, 'fast.example', fast.url);
    const mail = (to: string, receivedAt: number) => ({
      id: newId(receivedAt),
      mailFrom: 'a@sender.example',
      remoteIp: '127.0.0.1',
      helo: 'sender.example',
      receivedAt,
      raw: Buffer.from(`From: a@sender.example\r\nTo: ${to}\r\nSubject: ${to}\r\n\r\nbody\r\n`),
    });
    // One commit: both routes' posts are due together, the slow route's first.
    await t.store.inbound.commitMessages([
      ...Array.from({ length: SLOW_MESSAGES }, (_, i) => ({
        ...mail(`s${i}@slow.example`, now),
        posts: [{ routeId: slowRoute.id, serverId: slowServer, rcptTo: `s${i}@slow.example` }],
      })),
      ...Array.from({ length: FAST_MESSAGES }, (_, i) => ({
        ...mail(`f${i}@fast.example`, now + 1),
        posts: [{ routeId: fastRoute.id, serverId: fastServer, rcptTo: `f${i}@fast.example` }],
      })),
    ]);

    await until(
      () => (fast.received.length >= FAST_MESSAGES ? true : undefined),
      () => ({ fast: fast.received.length, slowOpen: slow.open, slowAnswered: slow.answered.length }),
    );
    expect(slow.answered.length).toBe(0);
    expect(slow.open).toBeGreaterThan(0);
    expect(slow.maxOpen).toBeLessThanOrEqual(INBOUND_POSTS_PER_ROUTE);
    expect(new Set(fast.received.map((r) => r.json!.InboundRcptTo))).toEqual(new Set(Array.from({ length: FAST_MESSAGES }, (_, i) => `f${i}@fast.example`)));

    slow.release();
    await until(
      () => (slow.answered.length >= SLOW_MESSAGES ? true : undefined),
      () => slow.answered.length,
      60_000,
    );
    expect(new Set(slow.answered.map((r) => r.json!.InboundRcptTo))).toEqual(new Set(Array.from({ length: SLOW_MESSAGES }, (_, i) => `s${i}@slow.example`)));
    expect(slow.maxOpen).toBeLessThanOrEqual(INBOUND_POSTS_PER_ROUTE);
  }, 90_000);
});
