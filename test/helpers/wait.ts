import type { Store, StoredRecipient } from '../../src/store/store.js';

/** Polls until every recipient of the newest messages reaches a final status (or times out with what it saw). */
export async function waitForRecipients(
  store: Store,
  messageId: string,
  done: (r: StoredRecipient[]) => boolean,
  timeoutMs = 20_000,
): Promise<StoredRecipient[]> {
  const until = Date.now() + timeoutMs;
  let rows: StoredRecipient[] = [];
  while (Date.now() < until) {
    rows = await store.queue.listRecipients(messageId);
    if (rows.length > 0 && done(rows)) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out; recipients: ${JSON.stringify(rows.map((r) => [r.address, r.status, r.attempts, r.lastReply]))}`);
}

export async function newestMessageId(store: Store): Promise<string> {
  const ev = await store.events.list({ limit: 10_000_000 });
  return ev.filter((e) => e.type === 'Queued').at(-1)!.messageId;
}
