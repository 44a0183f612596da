/**
 * Signing in to the control panel (docs/panel-auth.md): POST /session (email and password → the
 * session cookie and the CSRF token), GET /session (who is signed in), DELETE /session (sign out).
 * The cookie is HttpOnly, SameSite=Strict, Path=/, and Secure when the request came over https.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { MAX_ADDRESS_LENGTH } from '../../../core/address.js';
import { MAX_PASSWORD_LENGTH } from '../../../accept/passwords.js';
import { cookieValue, SESSION_COOKIE, type LiveSession, type Sessions } from '../../../accept/sessions.js';
import { checkCsrf, ownOrigin } from '../auth.js';
import { ApiError } from '../errors.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { audit, toUserWire, userSchema, type AuditDeps } from '../users/wire.js';

export interface SessionRouteDeps extends AuditDeps {
  sessions: Sessions;
  trustedOrigins?: readonly string[];
}

const sessionSchema = dataResponse({
  type: 'object',
  required: ['user', 'csrfToken'],
  properties: { user: userSchema, csrfToken: { type: 'string', description: 'send it as X-CSRF-Token with every request that changes something' } },
});

function cookie(req: FastifyRequest, value: string, clear = false): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'HttpOnly',
    'SameSite=Strict',
    'Path=/',
    ...(clear ? ['Max-Age=0'] : []),
    ...(req.protocol === 'https' ? ['Secure'] : []),
  ].join('; ');
}

const answer = (live: LiveSession) => ({ data: { user: toUserWire(live.user), csrfToken: live.session.csrfToken } });

async function current(deps: SessionRouteDeps, req: FastifyRequest): Promise<LiveSession> {
  const live = await deps.sessions.resolve(cookieValue(req.headers.cookie, SESSION_COOKIE));
  if (!live) throw new ApiError('unauthorized', 'not signed in; POST /api/v2/session with your email and password');
  return live;
}

export function registerSessionRoutes(scope: FastifyInstance, deps: SessionRouteDeps): void {
  scope.post<{ Body: { email: string; password: string } }>(
    '/session',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Sign in to the control panel: sets the session cookie, answers the user and the CSRF token',
        tags: ['session'],
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email', 'password'],
          properties: { email: { type: 'string', maxLength: MAX_ADDRESS_LENGTH }, password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH } },
        },
        response: withErrors({ 200: sessionSchema }),
      },
    },
    async (req, reply: FastifyReply) => {
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== ownOrigin(req) && !(deps.trustedOrigins ?? []).includes(origin))
        throw new ApiError('csrf_failed', `a sign-in from ${origin} is not accepted`);
      const r = await deps.sessions.signIn(req.body.email, req.body.password, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
      if (!r.ok) {
        if (r.reason === 'throttled') throw new ApiError('too_many_requests', 'too many failed sign-ins; wait a few minutes and try again');
        if (r.user)
          await audit(deps, req, {
            accountId: r.user.accountId,
            userId: r.user.id,
            action: 'session.sign_in_failed',
            target: `user:${r.user.id}`,
            detail: null,
          });
        req.log.info({ event: 'session.sign_in_failed', ip: req.ip }, 'sign-in failed');
        throw new ApiError('invalid_credentials', 'wrong email or password');
      }
      await audit(deps, req, { accountId: r.user.accountId, userId: r.user.id, action: 'session.signed_in', target: `user:${r.user.id}`, detail: null });
      req.log.info({ event: 'session.signed_in', userId: r.user.id }, 'signed in');
      reply.header('set-cookie', cookie(req, r.token));
      reply.header('cache-control', 'no-store');
      return answer(r);
    },
  );

  scope.get(
    '/session',
    {
      schema: {
        summary: 'Who is signed in (the session cookie), with the CSRF token',
        tags: ['session'],
        querystring: noQuery,
        response: withErrors({ 200: sessionSchema }),
      },
    },
    async (req, reply) => {
      const live = await current(deps, req);
      reply.header('cache-control', 'no-store');
      return answer(live);
    },
  );

  scope.delete(
    '/session',
    {
      schema: {
        summary: 'Sign out: deletes the session and clears the cookie (needs X-CSRF-Token)',
        tags: ['session'],
        querystring: noQuery,
        response: withErrors({ 204: { type: 'null', description: 'signed out' } }),
      },
    },
    async (req, reply) => {
      const live = await current(deps, req);
      checkCsrf(deps, req, live);
      await deps.sessions.signOut(live.session);
      await audit(deps, req, {
        accountId: live.user.accountId,
        userId: live.user.id,
        action: 'session.signed_out',
        target: `user:${live.user.id}`,
        detail: null,
      });
      req.log.info({ event: 'session.signed_out', userId: live.user.id }, 'signed out');
      return reply
        .code(204)
        .header('set-cookie', cookie(req, '', true))
        .send();
    },
  );
}
