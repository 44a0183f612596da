/**
 * The Users page's calls: the account's people (`/account/users`) and the audit log
 * (`/account/audit-log`), admin only (docs/panel-auth.md).
 */
import { call, seg, type Page, type Role, type User } from '../api.js';

export async function listUsers(): Promise<Page<User>> {
  return call<Page<User>>('GET', '/api/v2/account/users');
}

export async function createUser(input: { email: string; role: Role; password: string }): Promise<User> {
  return (await call<{ data: User }>('POST', '/api/v2/account/users', input)).data;
}

/** A new role, status or password; a new password or disabling ends the person's sessions. */
export async function updateUser(id: number, patch: { role?: Role; status?: User['status']; password?: string }): Promise<User> {
  return (await call<{ data: User }>('PATCH', `/api/v2/account/users/${seg(id)}`, patch)).data;
}

export interface AuditEntry {
  id: number;
  at: string;
  userId: number | null;
  email: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

/** The actions the API writes (docs/panel-auth.md), for the filter. */
export const AUDIT_ACTIONS = ['session.signed_in', 'session.sign_in_failed', 'session.signed_out', 'user.created', 'user.updated', 'request'] as const;

export async function auditLog(q: { limit: number; offset: number; action?: string; userId?: number }): Promise<Page<AuditEntry>> {
  const p = new URLSearchParams({ limit: String(q.limit), offset: String(q.offset) });
  if (q.action !== undefined) p.set('action', q.action);
  if (q.userId !== undefined) p.set('userId', String(q.userId));
  return call<Page<AuditEntry>>('GET', `/api/v2/account/audit-log?${p}`);
}
