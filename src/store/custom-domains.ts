/**
 * Custom bounce and tracking domains (custom-domains/), written once with Kysely for both dialects.
 * Every call but the routing list takes the serverId and the kind and filters by them. The default
 * of a server and kind is kept unique by a partial unique index: the previous default is cleared
 * before the new one is set, in one transaction, which also keeps the server's tracking origin
 * (servers.tracking_domain) equal to its default tracking domain.
 */
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { CustomDomainsTable, Database } from './schema.js';
import type { CustomDomain, CustomDomainCheck, NewCustomDomain, PageRequest, RoutedCustomDomain } from './store.js';
import { trackingOriginOf, type CustomDomainKind, type RecordCheck } from '../core/custom-domain.js';

type Db = Kysely<Database> | Transaction<Database>;

const toCustomDomain = (r: Selectable<CustomDomainsTable>): CustomDomain => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  kind: r.kind as CustomDomainKind,
  domain: r.domain,
  isDefault: Number(r.is_default) === 1,
  https: Number(r.https) === 1,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  verifiedAt: r.verified_at === null ? null : Number(r.verified_at),
  lastCheckedAt: r.last_checked_at === null ? null : Number(r.last_checked_at),
  lastCheck: r.last_check === null ? null : (JSON.parse(r.last_check) as RecordCheck[]),
});

async function find(db: Db, serverId: number, kind: CustomDomainKind, id: number): Promise<CustomDomain | undefined> {
  const row = await db
    .selectFrom('custom_domains')
    .selectAll()
    .where('server_id', '=', serverId)
    .where('kind', '=', kind)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toCustomDomain(row);
}

/** The server's tracking origin follows its default tracking domain (null: Postline's public URL). */
async function setTrackingOrigin(trx: Transaction<Database>, serverId: number, origin: string | null): Promise<void> {
  await trx.updateTable('servers').set({ tracking_domain: origin }).where('id', '=', serverId).execute();
}

/** Makes `d` the default of its server and kind (d verified; checked by the caller). */
async function makeDefault(trx: Transaction<Database>, d: CustomDomain, now: number): Promise<void> {
  await trx
    .updateTable('custom_domains')
    .set({ is_default: 0, updated_at: now })
    .where('server_id', '=', d.serverId)
    .where('kind', '=', d.kind)
    .where('is_default', '=', 1)
    .where('id', '!=', d.id)
    .execute();
  await trx.updateTable('custom_domains').set({ is_default: 1, updated_at: now }).where('id', '=', d.id).execute();
  if (d.kind === 'tracking') await setTrackingOrigin(trx, d.serverId, trackingOriginOf(d.domain, d.https));
}

async function clearDefault(trx: Transaction<Database>, d: CustomDomain, now: number): Promise<void> {
  await trx.updateTable('custom_domains').set({ is_default: 0, updated_at: now }).where('id', '=', d.id).execute();
  if (d.kind === 'tracking') await setTrackingOrigin(trx, d.serverId, null);
}

/**
 * Custom bounce and tracking domains. A domain is unique per kind in the whole instance; a server
 * has at most one default per kind, and only a verified domain is a default. Changing the default
 * tracking domain (making one the default, switching its https, deleting or un-verifying it) sets
 * or clears the server's tracking origin (servers.tracking_domain) in the same transaction.
 */
export interface CustomDomainRepository {
  /** null: the domain is taken (by this or another server); nothing was stored. */
  create(input: NewCustomDomain, now: number): Promise<CustomDomain | null>;
  get(serverId: number, kind: CustomDomainKind, id: number): Promise<CustomDomain | undefined>;
  list(serverId: number, kind: CustomDomainKind, page: PageRequest & { sort: 'createdAt' | 'domain' }): Promise<{ rows: CustomDomain[]; total: number }>;
  /**
   * isDefault true makes it the server's default of its kind (the previous one stops being it);
   * false stops it being the default. 'not-verified': it is not verified, nothing changed.
   */
  update(
    serverId: number,
    kind: CustomDomainKind,
    id: number,
    patch: { isDefault?: boolean; https?: boolean },
    now: number,
  ): Promise<CustomDomain | 'not-verified' | undefined>;
  /** Records a DNS check; a failed check (verified false) un-verifies the domain and stops it being the default. */
  recordCheck(serverId: number, kind: CustomDomainKind, id: number, check: CustomDomainCheck, now: number): Promise<CustomDomain | undefined>;
  /** Deletes it (a default stops being the default). */
  delete(serverId: number, kind: CustomDomainKind, id: number): Promise<boolean>;
  /** Every verified domain of a kind, all servers: what the Return-Path and the MX listener route by. */
  listRouted(kind: CustomDomainKind): Promise<RoutedCustomDomain[]>;
}

