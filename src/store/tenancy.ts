/**
 * Servers and API keys as the v2 API and the CLI manage them: paged lists, and key calls that
 * always filter by their owner (a server, or an account for account keys), so one tenant never
 * reaches another's keys. Written once with Kysely for both dialects.
 */
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { ApiKeyScope } from '../core/api-key.js';
import type { ApiKeysTable, Database } from './schema.js';
import type { ApiKeyOwner, ApiKeyRecord, ApiKeySortField, PageRequest, ServerSortField } from './store.js';

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
