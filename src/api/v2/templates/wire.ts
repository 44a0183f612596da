/** What the template routes share: the wire shapes, schemas and the content check as an ApiError. */
import type { Store, StoredTemplate, TemplateContent } from '../../../store/store.js';
import { checkTemplateContent, MAX_TEMPLATE_NAME_LENGTH, type TemplateInput } from '../../../templates/content.js';
import { ApiError } from '../errors.js';

export interface TemplateRouteDeps {
  store: Store;
  now: () => number;
}

const iso = (t: number) => new Date(t).toISOString();

/** A template in a list or a version list: what identifies it, not its (possibly large) bodies. */
export const toSummary = (t: StoredTemplate) => ({
  templateId: t.id,
  name: t.name,
  subject: t.subject,
  version: t.version,
  currentVersion: t.currentVersion,
  createdOn: iso(t.createdAt),
  updatedOn: iso(t.updatedAt),
  versionCreatedOn: iso(t.versionCreatedAt),
});
/** One template at one version, with its content. */
export const toWire = (t: StoredTemplate) => ({ ...toSummary(t), htmlBody: t.htmlBody, textBody: t.textBody, ampBody: t.ampBody });

const nullableText = { type: ['string', 'null'] } as const;
const summaryProperties = {
  templateId: { type: 'integer', description: 'the id a message names as ApiTemplate' },
  name: { type: 'string' },
  subject: { ...nullableText, description: 'used when a message with this ApiTemplate has no Subject' },
  version: { type: 'integer', description: 'the version shown' },
  currentVersion: { type: 'integer', description: 'the version ApiTemplate sends' },
  createdOn: { type: 'string', format: 'date-time' },
  updatedOn: { type: 'string', format: 'date-time' },
  versionCreatedOn: { type: 'string', format: 'date-time', description: 'when the version shown was saved' },
} as const;
export const summarySchema = { type: 'object', required: Object.keys(summaryProperties), properties: summaryProperties } as const;
const templateProperties = { ...summaryProperties, htmlBody: nullableText, textBody: nullableText, ampBody: nullableText } as const;
export const templateSchema = { type: 'object', required: Object.keys(templateProperties), properties: templateProperties } as const;

/** Body fields of create and update (update: every field optional, null clears it). */
export const contentProperties = {
  name: { type: 'string', minLength: 1, maxLength: MAX_TEMPLATE_NAME_LENGTH, description: 'a label, one line' },
  subject: { ...nullableText, description: 'used when the message has no Subject; may hold %%Field%% placeholders' },
  htmlBody: { ...nullableText, description: 'HTML with %%Field%% placeholders; htmlBody or textBody is required' },
  textBody: { ...nullableText, description: 'plain text with %%Field%% placeholders' },
  ampBody: { ...nullableText, description: 'AMP for Email HTML, sent beside htmlBody or textBody' },
} as const;

export const templateParams = {
  type: 'object',
  required: ['serverId', 'templateId'],
  properties: {
    serverId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
    templateId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'the template id (ApiTemplate)' },
  },
} as const;
export interface TemplateParams {
  serverId: string;
  templateId: string;
}

/** The checked content, or the refusal as `validation_failed` naming the field. */
export function contentOrThrow(input: TemplateInput): TemplateContent {
  const r = checkTemplateContent(input);
  if (!r.ok) throw new ApiError('validation_failed', r.message, r.field);
  return r.content;
}

export const notFound = (id: string | number): ApiError => new ApiError('not_found', `template ${id} does not exist`);
