import { describe, expect, it } from 'vitest';
import { WebhookDispatcher, type WebhookDispatcherDeps } from '../../src/webhooks/dispatcher.js';
import { InboundPoster, type InboundPosterDeps } from '../../src/inbound/poster.js';
import { createUrlGuard } from '../../src/net/url-guard.js';
import { createLogger } from '../../src/core/log.js';
import type { Store } from '../../src/store/store.js';

/** The lane limits are refused when they could not hold: nothing starts, nothing is claimed. */
describe('webhook and inbound lane limits', () => {
  const store = new Proxy(
    {},
    {
      get: () => () => {
        throw new Error('the store must not be touched');
      },
    },
  ) as unknown as Store;
  const base = { store, log: createLogger('silent'), now: Date.now, guard: createUrlGuard(), workerId: 'w' };
  const dispatcher = (o: Partial<WebhookDispatcherDeps>) => () => new WebhookDispatcher({ ...base, ...o });

  it('refuses a dispatcher with no posts per endpoint, or fewer rows held than posts', () => {
    expect(dispatcher({ postsPerEndpoint: 0 })).toThrow('webhook postsPerEndpoint must be at least 1 and heldPerEndpoint at least postsPerEndpoint');
    expect(dispatcher({ postsPerEndpoint: Number.NaN })).toThrow(/postsPerEndpoint must be at least 1/);
    expect(dispatcher({ postsPerEndpoint: 8, heldPerEndpoint: 4 })).toThrow(/heldPerEndpoint at least postsPerEndpoint/);
  });

  it('refuses a stale time that a full lane of timed-out posts would outlast', () => {
    // 64 held, 16 at a time, 15 s each: the last one starts after 4 rounds = 60 s.
    expect(dispatcher({ postsPerEndpoint: 16, heldPerEndpoint: 64, timeoutMs: 15_000, staleMs: 60_000 })).toThrow(
      'webhook staleMs must exceed 60000 ms (every held row posted within the timeout), or live claims would be taken over',
    );
    expect(dispatcher({ postsPerEndpoint: 16, heldPerEndpoint: 64, timeoutMs: 15_000, staleMs: 60_001 })).not.toThrow();
  });

  it('refuses an inbound poster with no posts per route', () => {
    const parser = {} as InboundPosterDeps['parser'];
    expect(() => new InboundPoster({ ...base, parser, postsPerRoute: 0 })).toThrow('inbound postsPerRoute must be at least 1');
  });
});
