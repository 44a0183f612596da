import { DEFAULT_PAGE_SIZE, MAX_PAGE_NUMBER, MAX_PAGE_SIZE } from '../../core/api-v2-limits.js';

/** `dsc` is SocketLabs' spelling; `desc` is accepted because everyone types it. */
export const SORT_DIRECTIONS = ['asc', 'dsc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

/** JSON-schema properties of a sorted list: `sortField` (the route's whitelist) and `sortDirection`. */
export function sortQueryProperties<F extends string>(fields: readonly F[], defaults: { sortField: F; sortDirection: 'asc' | 'dsc' }) {
  return {
    sortField: { type: 'string', enum: [...fields], default: defaults.sortField, description: 'what to sort by' },
    sortDirection: { type: 'string', enum: [...SORT_DIRECTIONS], default: defaults.sortDirection, description: 'asc, or dsc (desc) for descending' },
  } as const;
}

/** JSON-schema properties of a paged list: sort plus `pageSize` and 0-based `pageNumber`. */
export function pagedQueryProperties<F extends string>(fields: readonly F[], defaults: { sortField: F; sortDirection: 'asc' | 'dsc' }) {
  return {
    pageSize: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `entries per page (at most ${MAX_PAGE_SIZE})` },
    pageNumber: { type: 'integer', minimum: 0, maximum: MAX_PAGE_NUMBER, default: 0, description: '0-based page index' },
    ...sortQueryProperties(fields, defaults),
  } as const;
}

export interface PagedQuery<F extends string> {
  pageSize: number;
  pageNumber: number;
  sortField: F;
  sortDirection: SortDirection;
}

export const directionOf = (d: SortDirection): 'asc' | 'desc' => (d === 'asc' ? 'asc' : 'desc');

/** The store's limit and offset for a validated (defaults applied) paged query. */
export function pageOf(q: Pick<PagedQuery<string>, 'pageSize' | 'pageNumber'>): { limit: number; offset: number } {
  return { limit: q.pageSize, offset: q.pageNumber * q.pageSize };
}

/** The `{ data, total }` envelope of a paged list, as a response schema. */
export function pagedResponse(item: object) {
  return {
    type: 'object',
    required: ['data', 'total'],
    properties: { data: { type: 'array', items: item }, total: { type: 'integer', description: 'entries matching, over all pages' } },
  } as const;
}

/** The `{ data }` envelope of one object, as a response schema. */
export function dataResponse(item: object) {
  return { type: 'object', required: ['data'], properties: { data: item } } as const;
}
