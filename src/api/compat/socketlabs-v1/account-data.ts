/**
 * GET /v1/accountData's object: SocketLabs' billing-period figures of a server, named as its
 * clients read them. Postline has no plans or allowances, so the period is the calendar month in
 * the caller's time zone, the allowances are null (no limit) and no server is ever over one; the
 * message count is the month's Queued recipients from the statistics rollups. Bandwidth and API
 * calls are not counted here: null.
 */
import type { Store } from '../../../store/store.js';
import type { V1Record } from './render.js';

const HOUR_MS = 3_600_000;

export const ACCOUNT_DATA_FIELDS = (idName: 'serverId' | 'accountId'): string[] => [
  idName === 'accountId' ? 'AccountId' : 'ServerId',
  'PlanBillingPeriodStart',
  'PlanBillingPeriodEnd',
  'BillingPeriodStart',
  'BillingPeriodEnd',
  'BillingPeriodMessageCount',
  'BillingPeriodBandwidthCountInBytes',
  'BillingPeriodBandwidthCountInGigabytes',
  'BillingPeriodApiCount',
  'ApiAllowance',
  'MaxApiAllowance',
  'MessageAllowance',
  'MaxMessageAllowance',
  'BandwidthAllowanceInBytes',
  'MaxBandwidthAllowanceInBytes',
  'BandwidthAllowanceInGigabytes',
  'MaxBandwidthAllowanceInGigabytes',
  'IsOverApiAllowance',
  'IsOverBandwidthAllowance',
  'IsOverMessageAllowance',
];

export async function accountData(store: Store, serverId: number, idName: 'serverId' | 'accountId', timeZoneMinutes: number, now: number): Promise<V1Record> {
  const offset = timeZoneMinutes * 60_000;
  const local = new Date(now + offset);
  // Local wall-clock times as epoch ms, like every date this API gives out.
  const start = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1);
  const end = Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 1) - 1000;
  // Rollups are hourly: the hours that start in the month so far (a zone off the whole hour counts from the hour before).
  const fromHour = Math.floor((start - offset) / HOUR_MS) * HOUR_MS;
  const toHour = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS;
  const rows = await store.reports.readRollups({ serverId, dim: '', dimValue: '', fromHour, toHour, grouping: { by: 'hour' } });
  const queued = rows.reduce((n, r) => n + r.counts.queued, 0);
  const values: V1Record = {
    PlanBillingPeriodStart: start,
    PlanBillingPeriodEnd: end,
    BillingPeriodStart: start,
    BillingPeriodEnd: end,
    BillingPeriodMessageCount: queued,
    BillingPeriodBandwidthCountInBytes: null,
    BillingPeriodBandwidthCountInGigabytes: null,
    BillingPeriodApiCount: null,
    ApiAllowance: null,
    MaxApiAllowance: null,
    MessageAllowance: null,
    MaxMessageAllowance: null,
    BandwidthAllowanceInBytes: null,
    MaxBandwidthAllowanceInBytes: null,
    BandwidthAllowanceInGigabytes: null,
    MaxBandwidthAllowanceInGigabytes: null,
    IsOverApiAllowance: false,
    IsOverBandwidthAllowance: false,
    IsOverMessageAllowance: false,
  };
  return { [idName === 'accountId' ? 'AccountId' : 'ServerId']: serverId, ...values };
}
