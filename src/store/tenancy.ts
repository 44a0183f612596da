/**
 * Accounts, their servers and API keys, as authentication, the v2 API and the CLI use them: paged
 * lists, and key calls that always filter by their owner (a server, or an account for account
 * keys), so one tenant never reaches another's keys. Written once with Kysely for both dialects.
 */
import type { ExpressionBuilder, Kysely, Selectable, Updateable } from 'kysely';
import type { ApiKeyScope } from '../core/api-key.js';
import type { AccountsTable, ApiKeysTable, Database, ServersTable } from './schema.js';
import type {
  Account,
  ApiKeyAuth,
  ApiKeyOwner,
  ApiKeyRecord,
  ApiKeySortField,
  PageRequest,
  Server,
  ServerPatch,
  ServerSortField,
  ServerTracking,
} from './store.js';

const toAccount = (r: Selectable<AccountsTable>): Account => ({
  id: Number(r.id),
  name: r.name,
  status: r.status as Account['status'],
  createdAt: Number(r.created_at),
});

const toServer = (r: Selectable<ServersTable>): Server => ({
  id: Number(r.id),
  accountId: Number(r.account_id),
  name: r.name,
  status: r.status as Server['status'],
  sandbox: r.sandbox === 1,
  createdAt: Number(r.created_at),
  tracking: { opens: r.track_opens === 1, clicks: r.track_clicks === 1, unsubscribes: r.track_unsubscribes === 1, domain: r.tracking_domain },
  requireVerifiedDomain: Number(r.require_verified_domain) === 1,
});

export const toKey = (r: Selectable<ApiKeysTable>): ApiKeyRecord => ({
  id: Number(r.id),
  publicId: r.public_id,
  serverId: r.server_id === null ? null : Number(r.server_id),
  scope: r.scope as ApiKeyScope,
  name: r.name,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  accountId: Number(r.account_id),
});

const SERVER_SORT_COLUMNS = { serverId: 'id', name: 'name', createdOn: 'created_at' } as const;
const KEY_SORT_COLUMNS = { createdOn: 'created_at', name: 'name' } as const;

