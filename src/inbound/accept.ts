/**
 * The end of DATA for routed recipients: the message is stored durably — its bytes once, one post
 * per routed recipient — in one transaction, and only then may the MX listener answer 250. Messages
 * ending together share the transaction and its disk flush (group commit, store/group-commit.ts);
 * one that fails is retried alone, so it cannot fail its neighbours. The poster is woken after
 * each commit (a latency shortcut; it polls anyway).
 */
import { GroupCommitter } from '../store/group-commit.js';
import { newId } from '../core/ids.js';
import { INBOUND_BODY_CHUNK_BYTES, type InboundRouteEntry, type NewInboundMessage } from '../store/inbound.js';
import type { Store } from '../store/store.js';

export interface RoutedRecipient {
  rcptTo: string;
  route: InboundRouteEntry;
}

export interface InboundAcceptDeps {
  store: Store;
  now: () => number;
  /** Called after each commit (wakes the poster). */
  onStored?: () => void;
  metrics?: { inboundAccepted?(recipients: number, bytes: number): void };
}

/**
 * Messages per transaction. Each holds up to 50 MB already in memory (the SMTP session's), so the
 * bound is on the transaction's size, not on memory.
 */
const MAX_BATCH_MESSAGES = 32;

export class InboundAcceptor {
  private readonly committer: GroupCommitter<NewInboundMessage, undefined>;

  constructor(private readonly deps: InboundAcceptDeps) {
    this.committer = new GroupCommitter(
      async (messages) => {
        await deps.store.inbound.commitMessages(messages);
        deps.onStored?.();
        return messages.map(() => undefined);
      },
      { maxBatchItems: MAX_BATCH_MESSAGES, maxInFlight: deps.store.kind === 'sqlite' ? 2 : 4 },
    );
  }

  /** Resolves with the stored message's id once it is committed; rejects when it could not be. */
  async accept(raw: Buffer, envelope: { mailFrom: string; remoteIp: string; heloName: string | null; routed: readonly RoutedRecipient[] }): Promise<string> {
    const receivedAt = this.deps.now();
    const id = newId(receivedAt);
    const chunked = raw.length > INBOUND_BODY_CHUNK_BYTES;
    try {
      if (chunked) {
        for (let seq = 0, at = 0; at < raw.length; seq++, at += INBOUND_BODY_CHUNK_BYTES) {
          await this.deps.store.inbound.putBodyChunk(id, seq, raw.subarray(at, at + INBOUND_BODY_CHUNK_BYTES), receivedAt);
        }
      }
      await this.committer.submit({
        id,
        mailFrom: envelope.mailFrom,
        remoteIp: envelope.remoteIp,
        helo: envelope.heloName,
        receivedAt,
        raw,
        bodyStored: chunked,
        posts: envelope.routed.map((r) => ({ routeId: r.route.id, serverId: r.route.serverId, rcptTo: r.rcptTo })),
      });
    } catch (err) {
      // Best effort: what is left is swept by age (InboundPoster).
      if (chunked) await this.deps.store.inbound.deleteBody(id).catch(() => undefined);
      throw err;
    }
    this.deps.metrics?.inboundAccepted?.(envelope.routed.length, raw.length);
    return id;
  }

  /** Waits for the messages submitted to be committed (or failed). */
  close(): Promise<void> {
    return this.committer.close();
  }
}
