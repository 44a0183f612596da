/**
 * The management API's (v2) error codes: stable strings, part of the public API, each with the
 * one HTTP status it is answered with. docs/api-v2.md lists them (a test keeps the two in step).
 * Clients branch on `code`; `message` is for people and may change.
 */
export const API_V2_ERRORS = {
  unauthorized: { status: 401, when: 'no API key, or a malformed, unknown or revoked one' },
  insufficient_scope: {
    status: 403,
    when: 'a live key without the permission the route needs (an injection-only key; a server key where an account key is needed)',
  },
  wrong_server: { status: 403, when: "a live management key of another server (also when the path's server does not exist)" },
  server_disabled: { status: 403, when: 'the server or its account is disabled' },
  too_many_requests: { status: 429, when: 'too many failed authentications from this client; wait and retry' },
  validation_failed: { status: 400, when: 'a parameter or field is missing, of the wrong type, out of range or malformed (`field` names it)' },
  unknown_field: { status: 400, when: 'a query parameter or body field this route does not know (`field` names it)' },
  too_many_items: { status: 400, when: 'a list in the body is longer than the route allows (`field` names it); nothing was changed' },
  invalid_body: { status: 400, when: 'the body is not valid JSON, or is missing where one is required' },
  bad_request: { status: 400, when: 'any other malformed request' },
  not_found: { status: 404, when: 'no such resource (or route)' },
  limit_reached: { status: 409, when: 'a per-server limit is reached (e.g. webhook endpoints per server); nothing was changed' },
  key_revoked: { status: 409, when: 'the API key named in the path is revoked and cannot be rotated; create a new one' },
  already_routed: { status: 409, when: 'the domain or address is already routed (by this or another server); nothing was changed' },
  endpoint_validation_failed: {
    status: 422,
    when: 'the webhook endpoint did not answer the Validation request with 2xx (a form endpoint: with its ValidationKey in the body); nothing was changed',
  },
  payload_too_large: { status: 413, when: 'the body is larger than the route accepts' },
  unsupported_media_type: { status: 415, when: 'a body that is not application/json' },
  already_exists: { status: 409, when: 'the resource already exists (e.g. a sending domain the server has, a DKIM selector in use); nothing was changed' },
  rotation_in_progress: { status: 409, when: 'a DKIM rotation of the domain waits for its new record to be verified; nothing was changed' },
  internal_error: { status: 500, when: 'a fault on our side; safe to retry' },
  domain_taken: { status: 409, when: 'the domain is already a custom domain of that kind (of this or another server); nothing was changed' },
  conflicting_filters: {
    status: 400,
    when: 'more than one filter where a route takes one at a time (statistics are kept per dimension); `field` names the second',
  },
  domain_not_verified: {
    status: 409,
    when: 'only a verified custom domain can be the default: publish its DNS records and verify it first; nothing was changed',
  },
  invalid_credentials: { status: 401, when: 'sign-in: the email or the password is wrong (the same answer for both, and for a disabled user)' },
  insufficient_role: {
    status: 403,
    when: "the signed-in user's role does not allow this (a viewer changing anything, a member managing users or reading the audit log)",
  },
  csrf_failed: {
    status: 403,
    when: 'a state-changing request with the session cookie but without the right X-CSRF-Token header, or from another origin; nothing was changed',
  },
  last_active_admin: {
    status: 409,
    when: 'the change would leave the account with no active admin (disabling or demoting its last one); make another user an admin first; nothing was changed',
  },
  method_not_allowed: { status: 405, when: 'the path is served but not with this method (`Allow` lists the methods it takes)' },
} as const satisfies Record<string, { status: number; when: string }>;

export type ApiV2ErrorCode = keyof typeof API_V2_ERRORS;

/** The one error shape of every v2 answer that is not 2xx. */
export interface ApiV2ErrorBody {
  error: { code: ApiV2ErrorCode; message: string; field?: string };
}
