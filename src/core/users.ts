/**
 * The people who sign in to the control panel: their roles and statuses, as the store keeps them
 * and the API answers them (docs/panel-auth.md).
 *  - admin: everything of the account, user management and the audit log included;
 *  - member: everything of the account except user management and the audit log;
 *  - viewer: reads only (GET and HEAD).
 */
export const USER_ROLES = ['admin', 'member', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const USER_STATUSES = ['active', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export const isUserRole = (v: unknown): v is UserRole => typeof v === 'string' && (USER_ROLES as readonly string[]).includes(v);

/** A person's sign-in name: the address, trimmed and lower-cased (stored and compared so). */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** The methods that change nothing: the only ones a viewer may use, and the ones that need no CSRF token. */
export const isSafeMethod = (method: string): boolean => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
