import { SUPPRESSION_REASONS, type Suppression } from '../../../core/suppression.js';
import type { SuppressionQuery, SuppressionSortField } from '../../../store/suppressions.js';
import { emailAddressSchema } from '../schemas.js';
import { directionOf, type SortDirection } from '../paging.js';
import { MAX_ADDRESS_LENGTH } from '../../../core/address.js';

/** A suppression as the v2 API shows it (SocketLabs' camelCase names). */
export interface SuppressionWire {
  emailAddress: string;
  reason: Suppression['reason'];
  detail: string | null;
  createdOn: string;
  lastUpdate: string;
}

export const toWire = (s: Suppression): SuppressionWire => ({
  emailAddress: s.address,
  reason: s.reason,
  detail: s.detail,
  createdOn: new Date(s.createdAt).toISOString(),
  lastUpdate: new Date(s.updatedAt).toISOString(),
});

export const suppressionSchema = {
  type: 'object',
  required: ['emailAddress', 'reason', 'detail', 'createdOn', 'lastUpdate'],
  properties: {
    emailAddress: { type: 'string', description: 'lower-cased' },
    reason: { type: 'string', enum: [...SUPPRESSION_REASONS] },
    detail: { type: ['string', 'null'], description: 'what caused it, e.g. the bounce reply and its FailureCode' },
    createdOn: { type: 'string', format: 'date-time' },
    lastUpdate: { type: 'string', format: 'date-time' },
  },
} as const;

/** Sort fields of the list routes, SocketLabs' names -> the store's. */
export const SORT_FIELDS = ['emailAddress', 'suppressionLastUpdate'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export const SORT_DEFAULTS = { sortField: 'suppressionLastUpdate', sortDirection: 'dsc' } as const;

/** Optional filters of search and download. */
export const filterProperties = {
  startsWith: { type: 'string', minLength: 1, maxLength: MAX_ADDRESS_LENGTH, description: 'only addresses starting with this (case-insensitive)' },
  contains: { type: 'string', minLength: 1, maxLength: MAX_ADDRESS_LENGTH, description: 'only addresses containing this (case-insensitive)' },
} as const;

export interface FilterQuery {
  startsWith?: string;
  contains?: string;
  sortField: SortField;
  sortDirection: SortDirection;
}

export function storeQuery(q: FilterQuery): SuppressionQuery {
  const sort: SuppressionSortField = q.sortField === 'emailAddress' ? 'address' : 'updatedAt';
  return { sort, direction: directionOf(q.sortDirection), startsWith: q.startsWith, contains: q.contains };
}

/** `?emailAddress=` of lookup and remove. */
export const addressQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['emailAddress'],
  properties: { emailAddress: emailAddressSchema },
} as const;