export async function insertApiKey(
  db: Kysely<Database>,
  input: { serverId: number | null; accountId?: number; scope: ApiKeyScope; name: string; publicId: string; secretHash: string },
  now: number,
): Promise<ApiKeyRecord> {
  let accountId = input.accountId;
  if (input.serverId !== null) {
    // A server's key belongs to the server's account; the caller cannot say otherwise.
    const server = await db.selectFrom('servers').select('account_id').where('id', '=', input.serverId).executeTakeFirst();
    if (!server) throw new Error(`no server ${input.serverId}`);
    accountId = Number(server.account_id);
  }
  if (accountId === undefined) throw new Error('an account key needs its accountId');
  const row = await db
    .insertInto('api_keys')
    .values({
      public_id: input.publicId,
      secret_hash: input.secretHash,
      server_id: input.serverId,
      account_id: accountId,
      scope: input.scope,
      name: input.name,
      created_at: now,
      revoked_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toKey(row);
}

/** The key, its server's status (null for account keys) and its account's status: one indexed lookup. */
export async function findKeyForAuth(db: Kysely<Database>, publicId: string) {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('accounts as a', 'a.id', 'k.account_id')
    .leftJoin('servers as s', 's.id', 'k.server_id')
    .selectAll('k')
    .select(['s.status as server_status', 'a.status as account_status'])
    .where('k.public_id', '=', publicId)
    .executeTakeFirst();
}

export async function listServersOfAccount(db: Kysely<Database>, accountId: number, page: PageRequest & { sortField: ServerSortField }) {
  const base = db.selectFrom('servers').where('account_id', '=', accountId);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy(SERVER_SORT_COLUMNS[page.sortField], page.direction).orderBy('id', page.direction).limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** The owner's keys: a server's, or the account's own account-scope keys. */
const ownedBy = (owner: ApiKeyOwner) => (eb: ExpressionBuilder<Database, 'api_keys'>) =>
  'serverId' in owner ? eb('server_id', '=', owner.serverId) : eb.and([eb('account_id', '=', owner.accountId), eb('server_id', 'is', null)]);

export async function listApiKeysOf(db: Kysely<Database>, owner: ApiKeyOwner, page: PageRequest & { sortField: ApiKeySortField }) {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('api_keys')
      .selectAll()
      .where(ownedBy(owner))
      .orderBy(KEY_SORT_COLUMNS[page.sortField], page.direction)
      .orderBy('id', page.direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(ownedBy(owner))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(toKey), total: Number(count.n) };
}

export async function getApiKeyOf(db: Kysely<Database>, owner: ApiKeyOwner, publicId: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('public_id', '=', publicId).where(ownedBy(owner)).executeTakeFirst();
  return row && toKey(row);
}

export async function revokeApiKeyOf(db: Kysely<Database>, owner: ApiKeyOwner, publicId: string, now: number): Promise<ApiKeyRecord | undefined> {
  await db.updateTable('api_keys').set({ revoked_at: now }).where('public_id', '=', publicId).where('revoked_at', 'is', null).where(ownedBy(owner)).execute();
  return getApiKeyOf(db, owner, publicId);
}

export async function rotateApiKeyOf(db: Kysely<Database>, owner: ApiKeyOwner, publicId: string, secretHash: string): Promise<ApiKeyRecord | undefined> {
  const row = await db
    .updateTable('api_keys')
    .set({ secret_hash: secretHash })
    .where('public_id', '=', publicId)
    .where('revoked_at', 'is', null)
    .where(ownedBy(owner))
    .returningAll()
    .executeTakeFirst();
  return row && toKey(row);
}

/** Accounts, their servers and the API keys that act for them. */
export interface TenancyRepository {
  createAccount(name: string, now: number): Promise<Account>;
  listAccounts(): Promise<Account[]>;
  createServer(
    input: { accountId: number; name: string; sandbox?: boolean; requireVerifiedDomain?: boolean; tracking?: Partial<Omit<ServerTracking, 'domain'>> },
    now: number,
  ): Promise<Server>;
  getServer(id: number): Promise<Server | undefined>;
  listServers(): Promise<Server[]>;
  /** Changes the given fields; undefined when there is no such server. */
  updateServer(id: number, patch: ServerPatch): Promise<Server | undefined>;
  /**
   * A server's key (serverId set; its account is the server's), or an account key (scope
   * `account`, serverId null, accountId set).
   */
  createApiKey(
    input: { serverId: number | null; accountId?: number; scope: ApiKeyScope; name: string; publicId: string; secretHash: string },
    now: number,
  ): Promise<ApiKeyRecord>;
  listApiKeys(serverId?: number): Promise<ApiKeyRecord[]>;
  findApiKeyForAuth(publicId: string): Promise<ApiKeyAuth | undefined>;
  revokeApiKey(publicId: string, now: number): Promise<boolean>;
  /** The account's servers, a page at a time; ties ordered by id. */
  listServersOfAccount(accountId: number, page: PageRequest & { sortField: ServerSortField }): Promise<{ rows: Server[]; total: number }>;
  /** The owner's keys (revoked ones too), a page at a time; ties ordered by id. */
  listApiKeysOf(owner: ApiKeyOwner, page: PageRequest & { sortField: ApiKeySortField }): Promise<{ rows: ApiKeyRecord[]; total: number }>;
  getApiKeyOf(owner: ApiKeyOwner, publicId: string): Promise<ApiKeyRecord | undefined>;
  /** Revokes the owner's key if live; returns the key (revoked, now or before), undefined when the owner has no such key. */
  revokeApiKeyOf(owner: ApiKeyOwner, publicId: string, now: number): Promise<ApiKeyRecord | undefined>;
  /** Replaces a live key's secret (same id, public id and name); undefined when the owner has no such live key. */
  rotateApiKeyOf(owner: ApiKeyOwner, publicId: string, secretHash: string): Promise<ApiKeyRecord | undefined>;
}

/** Tenancy for both dialects. */
export class SqlTenancyRepository implements TenancyRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async createAccount(name: string, now: number): Promise<Account> {
    const row = await this.db.insertInto('accounts').values({ name, status: 'active', created_at: now }).returningAll().executeTakeFirstOrThrow();
    return toAccount(row);
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.db.selectFrom('accounts').selectAll().orderBy('id').execute()).map(toAccount);
  }

  async createServer(
    input: { accountId: number; name: string; sandbox?: boolean; requireVerifiedDomain?: boolean; tracking?: Partial<Omit<ServerTracking, 'domain'>> },
    now: number,
  ): Promise<Server> {
    const row = await this.db
      .insertInto('servers')
      .values({
        account_id: input.accountId,
        name: input.name,
        status: 'active',
        sandbox: input.sandbox ? 1 : 0,
        created_at: now,
        require_verified_domain: input.requireVerifiedDomain ? 1 : 0,
        track_opens: input.tracking?.opens ? 1 : 0,
        track_clicks: input.tracking?.clicks ? 1 : 0,
        track_unsubscribes: input.tracking?.unsubscribes ? 1 : 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toServer(row);
  }

  async updateServer(id: number, patch: ServerPatch): Promise<Server | undefined> {
    const set: Updateable<ServersTable> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.sandbox !== undefined) set.sandbox = patch.sandbox ? 1 : 0;
    if (patch.requireVerifiedDomain !== undefined) set.require_verified_domain = patch.requireVerifiedDomain ? 1 : 0;
    const t = patch.tracking ?? {};
    if (t.opens !== undefined) set.track_opens = t.opens ? 1 : 0;
    if (t.clicks !== undefined) set.track_clicks = t.clicks ? 1 : 0;
    if (t.unsubscribes !== undefined) set.track_unsubscribes = t.unsubscribes ? 1 : 0;
    if (t.domain !== undefined) set.tracking_domain = t.domain;
    if (Object.keys(set).length > 0) await this.db.updateTable('servers').set(set).where('id', '=', id).execute();
    return this.getServer(id);
  }

  async getServer(id: number): Promise<Server | undefined> {
    const row = await this.db.selectFrom('servers').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toServer(row);
  }

  async listServers(): Promise<Server[]> {
    return (await this.db.selectFrom('servers').selectAll().orderBy('id').execute()).map(toServer);
  }

  createApiKey(
    input: { serverId: number | null; accountId?: number; scope: ApiKeyScope; name: string; publicId: string; secretHash: string },
    now: number,
  ): Promise<ApiKeyRecord> {
    return insertApiKey(this.db, input, now);
  }

  async listApiKeys(serverId?: number): Promise<ApiKeyRecord[]> {
    let q = this.db.selectFrom('api_keys').selectAll().orderBy('id');
    if (serverId !== undefined) q = q.where('server_id', '=', serverId);
    return (await q.execute()).map(toKey);
  }

  async findApiKeyForAuth(publicId: string): Promise<ApiKeyAuth | undefined> {
    const row = await findKeyForAuth(this.db, publicId);
    if (!row) return undefined;
    return {
      ...toKey(row),
      secretHash: row.secret_hash,
      serverStatus: row.server_status as Server['status'] | null,
      accountStatus: row.account_status as Account['status'],
    };
  }

  async revokeApiKey(publicId: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('public_id', '=', publicId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async listServersOfAccount(accountId: number, page: PageRequest & { sortField: ServerSortField }): Promise<{ rows: Server[]; total: number }> {
    const { rows, total } = await listServersOfAccount(this.db, accountId, page);
    return { rows: rows.map(toServer), total };
  }

  listApiKeysOf(owner: ApiKeyOwner, page: PageRequest & { sortField: ApiKeySortField }): Promise<{ rows: ApiKeyRecord[]; total: number }> {
    return listApiKeysOf(this.db, owner, page);
  }

  getApiKeyOf(owner: ApiKeyOwner, publicId: string): Promise<ApiKeyRecord | undefined> {
    return getApiKeyOf(this.db, owner, publicId);
  }

  revokeApiKeyOf(owner: ApiKeyOwner, publicId: string, now: number): Promise<ApiKeyRecord | undefined> {
    return revokeApiKeyOf(this.db, owner, publicId, now);
  }

  rotateApiKeyOf(owner: ApiKeyOwner, publicId: string, secretHash: string): Promise<ApiKeyRecord | undefined> {
    return rotateApiKeyOf(this.db, owner, publicId, secretHash);
  }
}
