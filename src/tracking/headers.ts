import type { MailHeader } from '../core/message.js';

/**
 * List-Unsubscribe (RFC 2369) and one-click List-Unsubscribe-Post (RFC 8058), which Gmail and
 * Yahoo require of bulk senders. Both must be covered by the DKIM signature (RFC 8058 §4):
 * compose/dkim.ts signs them whenever present.
 */

export interface ListUnsubscribeOptions {
  /** The recipient's unsubscribe URL (TrackingUrls.unsubscribe). */
  url: string;
  /** An unsubscribe address, `addr@host` or `mailto:addr@host?subject=...`; omitted when null. */
  mailto?: string | null;
}

export const ONE_CLICK_VALUE = 'List-Unsubscribe=One-Click';

// Inside <...> in a header: no whitespace, no angle brackets, no comma (receivers split on them),
// no quotes and no controls, so a value can neither end the URI early nor add a header line.
const URI_SAFE = /^[^\s<>,"\u0000-\u001f\u007f]+$/;

export function listUnsubscribeHeaders(o: ListUnsubscribeOptions): MailHeader[] {
  if (!/^https?:\/\//i.test(o.url) || !URI_SAFE.test(o.url)) throw new Error(`unsafe unsubscribe URL: ${JSON.stringify(o.url)}`);
  const uris = [`<${o.url}>`];
  if (o.mailto) {
    const mailto = /^mailto:/i.test(o.mailto) ? o.mailto : `mailto:${o.mailto}`;
    if (!URI_SAFE.test(mailto) || !mailto.includes('@')) throw new Error(`unsafe unsubscribe address: ${JSON.stringify(o.mailto)}`);
    uris.push(`<${mailto}>`);
  }
  const headers: MailHeader[] = [{ name: 'List-Unsubscribe', value: uris.join(', ') }];
  // RFC 8058 §3.1: one-click needs an HTTPS URI; over plain http the link still works as a page.
  if (/^https:\/\//i.test(o.url)) headers.push({ name: 'List-Unsubscribe-Post', value: ONE_CLICK_VALUE });
  return headers;
}

/**
 * The message's headers with ours added, unless the sender set their own List-Unsubscribe: theirs
 * is kept as it is (with their List-Unsubscribe-Post, if any), since two would confuse receivers.
 */
export function addListUnsubscribe(headers: readonly MailHeader[], o: ListUnsubscribeOptions): MailHeader[] {
  if (headers.some((h) => h.name.toLowerCase() === 'list-unsubscribe')) return [...headers];
  return [...headers.filter((h) => h.name.toLowerCase() !== 'list-unsubscribe-post'), ...listUnsubscribeHeaders(o)];
}
