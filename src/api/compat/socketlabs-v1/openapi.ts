/**
 * The legacy v1 routes as the OpenAPI document shows them. Documentation only (route
 * `config.openapi`, api/openapi/transform.ts): parameter names are read in any case and empty
 * values ignored (params.ts), which a validated query schema could not express.
 */
import type { FastifySchema } from 'fastify';
import { MAX_V1_COUNT } from './params.js';
import { V1_RESULTS } from './v1-error.js';

type Doc = FastifySchema & Record<string, unknown>;

export const V1_TAG = 'legacy-v1';
const SECURITY = [{ basic: [] as string[] }];

const common = {
  serverId: { type: 'integer', minimum: 1, description: 'the server (required; `accountId` is taken instead when absent)' },
  type: { type: 'string', enum: ['JSON', 'JSONP', 'XML', 'CSV'], default: 'JSON', description: "the answer's format, in any case" },
  callback: { type: 'string', description: 'with type=JSONP, required: a JavaScript function name' },
  timeZone: { type: 'integer', minimum: -1440, maximum: 1440, default: 0, description: 'minutes to add to UTC for local time (dates read and written)' },
} as const;

const listQuery = {
  type: 'object',
  properties: {
    ...common,
    count: { type: 'integer', minimum: 0, maximum: MAX_V1_COUNT, default: MAX_V1_COUNT, description: 'records to return' },
    index: { type: 'integer', minimum: 0, default: 0, description: '0-based position of the first record' },
    startDate: { type: 'string', description: '`yyyy-mm-dd hh:mm:ss` in timeZone (time optional), included' },
    endDate: { type: 'string', description: '`yyyy-mm-dd hh:mm:ss` in timeZone (time optional), included' },
    mailingId: { type: 'string', description: 'only recipients of this MailingId' },
    messageId: { type: 'string', description: "only recipients of this message (the MessageId given at injection, or Postline's id)" },
  },
} as const;

const errorSchema = {
  type: 'object',
  required: ['timestamp', 'result', 'message'],
  properties: {
    timestamp: { type: 'integer', description: 'epoch ms' },
    result: { type: 'string', enum: Object.keys(V1_RESULTS) },
    message: { type: 'string' },
    parameter: { type: 'string', description: 'the parameter at fault' },
  },
} as const;

const errors = {
  '4xx': { description: 'refused (docs/legacy-v1.md#errors); XML or JSONP when asked for', content: { 'application/json': { schema: errorSchema } } },
  '5xx': { description: 'a fault of ours', content: { 'application/json': { schema: errorSchema } } },
};

const record = (fields: Record<string, unknown>) => ({ type: 'object', properties: fields });
const ok = (json: unknown, what: string) => ({
  200: {
    description: `${what}. JSON, a JSONP call, XML (the same shape under <response>) or CSV (the records under a header row), as type asks`,
    content: {
      'application/json': { schema: json },
      'application/javascript': { schema: { type: 'string' } },
      'application/xml': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
    },
  },
  ...errors,
});

const COMMON_FIELDS = {
  ServerId: { type: 'integer' },
  DateTime: { type: 'integer', description: 'local epoch ms (UTC + timeZone)' },
  MessageId: { type: 'string', nullable: true },
  MailingId: { type: 'string', nullable: true },
  ToAddress: { type: 'string' },
  FromAddress: { type: 'string' },
};
const nullableInt = { type: 'integer', nullable: true };
const nullableString = { type: 'string', nullable: true };

const LIST_FIELDS: Record<string, { summary: string; fields: Record<string, unknown> }> = {
  messagesFailed: {
    summary: 'Failures: refused, bounced and suppressed recipients',
    fields: { FailureType: { type: 'integer', enum: [0, 1, 2] }, FailureCode: nullableInt, Reason: { type: 'string' } },
  },
  messagesQueued: {
    summary: 'Recipients accepted for delivery',
    fields: { MessageSize: { type: 'integer' }, FailureCode: nullableInt, Reason: nullableString },
  },
  messagesProcessed: {
    summary: 'Recipients the receiving server accepted',
    fields: { Disposition: { type: 'integer' }, LocalIp: nullableString, MessageSize: { type: 'integer' }, Response: { type: 'string' } },
  },
  messagesFblReported: {
    summary: 'Complaints (feedback-loop reports)',
    fields: { OriginalRecipient: { type: 'string' }, Type: { type: 'string' }, UserAgent: { type: 'string' } },
  },
  messagesOpenClick: {
    summary: 'Opens, clicks and unsubscribes',
    fields: { OriginalRecipient: { type: 'string' }, EventType: { type: 'integer', enum: [0, 1, 2] } },
  },
};

export function listDoc(method: string): Doc {
  const spec = LIST_FIELDS[method]!;
  return {
    summary: `${spec.summary} (SocketLabs' legacy v1 ${method})`,
    tags: [V1_TAG],
    security: SECURITY,
    querystring: listQuery,
    response: ok(
      {
        type: 'object',
        required: ['timestamp', 'totalCount', 'totalPages', 'count', 'collection'],
        properties: {
          timestamp: { type: 'integer' },
          totalCount: { type: 'integer' },
          totalPages: { type: 'integer' },
          count: { type: 'integer' },
          collection: { type: 'array', items: record({ ...COMMON_FIELDS, ...spec.fields }) },
        },
      },
      'a page of records, oldest first',
    ),
  };
}

export const accountDataDoc: Doc = {
  summary: "The server's figures for the current month (SocketLabs' legacy v1 accountData)",
  tags: [V1_TAG],
  security: SECURITY,
  querystring: { type: 'object', properties: common },
  response: ok(
    { type: 'object', properties: { timestamp: { type: 'integer' }, object: { type: 'object', additionalProperties: true } } },
    'one object (docs/legacy-v1.md#accountdata)',
  ),
};

export function suppressionDoc(what: string): Doc {
  return {
    summary: `${what} (SocketLabs' legacy v1 suppressions)`,
    tags: [V1_TAG],
    security: SECURITY,
    querystring: { type: 'object', required: ['emailAddress'], properties: { ...common, emailAddress: { type: 'string', format: 'email' } } },
    response: ok(
      {
        type: 'object',
        properties: {
          timestamp: { type: 'integer' },
          object: record({
            ServerId: { type: 'integer' },
            EmailAddress: { type: 'string' },
            Suppressed: { type: 'boolean' },
            Reason: nullableString,
            Detail: nullableString,
            DateTime: nullableInt,
            Removed: { type: 'boolean', description: 'DELETE only: whether it was on the list' },
          }),
        },
      },
      "the address's state after the call",
    ),
  };
}
