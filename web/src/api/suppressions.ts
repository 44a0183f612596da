/** The suppression list's calls (docs/api-v2.md, "Suppressions"): search, add, remove, bulk-add, download. */
import { call, type Page, seg } from '../api.js';

export const SUPPRESSION_REASONS = ['CustomerRequest', 'Unsubscribe', 'Complaint', 'Bounce', 'Failure'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface Suppression {
  emailAddress: string;
  reason: SuppressionReason;
  detail: string | null;
  createdOn: string;
  lastUpdate: string;
}

export interface SuppressionFilter {
  /** `startsWith` or `contains` of the search route; empty text means no filter. */
  match: 'startsWith' | 'contains';
  text: string;
  sortField: 'suppressionLastUpdate' | 'emailAddress';
  sortDirection: 'asc' | 'dsc';
}

export interface BulkAddResult {
  received: number;
  added: number;
  updated: number;
  duplicates: number;
  refused: { index: number; emailAddress: string; message: string }[];
}

/** Items per bulk-add request: the API's MAX_BULK_ADD. */
export const BULK_ADD_CHUNK = 1_000;

const base = (serverId: number) => `/api/v2/servers/${seg(serverId)}/suppressions`;

function filterQuery(f: SuppressionFilter): URLSearchParams {
  const q = new URLSearchParams({ sortField: f.sortField, sortDirection: f.sortDirection });
  if (f.text !== '') q.set(f.match, f.text);
  return q;
}

export function searchSuppressions(serverId: number, f: SuppressionFilter, pageNumber: number, pageSize: number): Promise<Page<Suppression>> {
  const q = filterQuery(f);
  q.set('pageNumber', String(pageNumber));
  q.set('pageSize', String(pageSize));
  return call<Page<Suppression>>('GET', `${base(serverId)}/search?${q}`);
}

/** The CSV download of the (filtered) list: a plain GET, so a link with the session cookie does it. */
export function downloadUrl(serverId: number, f: SuppressionFilter): string {
  return `${base(serverId)}/download?${filterQuery(f)}`;
}

export async function addSuppression(serverId: number, emailAddress: string, reason: SuppressionReason): Promise<Suppression> {
  return (await call<{ data: Suppression }>('POST', base(serverId), { emailAddress, reason })).data;
}

export async function removeSuppression(serverId: number, emailAddress: string): Promise<void> {
  await call<unknown>('DELETE', `${base(serverId)}?${new URLSearchParams({ emailAddress })}`);
}

export async function bulkAddSuppressions(serverId: number, emailAddresses: string[], reason: SuppressionReason): Promise<BulkAddResult> {
  return (await call<{ data: BulkAddResult }>('POST', `${base(serverId)}/bulk-add`, { emailAddresses, reason })).data;
}
