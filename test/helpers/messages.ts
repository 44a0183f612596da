import type { NewMessage } from '../../src/core/message.js';
import { newId } from '../../src/core/ids.js';

/**
 * A plain accepted message for store-level tests: one `to` recipient per address, a text body,
 * ids made at `now`. `recipient` sets fields every recipient shares (e.g. a mailing id), `message`
 * overrides message fields (metadata, tags).
 */
export function testMessage(
  serverId: number,
  now: number,
  addresses: readonly string[],
  opts: {
    message?: Partial<Pick<NewMessage, 'metadata' | 'tags' | 'sizeBytes' | 'source'>>;
    recipient?: { mailingId?: string | null };
  } = {},
): NewMessage {
  return {
    id: newId(now),
    serverId,
    createdAt: now,
    source: 'api',
    isMerge: false,
    sizeBytes: 10,
    metadata: [],
    tags: [],
    ...opts.message,
    template: {
      from: { email: 'from@example.com', name: null },
      replyTo: null,
      to: addresses.map((email) => ({ email, name: null })),
      cc: [],
      bcc: [],
      subject: 'Hello',
      textBody: 'Body',
      htmlBody: null,
      ampBody: null,
      charset: null,
      headers: [],
      attachments: [],
      messageId: null,
      mailingId: null,
      globalMerge: [],
    },
    recipients: addresses.map((address) => ({
      id: newId(now),
      address,
      kind: 'to',
      merge: null,
      mailingId: opts.recipient?.mailingId ?? null,
      messageId: null,
    })),
  };
}
