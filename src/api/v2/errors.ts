import type { FastifyError, FastifyReply } from 'fastify';
import { API_V2_ERRORS, type ApiV2ErrorBody, type ApiV2ErrorCode } from '../../core/api-v2-codes.js';
import { AUTH_FAILURE_WINDOW_MS } from '../../core/limits.js';

/** A refusal a v2 route throws; the scope's error handler answers it in the one error shape. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiV2ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get status(): number {
    return API_V2_ERRORS[this.code].status;
  }
}

/** What Ajv reports (the part we read), as Fastify hands it over in `err.validation`. */
interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

const WHERE = { body: 'body field', querystring: 'query parameter', params: 'path parameter', headers: 'header' } as const;

/** "/emailAddresses/3" -> "emailAddresses[3]"; "" -> undefined (the whole body or query). */
function fieldOf(instancePath: string, child?: unknown): string | undefined {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (typeof child === 'string') parts.push(child);
  if (parts.length === 0) return undefined;
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

/** Turns the first schema violation into a code, a field and a sentence a person can act on. */
export function fromSchemaError(e: SchemaError, context: string | undefined): ApiError {
  const where = WHERE[context as keyof typeof WHERE] ?? 'field';
  const p = e.params;
  if (e.keyword === 'additionalProperties') {
    const field = fieldOf(e.instancePath, p.additionalProperty);
    return new ApiError('unknown_field', `unknown ${where} "${field}"`, field);
  }
  if (e.keyword === 'required') {
    const field = fieldOf(e.instancePath, p.missingProperty);
    return new ApiError('validation_failed', `${where} "${field}" is required`, field);
  }
  const field = fieldOf(e.instancePath);
  // An empty update: the body is a JSON object, it just asks for nothing.
  if (e.keyword === 'minProperties' && field === undefined) return new ApiError('validation_failed', `send at least ${String(p.limit)} ${where}(s)`);
  if (field === undefined && context === 'body') return new ApiError('invalid_body', 'the body must be a JSON object');
  const name = field ?? where;
  switch (e.keyword) {
    case 'maxItems':
      return new ApiError('too_many_items', `${name} has more than ${String(p.limit)} items; nothing was changed`, field);
    case 'minItems':
      return new ApiError('validation_failed', `${name} must have at least ${String(p.limit)} item(s)`, field);
    case 'enum':
      return new ApiError('validation_failed', `${name} must be one of: ${(p.allowedValues as unknown[]).join(', ')}`, field);
    case 'format':
      return new ApiError('validation_failed', p.format === 'email' ? `${name} is not a valid email address` : `${name} must be a ${String(p.format)}`, field);
    default:
      return new ApiError('validation_failed', `${name} ${e.message ?? 'is invalid'}`, field);
  }
}

/** Fastify's own refusals (content type, body size, JSON syntax, validation) in the v2 shape. */
export function toApiError(err: FastifyError & { validationContext?: string }): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err.validation && err.validation.length > 0) return fromSchemaError(err.validation[0] as SchemaError, err.validationContext);
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large', err.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('invalid_body', 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('invalid_body', 'the body is not valid JSON');
  }
  if (err.statusCode === 400 && err instanceof SyntaxError) return new ApiError('invalid_body', `the body is not valid JSON: ${err.message}`);
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new ApiError('bad_request', err.message);
  return null; // a fault on our side
}

export function errorBody(e: ApiError): ApiV2ErrorBody {
  return { error: { code: e.code, message: e.message, ...(e.field === undefined ? {} : { field: e.field }) } };
}

export function sendApiError(reply: FastifyReply, e: ApiError): FastifyReply {
  // RFC 9110: a 401 names the scheme to use; Basic is accepted too but not advertised, so
  // browsers do not pop up a login dialog.
  if (e.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="postline"');
  if (e.code === 'too_many_requests') reply.header('retry-after', String(Math.ceil(AUTH_FAILURE_WINDOW_MS / 1000)));
  return reply.code(e.status).type('application/json; charset=utf-8').send(errorBody(e));
}
