/**
 * Sending domains and their per-server DKIM keys, written once with Kysely for both dialects.
 * Every query filters by server_id (tenant isolation): another server's domain id finds nothing.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, DkimKeysTable, SendingDomainsTable } from './schema.js';
import type { NewServerDkimKey, PageRequest, SendingDomain, SendingDomainCheck, ServerDkimKey } from './store.js';
import type { DkimKeyState, RecordCheck } from '../core/sending-domain-types.js';

type Db = Kysely<Database> | Transaction<Database>;

const num = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

export const toServerDkimKey = (r: Selectable<DkimKeysTable>): ServerDkimKey => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  domain: r.domain,
  selector: r.selector,
  algorithm: r.algorithm as ServerDkimKey['algorithm'],
  privateKey: r.private_key,
  publicKey: r.public_key,
  createdAt: Number(r.created_at),
  retiredAt: num(r.retired_at),
  state: r.state as DkimKeyState,
  activatedAt: num(r.activated_at),
  retireAfter: num(r.retire_after),
});

const toDomain = (r: Selectable<SendingDomainsTable>, keys: ServerDkimKey[]): SendingDomain => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  domain: r.domain,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  verifiedAt: num(r.verified_at),
  lastCheckedAt: num(r.last_checked_at),
  checkResults: r.check_results === null ? null : (JSON.parse(r.check_results) as RecordCheck[]),
  keys,
});

/** The server's keys for one domain that are not retired, oldest first. */
async function liveKeys(db: Db, serverId: number, domain: string): Promise<ServerDkimKey[]> {
  const rows = await db
    .selectFrom('dkim_keys')
    .selectAll()
    .where('server_id', '=', serverId)
    .where('domain', '=', domain)
    .where('retired_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map(toServerDkimKey);
}

async function withKeys(db: Db, row: Selectable<SendingDomainsTable> | undefined): Promise<SendingDomain | undefined> {
  return row ? toDomain(row, await liveKeys(db, Number(row.server_id), row.domain)) : undefined;
}

async function insertKeys(db: Db, serverId: number, domain: string, keys: readonly NewServerDkimKey[], now: number): Promise<void> {
  if (keys.length === 0) return;
  await db
    .insertInto('dkim_keys')
    .values(
      keys.map((k) => ({
        server_id: serverId,
        domain,
        selector: k.selector,
        algorithm: k.algorithm,
        private_key: k.privateKey,
        public_key: k.publicKey,
        created_at: now,
        retired_at: null,
        state: k.state,
        activated_at: k.state === 'active' ? now : null,
        retire_after: null,
      })),
    )
    .execute();
}

/**
 * Sending domains of a server (domains/service.ts) and their DKIM keys. Every call takes the
 * serverId and touches only that server's rows.
 */
export interface SendingDomainRepository {
  /** Creates the domain with its first keys in one transaction; undefined when the server already has it. */
  create(input: { serverId: number; domain: string; keys: readonly NewServerDkimKey[] }, now: number): Promise<SendingDomain | undefined>;
  get(serverId: number, id: number): Promise<SendingDomain | undefined>;
  find(serverId: number, domain: string): Promise<SendingDomain | undefined>;
  list(serverId: number, page: PageRequest & { sortField: 'domain' | 'createdOn' }): Promise<{ rows: SendingDomain[]; total: number }>;
  /** Deletes the domain and the server's keys for it. */
  delete(serverId: number, id: number): Promise<boolean>;
  /** Adds keys (a rotation) to the server's domain. */
  addKeys(serverId: number, domain: string, keys: readonly NewServerDkimKey[], now: number): Promise<void>;
  /** Stores a verification's results and the key state changes it decided, in one transaction. */
  recordCheck(serverId: number, id: number, check: SendingDomainCheck, now: number): Promise<SendingDomain | undefined>;
  /** The server's active keys for the domain (what the signer uses). */
  signingKeys(serverId: number, domain: string): Promise<ServerDkimKey[]>;
  /** The server's verified sending domains (lower-case). */
  verifiedDomains(serverId: number): Promise<string[]>;
}

/** Sending domains in SQL, one implementation for both dialects (Kysely). */
export class SqlSendingDomainRepository implements SendingDomainRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { serverId: number; domain: string; keys: readonly NewServerDkimKey[] }, now: number): Promise<SendingDomain | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('sending_domains')
        .values({
          server_id: input.serverId,
          domain: input.domain,
          created_at: now,
          updated_at: now,
          verified_at: null,
          last_checked_at: null,
          check_results: null,
        })
        .onConflict((oc) => oc.columns(['server_id', 'domain']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      // Keys left behind by an earlier domain of the same name (deleted) would clash on selectors.
      await trx.deleteFrom('dkim_keys').where('server_id', '=', input.serverId).where('domain', '=', input.domain).execute();
      await insertKeys(trx, input.serverId, input.domain, input.keys, now);
      return withKeys(trx, row);
    });
  }
  async get(serverId: number, id: number): Promise<SendingDomain | undefined> {
    return withKeys(this.db, await this.db.selectFrom('sending_domains').selectAll().where('server_id', '=', serverId).where('id', '=', id).executeTakeFirst());
  }
  async find(serverId: number, domain: string): Promise<SendingDomain | undefined> {
    return withKeys(
      this.db,
      await this.db.selectFrom('sending_domains').selectAll().where('server_id', '=', serverId).where('domain', '=', domain).executeTakeFirst(),
    );
  }
  async list(serverId: number, page: PageRequest & { sortField: 'domain' | 'createdOn' }): Promise<{ rows: SendingDomain[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db
        .selectFrom('sending_domains')
        .selectAll()
        .where('server_id', '=', serverId)
        .orderBy(page.sortField === 'domain' ? 'domain' : 'created_at', page.direction)
        .orderBy('id', page.direction)
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.db
        .selectFrom('sending_domains')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('server_id', '=', serverId)
        .executeTakeFirstOrThrow(),
    ]);
    const out: SendingDomain[] = [];
    for (const r of rows) out.push((await withKeys(this.db, r))!);
    return { rows: out, total: Number(count.n) };
  }
  async delete(serverId: number, id: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.deleteFrom('sending_domains').where('server_id', '=', serverId).where('id', '=', id).returning('domain').executeTakeFirst();
      if (!row) return false;
      await trx.deleteFrom('dkim_keys').where('server_id', '=', serverId).where('domain', '=', row.domain).execute();
      return true;
    });
  }
  async addKeys(serverId: number, domain: string, keys: readonly NewServerDkimKey[], now: number): Promise<void> {
    await insertKeys(this.db, serverId, domain, keys, now);
  }
  async recordCheck(serverId: number, id: number, check: SendingDomainCheck, now: number): Promise<SendingDomain | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('sending_domains')
        .set({ verified_at: check.verifiedAt, last_checked_at: now, updated_at: now, check_results: JSON.stringify(check.results) })
        .where('server_id', '=', serverId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      for (const c of check.keyChanges) {
        await trx
          .updateTable('dkim_keys')
          .set({
            state: c.state,
            ...(c.activatedAt !== undefined ? { activated_at: c.activatedAt } : {}),
            ...(c.retireAfter !== undefined ? { retire_after: c.retireAfter } : {}),
            ...(c.state === 'retired' ? { retired_at: now } : {}),
          })
          .where('server_id', '=', serverId)
          .where('domain', '=', row.domain)
          .where('id', '=', c.id)
          .execute();
      }
      return withKeys(trx, row);
    });
  }
  async signingKeys(serverId: number, domain: string): Promise<ServerDkimKey[]> {
    const rows = await this.db
      .selectFrom('dkim_keys')
      .selectAll()
      .where('server_id', '=', serverId)
      .where('domain', '=', domain)
      .where('state', '=', 'active')
      .where('retired_at', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map(toServerDkimKey);
  }
  async verifiedDomains(serverId: number): Promise<string[]> {
    const rows = await this.db.selectFrom('sending_domains').select('domain').where('server_id', '=', serverId).where('verified_at', 'is not', null).execute();
    return rows.map((r) => r.domain);
  }
}
