/**
 * What the Marketing API speaks: camelCase JSON as SocketLabs' samples show it (§5), times as ISO
 * 8601, the limits it enforces, and the schemas the routes share.
 */
import { isValidEmailAddress, MAX_ADDRESS_LENGTH } from '../../../core/address.js';
import type { Contact, ContactList, CustomField } from '../../../store/store.js';
import { MarketingError } from './errors.js';

/** SocketLabs' limits on custom fields (§5). */
export const MAX_CUSTOM_FIELDS_PER_SERVER = 20;
export const MAX_CUSTOM_FIELD_NAME_LENGTH = 50;
/** Names a custom field may not take, compared case-insensitively (they name the contact's own fields). */
export const RESERVED_CUSTOM_FIELD_NAMES = ['emailaddress', 'contactid', 'id'] as const;
export const MAX_LIST_NAME_LENGTH = 100;
export const MAX_NAME_LENGTH = 100;
export const MAX_CUSTOM_FIELD_VALUE_LENGTH = 1000;
export const MAX_CONTACTS_PAGE_SIZE = 500;
export const MARKETING_BODY_LIMIT = 64 * 1024;
/** For the OpenAPI document: HTTP Basic, the ServerId as user name and a management key as password. */
export const MARKETING_SECURITY = [{ basic: [] as string[] }];

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const listSchema = {
  type: 'object',
  required: ['listId', 'serverId', 'name', 'contactCount', 'createdOn', 'updatedOn'],
  additionalProperties: false,
  properties: {
    listId: { type: 'integer' },
    serverId: { type: 'integer' },
    name: { type: 'string' },
    contactCount: { type: 'integer', description: 'contacts on the list' },
    createdOn: { type: 'string', format: 'date-time' },
    updatedOn: { type: 'string', format: 'date-time' },
  },
} as const;

export const listToWire = (l: ContactList) => ({
  listId: l.id,
  serverId: l.serverId,
  name: l.name,
  contactCount: l.contactCount,
  createdOn: iso(l.createdAt)!,
  updatedOn: iso(l.updatedAt)!,
});

export const contactSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['contactId', 'serverId', 'emailAddress', 'firstName', 'lastName', 'unsubscribed', 'unsubscribedOn', 'customFields', 'createdOn', 'updatedOn'],
  properties: {
    contactId: { type: 'integer' },
    serverId: { type: 'integer' },
    emailAddress: { type: 'string', description: 'lower-cased' },
    firstName: { type: 'string', nullable: true },
    lastName: { type: 'string', nullable: true },
    unsubscribed: { type: 'boolean' },
    unsubscribedOn: { type: 'string', format: 'date-time', nullable: true },
    customFields: { type: 'object', additionalProperties: { type: 'string' }, description: 'values by custom field name' },
    createdOn: { type: 'string', format: 'date-time' },
    updatedOn: { type: 'string', format: 'date-time' },
  },
} as const;

export const contactToWire = (c: Contact) => ({
  contactId: c.id,
  serverId: c.serverId,
  emailAddress: c.email,
  firstName: c.firstName,
  lastName: c.lastName,
  unsubscribed: c.unsubscribedAt !== null,
  unsubscribedOn: iso(c.unsubscribedAt),
  customFields: c.customFields,
  createdOn: iso(c.createdAt)!,
  updatedOn: iso(c.updatedAt)!,
});

export const customFieldSchema = {
  type: 'object',
  required: ['customFieldNameId', 'name', 'serverId', 'customFieldType'],
  additionalProperties: false,
  properties: {
    customFieldNameId: { type: 'integer' },
    name: { type: 'string' },
    serverId: { type: 'integer' },
    customFieldType: { type: 'string', enum: ['String'] },
  },
} as const;

export const customFieldToWire = (f: CustomField) => ({ customFieldNameId: f.id, name: f.name, serverId: f.serverId, customFieldType: 'String' as const });

/** Nothing in the body: the answer of a DELETE. */
export const noContent = { type: 'null', description: 'done; no body' } as const;

export const emailAddressProperty = { type: 'string', minLength: 1, maxLength: MAX_ADDRESS_LENGTH } as const;
export const nameProperty = { type: 'string', maxLength: MAX_NAME_LENGTH, nullable: true } as const;
export const customFieldsProperty = {
  type: 'object',
  maxProperties: MAX_CUSTOM_FIELDS_PER_SERVER,
  additionalProperties: { type: 'string', maxLength: MAX_CUSTOM_FIELD_VALUE_LENGTH },
  description: 'values by custom field name (the fields must exist: POST /customfields/{name})',
} as const;
export const listNameProperty = { type: 'string', minLength: 1, maxLength: MAX_LIST_NAME_LENGTH } as const;
export const idProperty = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

/** The address as stored: trimmed and lower-cased; 400 when it is not an address. */
export function normalizedAddress(raw: string, field = 'emailAddress'): string {
  const a = raw.trim();
  if (!isValidEmailAddress(a)) throw new MarketingError(400, `${field} "${raw}" is not a valid email address`, field);
  return a.toLowerCase();
}

/** A list name as stored (trimmed); 400 when nothing is left. */
export function listName(raw: string): string {
  const n = raw.trim();
  if (n === '') throw new MarketingError(400, 'name must not be blank', 'name');
  return n;
}
