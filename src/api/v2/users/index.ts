/**
 * The control panel's people (`/account/users`) and the audit log (`/account/audit-log`): admin
 * only (an admin's session, or an account key). Registered behind managerAuth. docs/panel-auth.md.
 */
import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { USER_ROLES, USER_STATUSES, type UserRole, type UserStatus } from '../../../core/users.js';
import { hashPassword, MAX_PASSWORD_LENGTH, passwordProblem } from '../../../accept/passwords.js';
import { requireAdmin } from '../auth.js';
import { ApiError } from '../errors.js';
import { emailAddressSchema, noQuery, withErrors } from '../schemas.js';
import { dataResponse, pagedResponse } from '../paging.js';
import { LastActiveAdminError } from '../../../store/users.js';
import type { Store } from '../../../store/store.js';
import { audit, toUserWire, userSchema, type AuditDeps } from './wire.js';

/** Audit-log entries per page at most, and by default. */
const AUDIT_PAGE_MAX = 500;
const AUDIT_PAGE_DEFAULT = 50;

const passwordSchema = { type: 'string', maxLength: MAX_PASSWORD_LENGTH, description: 'at least 12 characters' } as const;

function checkedPassword(password: string): string {
  const problem = passwordProblem(password);
  if (problem) throw new ApiError('validation_failed', `${problem}; nothing was changed`, 'password');
  return password;
}

export function registerUserRoutes(scope: FastifyInstance, deps: AuditDeps): void {
  scope.get(
    '/account/users',
    {
      schema: {
        summary: "List the account's people (admin)",
        tags: ['users'],
        querystring: noQuery,
        response: withErrors({ 200: pagedResponse(userSchema) }),
      },
    },
    async (req) => {
      const p = requireAdmin(req, 'user management');
      const users = await deps.store.users.list(p.accountId);
      return { data: users.map(toUserWire), total: users.length };
    },
  );

  scope.post<{ Body: { email: string; role: UserRole; password: string } }>(
    '/account/users',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Add a person to the account (admin)',
        tags: ['users'],
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email', 'role', 'password'],
          properties: { email: emailAddressSchema, role: { type: 'string', enum: [...USER_ROLES] }, password: passwordSchema },
        },
        response: withErrors({ 201: dataResponse(userSchema) }),
      },
    },
    async (req, reply) => {
      const p = requireAdmin(req, 'user management');
      const password = checkedPassword(req.body.password);
      const created = await deps.store.users.create(
        { accountId: p.accountId, email: req.body.email, role: req.body.role, passwordHash: await hashPassword(password) },
        deps.now(),
      );
      if ('duplicate' in created) throw new ApiError('already_exists', `${req.body.email.toLowerCase()} already has a user; nothing was changed`, 'email');
      await audit(deps, req, {
        accountId: p.accountId,
        userId: p.user?.id ?? null,
        action: 'user.created',
        target: `user:${created.id}`,
        detail: { email: created.email, role: created.role, by: p.publicId },
      });
      req.log.info({ event: 'user.created', userId: created.id, accountId: p.accountId, by: p.publicId }, 'user created');
      return reply.code(201).send({ data: toUserWire(created) });
    },
  );

  scope.patch<{ Params: { userId: string }; Body: { role?: UserRole; status?: UserStatus; password?: string } }>(
    '/account/users/:userId',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: "Change a person's role, status or password (admin); a new password or disabling ends their sessions",
        tags: ['users'],
        params: { type: 'object', required: ['userId'], properties: { userId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } } },
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { role: { type: 'string', enum: [...USER_ROLES] }, status: { type: 'string', enum: [...USER_STATUSES] }, password: passwordSchema },
        },
        response: withErrors({ 200: dataResponse(userSchema) }),
      },
    },
    async (req) => {
      const p = requireAdmin(req, 'user management');
      const id = Number(req.params.userId);
      const b = req.body;
      const passwordHash = b.password === undefined ? undefined : await hashPassword(checkedPassword(b.password));
      let updated: Awaited<ReturnType<Store['users']['update']>>;
      try {
        updated = await deps.store.users.update(p.accountId, id, { role: b.role, status: b.status, passwordHash }, deps.now(), { keepAnActiveAdmin: true });
      } catch (err) {
        if (!(err instanceof LastActiveAdminError)) throw err;
        // An account with no active admin could only be managed with an account key or the operator's CLI again.
        const field = b.status === 'disabled' ? 'status' : 'role';
        throw new ApiError(
          'last_active_admin',
          `${err.email} is the account's last active admin and cannot be ${field === 'status' ? 'disabled' : 'made a non-admin'}: make another user an admin first; nothing was changed`,
          field,
        );
      }
      if (!updated) throw new ApiError('not_found', `the account has no user ${req.params.userId}`, 'userId');
      await audit(deps, req, {
        accountId: p.accountId,
        userId: p.user?.id ?? null,
        action: 'user.updated',
        target: `user:${id}`,
        detail: { email: updated.email, role: b.role, status: b.status, passwordChanged: b.password !== undefined, by: p.publicId },
      });
      req.log.info({ event: 'user.updated', userId: id, accountId: p.accountId, by: p.publicId }, 'user updated');
      return { data: toUserWire(updated) };
    },
  );

  scope.get<{ Querystring: { limit: number; offset: number; action?: string; userId?: number } }>(
    '/account/audit-log',
    {
      schema: {
        summary: "The account's audit log, newest first (admin)",
        tags: ['users'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX, default: AUDIT_PAGE_DEFAULT },
            offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
            action: { type: 'string', minLength: 1, maxLength: 64, description: 'only entries of this action (user.created, request, ...)' },
            userId: { type: 'integer', minimum: 1, description: 'only entries made by this user' },
          },
        },
        response: withErrors({
          200: pagedResponse({
            type: 'object',
            required: ['id', 'at', 'userId', 'email', 'action', 'target', 'detail'],
            properties: {
              id: { type: 'integer' },
              at: { type: 'string', format: 'date-time' },
              userId: { type: ['integer', 'null'] },
              email: { type: ['string', 'null'] },
              action: { type: 'string', description: 'session.signed_in, session.sign_in_failed, session.signed_out, user.created, user.updated, request' },
              target: { type: ['string', 'null'] },
              detail: { type: ['object', 'null'], additionalProperties: true },
            },
          }),
        }),
      },
    },
    async (req) => {
      const p = requireAdmin(req, 'the audit log');
      const { rows, total } = await deps.store.audit.list(
        p.accountId,
        { limit: req.query.limit, offset: req.query.offset },
        { action: req.query.action, userId: req.query.userId },
      );
      return {
        data: rows.map((r) => ({
          id: r.id,
          at: new Date(r.at).toISOString(),
          userId: r.userId,
          email: r.email,
          action: r.action,
          target: r.target,
          detail: r.detail,
        })),
        total,
      };
    },
  );
}
