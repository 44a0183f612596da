/**
 * The end of DATA for routed recipients: the message is stored durably — its bytes once, one post
 * per routed recipient — in one transaction, and only then may the MX listener answer 250. The
 * poster is woken after the commit (a latency shortcut; it polls anyway).
 */
import { newId } from '../core/ids.js';
import type { InboundRouteEntry } from '../store/inbound-queries.js';
import type { Store } from '../store/store.js';

export interface RoutedRecipient { rcptTo: string; route: InboundRouteEntry }

export interface InboundAcceptDeps {
  store: Store;
  now: () => number;
  /** Called after each commit (wakes the poster). */
  onStored?: () => void;
  metrics?: { inboundAccepted(recipients: number, bytes: number): void };
}

export async function acceptInbound(deps: InboundAcceptDeps, raw: Buffer,
  envelope: { mailFrom: string; remoteIp: string; heloName: string | null; routed: readonly RoutedRecipient[] }): Promise<string> {
  const receivedAt = deps.now();
  const id = newId(receivedAt);
  await deps.store.commitInboundMessage({
    id, mailFrom: envelope.mailFrom, remoteIp: envelope.remoteIp, helo: envelope.heloName, receivedAt, raw,
    posts: envelope.routed.map((r) => ({ routeId: r.route.id, serverId: r.route.serverId, rcptTo: r.rcptTo })),
  });
  deps.metrics?.inboundAccepted(envelope.routed.length, raw.length);
  deps.onStored?.();
  return id;
}
