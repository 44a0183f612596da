/**
 * Instance settings (a key-value table) and the instance-wide DKIM keys.
 */
import type { Database, DkimKeysTable } from './schema.js';
import type { DkimKeyRecord } from './store.js';
import type { Kysely, Selectable } from 'kysely';

const toDkimKey = (r: Selectable<DkimKeysTable>): DkimKeyRecord => ({
  id: Number(r.id),
  domain: r.domain,
  selector: r.selector,
  algorithm: r.algorithm as DkimKeyRecord['algorithm'],
  privateKey: r.private_key,
  publicKey: r.public_key,
  createdAt: Number(r.created_at),
  retiredAt: r.retired_at === null ? null : Number(r.retired_at),
});

/** Instance settings and the instance-wide DKIM keys (a server's own keys are its sending domains'). */
export interface SettingsRepository {
  addDkimKey(key: Omit<DkimKeyRecord, 'id' | 'createdAt' | 'retiredAt'>, now: number): Promise<DkimKeyRecord>;
  /** Live (not retired) keys, for one domain or all. */
  listDkimKeys(domain?: string): Promise<DkimKeyRecord[]>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** Stores the value unless the key exists; returns the stored value (the first writer's). */
  setIfAbsent(key: string, value: string): Promise<string>;
}

/** Settings for both dialects. */
export class SqlSettingsRepository implements SettingsRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async addDkimKey(key: Omit<DkimKeyRecord, 'id' | 'createdAt' | 'retiredAt'>, now: number): Promise<DkimKeyRecord> {
    const row = await this.db
      .insertInto('dkim_keys')
      .values({
        domain: key.domain,
        selector: key.selector,
        algorithm: key.algorithm,
        private_key: key.privateKey,
        public_key: key.publicKey,
        created_at: now,
        retired_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDkimKey(row);
  }

  async listDkimKeys(domain?: string): Promise<DkimKeyRecord[]> {
    // Instance-wide keys only: a server's keys sign only that server's mail (store/sending-domains.ts).
    let q = this.db.selectFrom('dkim_keys').selectAll().where('retired_at', 'is', null).where('server_id', 'is', null).orderBy('id');
    if (domain !== undefined) q = q.where('domain', '=', domain);
    return (await q.execute()).map(toDkimKey);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }

  async setIfAbsent(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.get(key))!;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }
}
