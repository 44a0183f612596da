/**
 * Turns accepted list sends into merge recipients, one batch of contacts per transaction
 * (Store.listSends.expand), beside the delivery worker. The rows are the truth: a send accepted by
 * another process, or left half expanded by a crash, is found by polling and resumed after its
 * last committed batch; `wake()` only saves the wait when this process accepted it.
 */
import type { Logger } from '../core/log.js';
import type { Store } from '../store/store.js';
import { LIST_SEND_BATCH } from './list-send.js';

export interface ListSendExpanderDeps {
  store: Store;
  log: Logger;
  now: () => number;
  /** Called after each committed batch with the recipients it added (wakes the delivery worker, counts them as accepted). */
  onExpanded?: (recipients: number) => void;
  /** How often to look for sends accepted elsewhere; default 1,000 ms. */
  pollMs?: number;
  /** Contacts per transaction; default LIST_SEND_BATCH. */
  batchSize?: number;
}

/** Sends looked at per pass: several sends progress side by side, one batch each in turn. */
const SENDS_PER_PASS = 16;

export class ListSendExpander {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly pollMs: number;
  private readonly batchSize: number;

  constructor(private readonly d: ListSendExpanderDeps) {
    this.pollMs = d.pollMs ?? 1_000;
    this.batchSize = d.batchSize ?? LIST_SEND_BATCH;
    if (!(this.pollMs > 0) || !(this.batchSize >= 1)) throw new Error('ListSendExpander: pollMs and batchSize must be positive');
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Looks for work now (after the current pass, if one is running). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.wake();
      } else
        this.timer = setTimeout(() => {
          this.timer = null;
          this.wake();
        }, this.pollMs);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.running;
  }

  /** Round-robin over the unfinished sends until none is left (or the expander stops). */
  private async pass(): Promise<void> {
    try {
      for (;;) {
        const ids = await this.d.store.listSends.expanding(SENDS_PER_PASS);
        if (ids.length === 0) return;
        let progressed = false;
        for (const id of ids) {
          if (this.stopped) return;
          const s = await this.d.store.listSends.expand(id, this.batchSize, this.d.now());
          if (!s) continue;
          progressed = true;
          this.d.onExpanded?.(s.batchRecipients);
          if (s.state === 'done') {
            this.d.log.info(
              {
                event: 'marketing.list_send_expanded',
                serverId: s.serverId,
                listId: s.listId,
                sendId: s.id,
                contacts: s.contactsSeen,
                queued: s.queued,
                skippedUnsubscribed: s.skippedUnsubscribed,
                skippedSuppressed: s.skippedSuppressed,
              },
              'list send expanded',
            );
          }
        }
        // Every send was taken by another process: leave them to it until the next poll.
        if (!progressed) return;
      }
    } catch (err) {
      // Nothing is lost: the batch rolled back and the next pass resumes from the committed cursor.
      this.d.log.error({ err, event: 'marketing.list_send_failed' }, 'expanding a list send failed; retrying at the next poll');
    }
  }
}
