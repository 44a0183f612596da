/**
 * Stored templates (ApiTemplate), written once with Kysely for both dialects. A template row holds
 * its server and current version; each saved content is a template_versions row. Every call
 * filters by serverId, so another server's template id is "not found", never readable.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, TemplatesTable, TemplateVersionsTable } from './schema.js';
import type { PageRequest } from './store.js';

type Db = Kysely<Database> | Transaction<Database>;
type Row = Selectable<TemplatesTable> & Omit<Selectable<TemplateVersionsTable>, 'created_at'> & { version_created_at: number };

/** What a stored template holds (one version of it); `%%Field%%` placeholders are rendered at delivery. */
export interface TemplateContent {
  name: string;
  subject: string | null;
  htmlBody: string | null;
  textBody: string | null;
  ampBody: string | null;
}
/** A stored template at one version: `version` is the one shown, `currentVersion` the one ApiTemplate sends. */
export interface StoredTemplate extends TemplateContent {
  id: number;
  serverId: number;
  version: number;
  currentVersion: number;
  createdAt: number;
  updatedAt: number;
  versionCreatedAt: number;
}

/**
 * Stored templates (ApiTemplate). Every call takes the serverId and finds only that server's
 * templates. An update saves a new version and makes it current; old versions stay readable.
 */
export interface TemplateRepository {
  create(serverId: number, content: TemplateContent, now: number): Promise<StoredTemplate>;
  /** The current version, or `version` when given; undefined: no such template (or version) of this server. */
  get(serverId: number, id: number, version?: number): Promise<StoredTemplate | undefined>;
  list(serverId: number, page: PageRequest & { sort: 'createdAt' | 'name' | 'updatedAt' }): Promise<{ rows: StoredTemplate[]; total: number }>;
  /** Every version, newest first; undefined: no such template of this server. */
  versions(serverId: number, id: number): Promise<StoredTemplate[] | undefined>;
  update(serverId: number, id: number, content: TemplateContent, now: number): Promise<StoredTemplate | undefined>;
  /** Deletes the template with all its versions. */
  delete(serverId: number, id: number): Promise<boolean>;
}

const toTemplate = (r: Row): StoredTemplate => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  version: Number(r.version),
  currentVersion: Number(r.current_version),
  name: r.name,
  subject: r.subject,
  htmlBody: r.html_body,
  textBody: r.text_body,
  ampBody: r.amp_body,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  versionCreatedAt: Number(r.version_created_at),
});

/** Templates joined to one of their versions (the current one unless the caller narrows it). */
function joined(db: Db, serverId: number) {
  return db
    .selectFrom('templates as t')
    .innerJoin('template_versions as v', 'v.template_id', 't.id')
    .select([
      't.id',
      't.server_id',
      't.current_version',
      't.created_at',
      't.updated_at',
      'v.template_id',
      'v.version',
      'v.name',
      'v.subject',
      'v.html_body',
      'v.text_body',
      'v.amp_body',
      'v.created_at as version_created_at',
    ])
    .where('t.server_id', '=', serverId);
}

const versionValues = (id: number, version: number, c: TemplateContent, now: number) => ({
  template_id: id,
  version,
  name: c.name,
  subject: c.subject,
  html_body: c.htmlBody,
  text_body: c.textBody,
  amp_body: c.ampBody,
  created_at: now,
});

/** One template at its current version (or `version`), read through `db` (the caller's transaction). */
async function getOne(db: Db, serverId: number, id: number, version?: number): Promise<StoredTemplate | undefined> {
  let q = joined(db, serverId).where('t.id', '=', id);
  q = version === undefined ? q.whereRef('v.version', '=', 't.current_version') : q.where('v.version', '=', version);
  const row = await q.executeTakeFirst();
  return row && toTemplate(row as Row);
}

/** Stored templates in SQL, one implementation for both dialects (Kysely). */
export class SqlTemplateRepository implements TemplateRepository {
  constructor(private readonly db: Kysely<Database>) {}

  get(serverId: number, id: number, version?: number): Promise<StoredTemplate | undefined> {
    return getOne(this.db, serverId, id, version);
  }

  async create(serverId: number, c: TemplateContent, now: number): Promise<StoredTemplate> {
    return this.db.transaction().execute(async (trx) => {
      const t = await trx
        .insertInto('templates')
        .values({ server_id: serverId, current_version: 1, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('template_versions')
        .values(versionValues(Number(t.id), 1, c, now))
        .execute();
      return (await getOne(trx, serverId, Number(t.id)))!;
    });
  }

  async update(serverId: number, id: number, c: TemplateContent, now: number): Promise<StoredTemplate | undefined> {
    return this.db.transaction().execute(async (trx) => {
      // The UPDATE takes the row's write lock first, so two concurrent updates number their versions one after the other.
      const t = await trx
        .updateTable('templates')
        .set((eb) => ({ current_version: eb('current_version', '+', 1), updated_at: now }))
        .where('server_id', '=', serverId)
        .where('id', '=', id)
        .returning('current_version')
        .executeTakeFirst();
      if (!t) return undefined;
      await trx
        .insertInto('template_versions')
        .values(versionValues(id, Number(t.current_version), c, now))
        .execute();
      return getOne(trx, serverId, id);
    });
  }

  async list(serverId: number, page: PageRequest & { sort: 'createdAt' | 'name' | 'updatedAt' }): Promise<{ rows: StoredTemplate[]; total: number }> {
    const column = page.sort === 'name' ? 'v.name' : page.sort === 'updatedAt' ? 't.updated_at' : 't.created_at';
    const [rows, count] = await Promise.all([
      joined(this.db, serverId)
        .whereRef('v.version', '=', 't.current_version')
        .orderBy(column, page.direction)
        .orderBy('t.id', page.direction)
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.db
        .selectFrom('templates')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('server_id', '=', serverId)
        .executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map((r) => toTemplate(r as Row)), total: Number(count.n) };
  }

  async versions(serverId: number, id: number): Promise<StoredTemplate[] | undefined> {
    const rows = await joined(this.db, serverId).where('t.id', '=', id).orderBy('v.version', 'desc').execute();
    return rows.length === 0 ? undefined : rows.map((r) => toTemplate(r as Row));
  }

  async delete(serverId: number, id: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const t = await trx.selectFrom('templates').select('id').where('server_id', '=', serverId).where('id', '=', id).executeTakeFirst();
      if (!t) return false;
      // Versions first: the foreign key's ON DELETE CASCADE would do it, but not on a SQLite connection without foreign_keys.
      await trx.deleteFrom('template_versions').where('template_id', '=', id).execute();
      await trx.deleteFrom('templates').where('id', '=', id).execute();
      return true;
    });
  }
}
