import type { FastifyRequest } from 'fastify';
import { USER_ROLES, USER_STATUSES } from '../../../core/users.js';
import type { Store, UserRecord } from '../../../store/store.js';
import type { NewAuditEntry } from '../../../store/audit.js';

/** A person as the API answers them (the contract with the web app): never the password hash. */
export interface UserWire {
  id: number;
  accountId: number;
  email: string;
  role: UserRecord['role'];
  status: UserRecord['status'];
  createdAt: string;
  lastSignInAt: string | null;
}

export const toUserWire = (u: UserRecord): UserWire => ({
  id: u.id,
  accountId: u.accountId,
  email: u.email,
  role: u.role,
  status: u.status,
  createdAt: new Date(u.createdAt).toISOString(),
  lastSignInAt: u.lastSignInAt === null ? null : new Date(u.lastSignInAt).toISOString(),
});

export const userSchema = {
  type: 'object',
  required: ['id', 'accountId', 'email', 'role', 'status', 'createdAt', 'lastSignInAt'],
  properties: {
    id: { type: 'integer' },
    accountId: { type: 'integer' },
    email: { type: 'string' },
    role: { type: 'string', enum: [...USER_ROLES] },
    status: { type: 'string', enum: [...USER_STATUSES] },
    createdAt: { type: 'string', format: 'date-time' },
    lastSignInAt: { type: ['string', 'null'], format: 'date-time', description: 'null until the first sign-in' },
  },
} as const;

export interface AuditDeps {
  store: Store;
  now: () => number;
}

/** Writes one audit row; a failure is logged, never the request's failure (the change itself is done). */
export async function audit(deps: AuditDeps, req: FastifyRequest, entry: Omit<NewAuditEntry, 'at' | 'ip'>): Promise<void> {
  try {
    await deps.store.audit.append({ ...entry, at: deps.now(), ip: req.ip });
  } catch (err) {
    req.log.error({ err, event: 'audit.write_failed', action: entry.action }, 'could not write the audit log');
  }
}
