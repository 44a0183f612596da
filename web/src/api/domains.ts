/**
 * The Domains page's calls: a server's sending domains (docs/sending-domains.md) and its custom
 * bounce and tracking domains (docs/custom-domains.md), all under /api/v2/servers/{serverId}.
 */
import { call, seg, type Page } from '../api.js';

/** What a record's last check found; `unchecked` before the first check (or after the expected value changed). */
export type RecordStatus = 'verified' | 'missing' | 'mismatch' | 'error' | 'unchecked';

/** One record of a sending domain's last verification (`lastCheck[]`). */
export interface SendingRecordCheck {
  type: 'TXT' | 'CNAME';
  name: string;
  expected: string;
  purpose: string;
  required: boolean;
  status: Exclude<RecordStatus, 'unchecked'>;
  found: string[];
  reason?: string;
  kind?: 'dkim' | 'spf' | 'dmarc' | 'return-path';
  selector?: string;
}

export interface DkimKey {
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  state: 'pending' | 'active' | 'retiring' | 'retired';
  dnsName: string;
  createdOn: string;
  activatedOn: string | null;
  retiresOn: string | null;
}

export interface SendingDomain {
  id: number;
  domain: string;
  verified: boolean;
  verifiedOn: string | null;
  lastCheckedOn: string | null;
  createdOn: string;
  lastUpdate: string;
  keys: DkimKey[];
  lastCheck: SendingRecordCheck[] | null;
}

/** A record to publish for a sending domain (`dns-records`). */
export interface SendingRecord {
  type: 'TXT' | 'CNAME';
  name: string;
  value: string;
  purpose: string;
  required: boolean;
  /** A TXT value longer than 255 characters, as the strings of one record. */
  chunks?: string[];
}

export type CustomKind = 'bounce' | 'tracking';

export interface CustomRecord {
  type: 'CNAME';
  name: string;
  expected: string;
  status: RecordStatus;
  found: string[];
  error?: string;
}

export interface CustomDomain {
  domainId: number;
  domain: string;
  isDefault: boolean;
  verified: boolean;
  /** Tracking domains only. */
  httpsEnabled?: boolean;
  verifiedOn: string | null;
  lastCheckedOn: string | null;
  createdOn: string;
  updatedOn: string;
  records: CustomRecord[];
}

const base = (serverId: number) => `/api/v2/servers/${seg(serverId)}`;
const customPath = (kind: CustomKind) => (kind === 'bounce' ? 'bounce-domains' : 'tracking-domains');

// Sending domains.

export async function listSendingDomains(serverId: number): Promise<Page<SendingDomain>> {
  return call<Page<SendingDomain>>('GET', `${base(serverId)}/sending-domains?pageSize=100&sortField=domain&sortDirection=asc`);
}

export async function getSendingDomain(serverId: number, id: number): Promise<SendingDomain> {
  return (await call<{ data: SendingDomain }>('GET', `${base(serverId)}/sending-domains/${seg(id)}`)).data;
}

export async function addSendingDomain(serverId: number, body: { domain: string; selector?: string; ed25519?: boolean }): Promise<SendingDomain> {
  return (await call<{ data: SendingDomain }>('POST', `${base(serverId)}/sending-domains`, body)).data;
}

export async function sendingDnsRecords(serverId: number, id: number): Promise<SendingRecord[]> {
  return (await call<{ data: { domain: string; records: SendingRecord[] } }>('GET', `${base(serverId)}/sending-domains/${seg(id)}/dns-records`)).data.records;
}

export async function verifySendingDomain(serverId: number, id: number): Promise<SendingDomain> {
  return (await call<{ data: SendingDomain }>('POST', `${base(serverId)}/sending-domains/${seg(id)}/verify`)).data;
}

export async function rotateDkim(serverId: number, id: number, selector?: string): Promise<SendingDomain> {
  return (await call<{ data: SendingDomain }>('POST', `${base(serverId)}/sending-domains/${seg(id)}/dkim/rotate`, selector ? { selector } : {})).data;
}

export async function deleteSendingDomain(serverId: number, id: number): Promise<void> {
  await call<unknown>('DELETE', `${base(serverId)}/sending-domains/${seg(id)}`);
}

// Custom bounce and tracking domains.

export async function listCustomDomains(serverId: number, kind: CustomKind): Promise<Page<CustomDomain>> {
  return call<Page<CustomDomain>>('GET', `${base(serverId)}/${customPath(kind)}?pageSize=100&sortField=domain&sortDirection=asc`);
}

export async function getCustomDomain(serverId: number, kind: CustomKind, id: number): Promise<CustomDomain> {
  return (await call<{ data: CustomDomain }>('GET', `${base(serverId)}/${customPath(kind)}/${seg(id)}`)).data;
}

export async function addCustomDomain(serverId: number, kind: CustomKind, body: { domain: string; httpsEnabled?: boolean }): Promise<CustomDomain> {
  return (await call<{ data: CustomDomain }>('POST', `${base(serverId)}/${customPath(kind)}`, body)).data;
}

export async function verifyCustomDomain(serverId: number, kind: CustomKind, id: number): Promise<CustomDomain> {
  return (await call<{ data: CustomDomain }>('POST', `${base(serverId)}/${customPath(kind)}/${seg(id)}/verify`)).data;
}

export async function updateCustomDomain(
  serverId: number,
  kind: CustomKind,
  id: number,
  body: { isDefault?: boolean; httpsEnabled?: boolean },
): Promise<CustomDomain> {
  return (await call<{ data: CustomDomain }>('PATCH', `${base(serverId)}/${customPath(kind)}/${seg(id)}`, body)).data;
}

export async function deleteCustomDomain(serverId: number, kind: CustomKind, id: number): Promise<void> {
  await call<unknown>('DELETE', `${base(serverId)}/${customPath(kind)}/${seg(id)}`);
}