/** Custom domains in SQL, one implementation for both dialects (Kysely). */
export class SqlCustomDomainRepository implements CustomDomainRepository {
  constructor(private readonly db: Kysely<Database>) {}

  get(serverId: number, kind: CustomDomainKind, id: number): Promise<CustomDomain | undefined> {
    return find(this.db, serverId, kind, id);
  }

  async create(input: NewCustomDomain, now: number): Promise<CustomDomain | null> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('custom_domains')
        .values({
          server_id: input.serverId,
          kind: input.kind,
          domain: input.domain,
          is_default: 0,
          https: input.https ? 1 : 0,
          created_at: now,
          updated_at: now,
          verified_at: input.check?.verified ? input.check.at : null,
          last_checked_at: input.check?.at ?? null,
          last_check: input.check ? JSON.stringify(input.check.records) : null,
        })
        .onConflict((oc) => oc.columns(['kind', 'domain']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      const d = toCustomDomain(row);
      if (!input.isDefault || d.verifiedAt === null) return d;
      await makeDefault(trx, d, now);
      return (await find(trx, d.serverId, d.kind, d.id))!;
    });
  }
  async list(serverId: number, kind: CustomDomainKind, page: PageRequest & { sort: 'createdAt' | 'domain' }): Promise<{ rows: CustomDomain[]; total: number }> {
    const column = page.sort === 'domain' ? 'domain' : 'created_at';
    const [rows, count] = await Promise.all([
      this.db
        .selectFrom('custom_domains')
        .selectAll()
        .where('server_id', '=', serverId)
        .where('kind', '=', kind)
        .orderBy(column, page.direction)
        .orderBy('id', page.direction)
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.db
        .selectFrom('custom_domains')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('server_id', '=', serverId)
        .where('kind', '=', kind)
        .executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(toCustomDomain), total: Number(count.n) };
  }
  async update(
    serverId: number,
    kind: CustomDomainKind,
    id: number,
    patch: { isDefault?: boolean; https?: boolean },
    now: number,
  ): Promise<CustomDomain | 'not-verified' | undefined> {
    return this.db.transaction().execute(async (trx) => {
      let d = await find(trx, serverId, kind, id);
      if (!d) return undefined;
      if (patch.isDefault === true && !d.isDefault && d.verifiedAt === null) return 'not-verified';
      if (patch.https !== undefined && patch.https !== d.https) {
        await trx
          .updateTable('custom_domains')
          .set({ https: patch.https ? 1 : 0, updated_at: now })
          .where('id', '=', id)
          .execute();
        d = { ...d, https: patch.https };
        if (d.isDefault && d.kind === 'tracking') await setTrackingOrigin(trx, serverId, trackingOriginOf(d.domain, d.https));
      }
      if (patch.isDefault === true && !d.isDefault) await makeDefault(trx, d, now);
      if (patch.isDefault === false && d.isDefault) await clearDefault(trx, d, now);
      return find(trx, serverId, kind, id);
    });
  }
  async recordCheck(serverId: number, kind: CustomDomainKind, id: number, check: CustomDomainCheck, now: number): Promise<CustomDomain | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const d = await find(trx, serverId, kind, id);
      if (!d) return undefined;
      const set: Updateable<CustomDomainsTable> = { last_checked_at: check.at, last_check: JSON.stringify(check.records), updated_at: now };
      if (check.verified === true && d.verifiedAt === null) set.verified_at = check.at;
      if (check.verified === false) set.verified_at = null;
      await trx.updateTable('custom_domains').set(set).where('id', '=', id).execute();
      // A default whose records are gone would send bounces (or clicks) to a name that no longer reaches us.
      if (check.verified === false && d.isDefault) await clearDefault(trx, d, now);
      return find(trx, serverId, kind, id);
    });
  }
  async delete(serverId: number, kind: CustomDomainKind, id: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const d = await find(trx, serverId, kind, id);
      if (!d) return false;
      if (d.isDefault && d.kind === 'tracking') await setTrackingOrigin(trx, serverId, null);
      await trx.deleteFrom('custom_domains').where('id', '=', id).execute();
      return true;
    });
  }
  async listRouted(kind: CustomDomainKind): Promise<RoutedCustomDomain[]> {
    const rows = await this.db
      .selectFrom('custom_domains')
      .select(['server_id', 'domain', 'is_default'])
      .where('kind', '=', kind)
      .where('verified_at', 'is not', null)
      .execute();
    return rows.map((r) => ({ serverId: Number(r.server_id), domain: r.domain, isDefault: Number(r.is_default) === 1 }));
  }
}
