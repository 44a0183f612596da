import type { Store } from './store.js';
import { outboxWriteCount } from './webhooks.js';
import { wrapStoreCalls } from './wrap-calls.js';

/** The Store calls that commit events (and with them webhook outbox rows). */
const EVENT_WRITERS = new Set<string>([
  'queue.commitAccepts',
  'queue.recordOutcomes',
  'queue.recordInboundReport',
  'events.append',
  'suppressions.suppressRecipient',
  'webhooks.replayEvents',
  'listSends.expand',
]);

/**
 * The store as every role of one process uses it, calling `onEvents` after each commit that wrote
 * webhook outbox rows: the webhook dispatcher then looks at once instead of at its next poll
 * (events of servers without endpoints wake nobody). Only a latency
 * shortcut; the outbox rows are what make delivery happen (a write by another process is found by
 * polling).
 */
export function withEventWake(store: Store, onEvents: () => void): Store {
  return wrapStoreCalls(store, (call, name) => {
    if (!EVENT_WRITERS.has(name)) return call();
    const before = outboxWriteCount();
    return (call() as Promise<unknown>).then((result) => {
      if (outboxWriteCount() !== before) onEvents();
      return result;
    });
  });
}
