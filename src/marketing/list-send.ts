/**
 * A send to a contact list, as pure functions: the request body (one SocketLabs message without
 * recipients) judged by the Injection API's own normalizer and validators, and the merge row each
 * contact becomes. The store writes what these return (store/list-sends.ts).
 */
import type { NewMessage } from '../core/message.js';
import { MAX_METADATA_AND_TAGS_BYTES } from '../core/limits.js';
import { newId } from '../core/ids.js';
import { InvalidDataError, normalizeMessage } from '../message/normalize.js';
import { buildMessage, metadataAndTagsBytes } from '../message/build.js';
import { loadApiTemplates } from '../message/api-template.js';
import type { Store } from '../store/store.js';

/** Contacts turned into recipients per transaction: small enough to keep each commit short (other
 *  writers wait for SQLite's one writer), large enough that 100,000 contacts take 100 commits. */
export const LIST_SEND_BATCH = 1_000;

/** A stand-in recipient so buildMessage runs every check of a merge message; it is never stored. */
const PROBE_ADDRESS = 'list-send-probe@example.com';

/** The recipient of each list-send message, rendered from its contact's merge row. */
const TO = { email: '%%DeliveryAddress%%', name: '%%RecipientName%%' };

export type ListSendMessage = { ok: true; message: NewMessage } | { ok: false; reason: string };

/**
 * The request body as the message of a list send: validated exactly as one message of an
 * Injection API request (From, Subject, bodies, headers, attachments, MailingId, MessageId,
 * MergeData.Global, Metadata, Tags, sizes), with the list as its recipients: To, Cc, Bcc and
 * MergeData.PerMessage are refused (each contact is one merge recipient, To: %%DeliveryAddress%%).
 * An ApiTemplate names one of the server's stored templates, as on the Injection API.
 */
export async function listSendMessage(body: unknown, serverId: number, now: number, store: Pick<Store, 'templates'>): Promise<ListSendMessage> {
  const refuse = (reason: string): ListSendMessage => ({ ok: false, reason: reason.replaceAll('Messages[0].', '').replaceAll('Messages[0]', 'the message') });
  let raw: ReturnType<typeof normalizeMessage>;
  try {
    raw = normalizeMessage(body, 0);
  } catch (err) {
    if (err instanceof InvalidDataError) return refuse(err.message);
    throw err;
  }
  if (raw.to.length + raw.cc.length + raw.bcc.length > 0 || raw.perMessage !== null) {
    return refuse("the recipients are the list's contacts: leave out To, Cc, Bcc and MergeData.PerMessage");
  }
  if (metadataAndTagsBytes(raw) > MAX_METADATA_AND_TAGS_BYTES)
    return refuse(`MetadataOrTagsAreTooLarge: Metadata and Tags exceed ${MAX_METADATA_AND_TAGS_BYTES} bytes`);
  let built: ReturnType<typeof buildMessage>;
  try {
    const templates = await loadApiTemplates(store, serverId, [raw]);
    built = buildMessage({ ...raw, to: [TO], perMessage: [[{ field: 'DeliveryAddress', value: PROBE_ADDRESS }]] }, 0, serverId, now, templates);
  } catch (err) {
    if (err instanceof InvalidDataError) return refuse(err.message);
    throw err;
  }
  if (built.kind === 'rejected') return refuse(`${built.code}: ${built.reason}`);
  return { ok: true, message: { ...built.message, id: newId(now), recipients: [] } };
}
