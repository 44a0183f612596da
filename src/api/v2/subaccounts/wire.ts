import type { Server, Store } from '../../../store/store.js';
import type { SendingDomainService } from '../../../domains/service.js';
import type { CustomDomains } from '../../../custom-domains/service.js';
import type { CustomDomainTargets } from '../../../custom-domains/records.js';
import type { InjectionCredentials } from '../../../accept/injection-credentials.js';

export interface SubaccountRouteDeps {
  store: Store;
  now: () => number;
  /** The servers' `injection-api credentials` keys. */
  credentials: InjectionCredentials;
  /** The Injection API's URL as clients reach it (the public URL, else this host and port). */
  gateway: () => string;
  sendingDomains: SendingDomainService;
  customDomains: { domains: CustomDomains; targets: CustomDomainTargets };
  /** Tells this process's caches of server settings that a server changed (tracking switches). */
  serverChanged?: (serverId: number) => void;
}

/** SocketLabs' spelling of a status: `Active`, `Disabled`. */
const STATUS = { active: 'Active', disabled: 'Disabled' } as const;

/**
 * A sub-account as SocketLabs' `POST /subaccount` answers it. A sub-account is a server:
 * subaccountId is its ServerId. Postline keeps no StreamScore or volume average, so a new
 * sub-account has streamScore null and avgDailyVolume 0; useRuleEngine echoes the request.
 */
export const toWire = (s: Server, useRuleEngine: boolean) => ({
  subaccountId: s.id,
  accountId: s.accountId,
  name: s.name,
  status: STATUS[s.status],
  createdOn: new Date(s.createdAt).toISOString(),
  streamScore: null,
  avgDailyVolume: 0,
  useRuleEngine,
});

export const subaccountSchema = {
  type: 'object',
  required: ['subaccountId', 'accountId', 'name', 'status', 'createdOn', 'streamScore', 'avgDailyVolume', 'useRuleEngine'],
  properties: {
    subaccountId: { type: 'integer', description: 'the ServerId of the server the sub-account is' },
    accountId: { type: 'integer' },
    name: { type: 'string' },
    status: { type: 'string', enum: ['Active', 'Disabled'] },
    createdOn: { type: 'string', format: 'date-time' },
    streamScore: { type: ['number', 'null'], description: 'always null: Postline keeps no StreamScore' },
    avgDailyVolume: { type: 'number', description: 'always 0 for a new sub-account' },
    useRuleEngine: { type: 'boolean' },
  },
} as const;

export const credentialsSchema = {
  type: 'object',
  required: ['serverId', 'apiKey', 'gateway'],
  properties: {
    serverId: { type: 'integer' },
    apiKey: { type: 'string', description: "the server's injection-api credentials key (the same on every call while it lives)" },
    gateway: { type: 'string', description: 'the Injection API URL to POST messages to' },
  },
} as const;
