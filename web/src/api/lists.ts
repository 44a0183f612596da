/**
 * The Lists page's calls: the Marketing API (`/marketing/v1`, docs/marketing-api.md) with the
 * session cookie, the server named in `X-Postline-Server` and the CSRF token on changes, plus the
 * v2 templates list. The Marketing API answers refusals as `{message, field?}`, not v2's
 * `{error}`, so it has its own small client here; failures are the same ApiFailure.
 */
import { ApiFailure, call, type Page, seg } from '../api.js';

export interface ContactList {
  listId: number;
  serverId: number;
  name: string;
  contactCount: number;
  createdOn: string;
  updatedOn: string;
}

export interface Contact {
  contactId: number;
  emailAddress: string;
  firstName: string | null;
  lastName: string | null;
  unsubscribed: boolean;
  customFields: Record<string, string>;
  createdOn: string;
}

export interface ImportJob {
  importId: number;
  listId: number;
  state: 'running' | 'done' | 'failed';
  totalRows: number;
  rowsDone: number;
  imported: number;
  updated: number;
  rejected: number;
  rejectedRows: { row: number; reason: string }[];
  rejectedNotListed: number;
  error: string | null;
}

export interface Preview {
  contactId: number;
  unsubscribed: boolean;
  from: { emailAddress: string; friendlyName: string | null };
  to: { emailAddress: string; friendlyName: string | null };
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
}

export interface ListSend {
  sendId: number;
  listId: number;
  messageId: string;
  state: 'expanding' | 'done';
  contactsSeen: number;
  queued: number;
  skippedUnsubscribed: number;
  skippedSuppressed: number;
}

export interface TemplateSummary {
  templateId: number;
  name: string;
}

/** What the send form holds: the message of the send, as the Injection API names its parts. */
export interface SendMessage {
  From: { EmailAddress: string; FriendlyName?: string };
  Subject: string;
  HtmlBody?: string;
  TextBody?: string;
  ApiTemplate?: number;
}

const MARKETING = '/marketing/v1';

/** One Marketing API call as the signed-in person, on `serverId`. */
async function marketing<T>(serverId: number, csrf: string, method: string, path: string, body?: { json: unknown } | { csv: string }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-postline-server': String(serverId) };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  let payload: string | null = null;
  if (body !== undefined && 'json' in body) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body !== undefined) {
    headers['content-type'] = 'text/csv';
    payload = body.csv;
  }
  let res: Response;
  try {
    res = await fetch(MARKETING + path, { method, headers, credentials: 'same-origin', body: payload });
  } catch {
    throw new ApiFailure(0, 'network_error', 'Postline did not answer. Check that it is running and try again.');
  }
  if (res.status === 204) return undefined as T;
  let parsed: unknown = null;
  try {
    const text = await res.text();
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const err = parsed as { message?: unknown; field?: unknown } | null;
    // The session is gone: asking the v2 API again lets the app's own 401 handling take the person to sign in.
    if (res.status === 401) await call('GET', '/api/v2/session').catch(() => undefined);
    throw new ApiFailure(
      res.status,
      `http_${res.status}`,
      typeof err?.message === 'string' ? err.message : `Postline answered ${res.status}`,
      typeof err?.field === 'string' ? err.field : undefined,
    );
  }
  return parsed as T;
}

/** The Marketing API for one server as one person: what the Lists pages call. */
export function listsApi(serverId: number, csrf: string) {
  const m = <T>(method: string, path: string, body?: { json: unknown } | { csv: string }) => marketing<T>(serverId, csrf, method, path, body);
  return {
    lists: () => m<ContactList[]>('GET', '/lists'),
    createList: (name: string) => m<ContactList>('POST', '/lists', { json: { name } }),
    deleteList: (listId: number) => m<void>('DELETE', `/lists/${seg(listId)}`),
    contacts(listId: number, startsWith: string, pageSize: number, pageNumber: number) {
      const q = new URLSearchParams({ listId: String(listId), pageSize: String(pageSize), pageNumber: String(pageNumber) });
      if (startsWith !== '') q.set('startsWith', startsWith);
      return m<{ total: number; contacts: Contact[] }>('GET', `/contacts?${q}`);
    },
    addContact: (listId: number, c: { emailAddress: string; firstName?: string; lastName?: string }) =>
      m<Contact>('PUT', `/lists/${seg(listId)}/contacts`, { json: c }),
    removeContact: (listId: number, email: string) => m<void>('DELETE', `/lists/${seg(listId)}/contacts?${new URLSearchParams({ emailAddress: email })}`),
    startImport: (listId: number, csv: string) => m<ImportJob>('POST', `/lists/${seg(listId)}/imports`, { csv }),
    importJob: (listId: number, importId: number) => m<ImportJob>('GET', `/lists/${seg(listId)}/imports/${seg(importId)}`),
    preview: (listId: number, contactId: number, message: SendMessage) =>
      m<Preview>('POST', `/lists/${seg(listId)}/send/preview?${new URLSearchParams({ contactId: String(contactId) })}`, { json: message }),
    send: (listId: number, message: SendMessage) => m<ListSend>('POST', `/lists/${seg(listId)}/send`, { json: message }),
    sendStatus: (listId: number, sendId: number) => m<ListSend>('GET', `/lists/${seg(listId)}/sends/${seg(sendId)}`),
    templates: () => call<Page<TemplateSummary>>('GET', `/api/v2/servers/${seg(serverId)}/templates?pageSize=100&sortField=name&sortDirection=asc`),
  };
}

export type ListsApi = ReturnType<typeof listsApi>;
