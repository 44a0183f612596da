/**
 * The Activity, message view and sandbox inbox calls: the reports' recipient search, message
 * detail, and message content with its HTML part (docs/reporting.md).
 */
import { call, seg, type Page, type RecipientRow } from '../api.js';

/** The recipient-search filters the Activity page offers, by their API names (also the page's URL query). */
export const SEARCH_FILTERS = ['toEmailAddress', 'fromEmailAddress', 'subject', 'status', 'mailingId', 'startDate', 'endDate'] as const;
export type SearchFilter = (typeof SEARCH_FILTERS)[number];
export type SearchFilters = Partial<Record<SearchFilter, string>>;

export const STATUSES = ['Queued', 'Delivering', 'Deferred', 'Delivered', 'Failed', 'Suppressed', 'Sandboxed'] as const;

export interface SearchRow extends RecipientRow {
  customMessageId: string | null;
  mailingId: string | null;
}

export interface DetailEvent {
  type: string;
  time: string;
  eventId: string;
  recipientId: string | null;
  smtpReply: string | null;
  remoteMta: string | null;
  failureCode: number | null;
  failureDescription: string | null;
  failureType: number | null;
  bounceStatus: string | null;
  explanation: string | null;
  trackingType: number | null;
  url: string | null;
  userAgent: string | null;
  /** Delivered over TLS: how; null otherwise. */
  tls: { version: string | null; cipher: string | null; verified: boolean | null; policy: string | null } | null;
}

export interface MessageDetail extends SearchRow {
  attempts: number;
  lastReply: string | null;
  mx: string | null;
  failureCode: number | null;
  failureDescription: string | null;
  events: DetailEvent[];
  bodyRetained: boolean;
  rendered: string | null;
}

export interface MessageContent extends SearchRow {
  bodyRetained: boolean;
  renderedSubject: string | null;
  headers: { name: string; value: string }[];
  text: string | null;
  preview: string;
  hasHtml: boolean;
  attachments: { filename: string | null; mimeType: string; size: number; disposition: string | null; contentId: string | null }[];
}

const base = (serverId: number) => `/api/v2/servers/${seg(serverId)}/reports`;

/**
 * The Activity page counts matches up to this many: beyond it the count says "10,000+" (an exact
 * count of a third of a million messages costs a second; the rows do not wait for it).
 */
export const COUNT_LIMIT = 10_000;

export function searchRecipients(
  serverId: number,
  filters: SearchFilters,
  pageNumber: number,
  pageSize: number,
): Promise<Page<SearchRow> & { totalExact: boolean }> {
  const q = new URLSearchParams({
    pageSize: String(pageSize),
    pageNumber: String(pageNumber),
    sortField: 'queuedTime',
    sortDirection: 'dsc',
    countLimit: String(COUNT_LIMIT),
  });
  for (const f of SEARCH_FILTERS) {
    const v = filters[f];
    if (v !== undefined && v !== '') q.set(f, v);
  }
  return call<Page<SearchRow> & { totalExact: boolean }>('GET', `${base(serverId)}/recipient-search?${q}`);
}

export async function messageDetail(serverId: number, recipientId: string): Promise<MessageDetail | null> {
  const r = await call<Page<MessageDetail>>('GET', `${base(serverId)}/messages/detail?${new URLSearchParams({ recipientId })}`);
  return r.data[0] ?? null;
}

export async function messageContent(serverId: number, recipientId: string): Promise<MessageContent | null> {
  const r = await call<Page<MessageContent>>('GET', `${base(serverId)}/messages/content?${new URLSearchParams({ recipientId })}`);
  return r.data[0] ?? null;
}

/** The sandbox inbox: captured (Sandboxed) recipients with their previews, newest first. */
export function sandboxInbox(serverId: number, pageNumber: number, pageSize: number): Promise<Page<MessageContent>> {
  const q = new URLSearchParams({
    status: 'Sandboxed',
    pageSize: String(pageSize),
    pageNumber: String(pageNumber),
    sortField: 'queuedTime',
    sortDirection: 'dsc',
  });
  return call<Page<MessageContent>>('GET', `${base(serverId)}/messages/content?${q}`);
}

/**
 * The URL of a message's HTML part, for an iframe's src: the API answers it under its own
 * sandboxing Content-Security-Policy (no script; remote images only when asked for).
 */
export function messageHtmlUrl(serverId: number, recipientId: string, remoteImages: boolean): string {
  const q = new URLSearchParams({ recipientId });
  if (remoteImages) q.set('remoteImages', 'true');
  return `${base(serverId)}/messages/html?${q}`;
}

/** The URL that downloads one attachment of a message (served as a file, never rendered). */
export function messageAttachmentUrl(serverId: number, recipientId: string, index: number): string {
  return `${base(serverId)}/messages/attachment?${new URLSearchParams({ recipientId, index: String(index) })}`;
}
