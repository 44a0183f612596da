import type { Store } from './store.js';
import { outboxWriteCount } from './webhook-queries.js';

/** The Store calls that commit events (and with them webhook outbox rows). */
const EVENT_WRITERS = new Set<PropertyKey>([
  'commitAccepts',
  'recordOutcomes',
  'appendEvents',
  'suppressRecipient',
  'recordInboundReport',
  'replayWebhookEvents',
  'expandListSend',
]);

/**
 * The store as every role of one process uses it, calling `onEvents` after each commit that wrote
 * webhook outbox rows: the webhook dispatcher then looks at once instead of at its next poll
 * (events of servers without endpoints wake nobody). Only a latency
 * shortcut; the outbox rows are what make delivery happen (a write by another process is found by
 * polling).
 */
export function withEventWake(store: Store, onEvents: () => void): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!EVENT_WRITERS.has(prop)) return fn.bind(target);
      return async (...args: unknown[]) => {
        const before = outboxWriteCount();
        const result = await fn.apply(target, args);
        if (outboxWriteCount() !== before) onEvents();
        return result;
      };
    },
  });
}
