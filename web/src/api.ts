/**
 * The panel's calls to Postline's management API (same origin): the session cookie goes with
 * every request (`credentials: 'same-origin'`), and every request that changes state carries the
 * session's CSRF token in `X-CSRF-Token` (docs/panel.md).
 */

export type Role = 'admin' | 'member' | 'viewer';

export interface User {
  id: number;
  accountId: number;
  email: string;
  role: Role;
  status: 'active' | 'disabled';
  createdAt: string;
  lastSignInAt: string | null;
}

export interface Session {
  user: User;
  csrfToken: string;
}

export interface Server {
  serverId: number;
  accountId: number;
  name: string;
  status: 'active' | 'disabled';
  sandbox: boolean;
}

/** One recipient of the reports' recipient search (docs/reporting.md). */
export interface RecipientRow {
  recipientId: string;
  messageId: string;
  from: string;
  to: string;
  subject: string;
  status: string;
  statusDate: string;
  queuedTime: string;
}

export interface Page<T> {
  data: T[];
  total: number;
}

/** An answer that was not a success: the API's `{ error: { code, message } }`, or what the network said. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request field the server blamed (`error.field`), so a form can show the message next to it. */
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
/** Told when an API call finds the session gone (401), so the app can go back to the sign-in page. */
let onSignedOut: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onSessionLost(handler: () => void): void {
  onSignedOut = handler;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * One call to Postline's API: JSON in and out, the cookie along, the CSRF token on every unsafe
 * method. A non-2xx answer throws ApiFailure with the API's code, message and field.
 */
export async function call<T>(method: string, path: string, body?: unknown, opts: { expectSignedOut?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE.has(method) && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, 'network_error', 'Postline did not answer. Check that it is running and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
    const code = typeof err?.code === 'string' ? err.code : `http_${res.status}`;
    const message = typeof err?.message === 'string' ? err.message : `Postline answered ${res.status} ${res.statusText}`.trim();
    if (res.status === 401 && !opts.expectSignedOut) onSignedOut?.();
    throw new ApiFailure(res.status, code, message, typeof err?.field === 'string' ? err.field : undefined);
  }
  return parsed as T;
}

/** The live session, or null when the cookie is missing or expired. */
export async function currentSession(): Promise<Session | null> {
  try {
    return (await call<{ data: Session }>('GET', '/api/v2/session', undefined, { expectSignedOut: true })).data;
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return null;
    throw err;
  }
}

export async function signIn(email: string, password: string): Promise<Session> {
  return (await call<{ data: Session }>('POST', '/api/v2/session', { email, password }, { expectSignedOut: true })).data;
}

export async function signOut(): Promise<void> {
  await call<void>('DELETE', '/api/v2/session', undefined, { expectSignedOut: true });
}

export async function listServers(): Promise<Page<Server>> {
  return call<Page<Server>>('GET', '/api/v2/servers?pageSize=100&sortField=name&sortDirection=asc');
}

export async function recentMessages(serverId: number, pageSize = 50): Promise<Page<RecipientRow>> {
  const q = new URLSearchParams({ pageSize: String(pageSize), sortField: 'queuedTime', sortDirection: 'dsc' });
  return call<Page<RecipientRow>>('GET', `/api/v2/servers/${encodeURIComponent(String(serverId))}/reports/recipient-search?${q}`);
}

/** A path segment, escaped: `/api/v2/servers/${seg(id)}`. */
export function seg(v: string | number): string {
  return encodeURIComponent(String(v));
}
