/**
 * The Marketing API's lists, contacts and custom fields (api/compat/marketing), written once with
 * Kysely for both dialects. Every call takes the serverId and filters by it, so another server's
 * ids are simply not found. Addresses arrive lower-cased from the routes and are stored so.
 */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ContactListsTable, ContactsTable, CustomFieldsTable, Database } from './schema.js';
import type { Contact, ContactList, ContactPatch, CustomField, ImportContactRow, NewContact, UnknownCustomField } from './store.js';
import { chunks } from './rows.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A unique index refused the row (SQLite or PostgreSQL): a concurrent request took the name first. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** The largest code point: "prefix" + this sorts after every address that starts with prefix. */
const MAX_CHAR = '\u{10FFFF}';

const toList = (r: Selectable<ContactListsTable>, count: number): ContactList => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  name: r.name,
  contactCount: count,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toField = (r: Selectable<CustomFieldsTable>): CustomField => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  name: r.name,
  createdAt: Number(r.created_at),
});

/** Contact rows with their custom field values, in one query for the values. */
async function withFields(db: Db, rows: Selectable<ContactsTable>[]): Promise<Contact[]> {
  if (rows.length === 0) return [];
  const values = await db
    .selectFrom('contact_field_values as v')
    .innerJoin('custom_fields as f', 'f.id', 'v.field_id')
    .select(['v.contact_id', 'f.name', 'v.value'])
    .where(
      'v.contact_id',
      'in',
      rows.map((r) => Number(r.id)),
    )
    .orderBy('f.id')
    .execute();
  // Grouped once: scanning every value for every row made a 1,000-contact export page cost 10^6 steps.
  const byContact = new Map<number, Record<string, string>>();
  for (const v of values) {
    const id = Number(v.contact_id);
    let fields = byContact.get(id);
    if (!fields) byContact.set(id, (fields = {}));
    fields[v.name] = v.value;
  }
  return rows.map((r) => {
    const customFields = byContact.get(Number(r.id)) ?? {};
    return {
      id: Number(r.id),
      serverId: Number(r.server_id),
      email: r.email,
      firstName: r.first_name,
      lastName: r.last_name,
      unsubscribedAt: r.unsubscribed_at === null ? null : Number(r.unsubscribed_at),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
      customFields,
    };
  });
}

async function contactRow(db: Db, serverId: number, where: { id: number } | { email: string }) {
  let q = db.selectFrom('contacts').selectAll().where('server_id', '=', serverId);
  q = 'id' in where ? q.where('id', '=', where.id) : q.where('email', '=', where.email);
  return q.executeTakeFirst();
}

async function findContact(db: Db, serverId: number, where: { id: number } | { email: string }): Promise<Contact | undefined> {
  const row = await contactRow(db, serverId, where);
  return row ? (await withFields(db, [row]))[0] : undefined;
}

async function listRow(db: Db, serverId: number, listId: number) {
  return db.selectFrom('contact_lists').selectAll().where('server_id', '=', serverId).where('id', '=', listId).executeTakeFirst();
}

async function memberCount(db: Db, listId: number): Promise<number> {
  const r = await db
    .selectFrom('contact_list_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('list_id', '=', listId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function listContactLists(db: Db, serverId: number): Promise<ContactList[]> {
  const rows = await db
    .selectFrom('contact_lists as l')
    .leftJoin('contact_list_members as m', 'm.list_id', 'l.id')
    .select(['l.id', 'l.server_id', 'l.name', 'l.created_at', 'l.updated_at', (eb) => eb.fn.count<number>('m.contact_id').as('n')])
    .where('l.server_id', '=', serverId)
    .groupBy(['l.id', 'l.server_id', 'l.name', 'l.created_at', 'l.updated_at'])
    .orderBy('l.id')
    .execute();
  return rows.map((r) => toList(r, Number(r.n)));
}

export async function getContactList(db: Db, serverId: number, listId: number): Promise<ContactList | undefined> {
  const row = await listRow(db, serverId, listId);
  return row && toList(row, await memberCount(db, row.id));
}

export async function createContactList(db: Db, serverId: number, name: string, now: number): Promise<ContactList | null> {
  const row = await db
    .insertInto('contact_lists')
    .values({ server_id: serverId, name, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['server_id', 'name']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? toList(row, 0) : null;
}

export async function renameContactList(
  db: Kysely<Database>,
  serverId: number,
  listId: number,
  name: string,
  now: number,
): Promise<ContactList | 'duplicate' | undefined> {
  return db
    .transaction()
    .execute(async (trx): Promise<ContactList | 'duplicate' | undefined> => {
      const row = await listRow(trx, serverId, listId);
      if (!row) return undefined;
      if (row.name !== name) {
        const taken = await trx.selectFrom('contact_lists').select('id').where('server_id', '=', serverId).where('name', '=', name).executeTakeFirst();
        if (taken) return 'duplicate';
        await trx.updateTable('contact_lists').set({ name, updated_at: now }).where('id', '=', listId).execute();
      }
      return getContactList(trx, serverId, listId);
    })
    .catch((err: unknown) => {
      if (isUniqueViolation(err)) return 'duplicate' as const;
      throw err;
    });
}

export async function deleteContactList(db: Kysely<Database>, serverId: number, listId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await listRow(trx, serverId, listId))) return false;
    await trx.deleteFrom('contact_list_members').where('list_id', '=', listId).execute();
    await trx.deleteFrom('contact_lists').where('id', '=', listId).execute();
    return true;
  });
}

/** Adds the membership unless it exists; whether it was added. */
async function addMember(db: Db, listId: number, contactId: number, now: number): Promise<boolean> {
  const r = await db
    .insertInto('contact_list_members')
    .values({ list_id: listId, contact_id: contactId, added_at: now })
    .onConflict((oc) => oc.columns(['list_id', 'contact_id']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The contact of that address, created (with the given names) when the server has none. */
async function upsertContact(db: Db, serverId: number, c: NewContact, now: number): Promise<number> {
  await db
    .insertInto('contacts')
    .values({
      server_id: serverId,
      email: c.email,
      first_name: c.firstName ?? null,
      last_name: c.lastName ?? null,
      unsubscribed_at: null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['server_id', 'email']).doNothing())
    .execute();
  return Number((await contactRow(db, serverId, { email: c.email }))!.id);
}

export async function addContactToListByEmail(
  db: Kysely<Database>,
  serverId: number,
  listId: number,
  c: NewContact,
  now: number,
): Promise<{ contact: Contact; added: boolean } | undefined> {
  return db.transaction().execute(async (trx) => {
    if (!(await listRow(trx, serverId, listId))) return undefined;
    const contactId = await upsertContact(trx, serverId, c, now);
    const added = await addMember(trx, listId, contactId, now);
    return { contact: (await findContact(trx, serverId, { id: contactId }))!, added };
  });
}

export async function addContactToList(
  db: Kysely<Database>,
  serverId: number,
  listId: number,
  contactId: number,
  now: number,
): Promise<{ added: boolean } | 'no-list' | 'no-contact'> {
  return db.transaction().execute(async (trx) => {
    if (!(await listRow(trx, serverId, listId))) return 'no-list';
    if (!(await contactRow(trx, serverId, { id: contactId }))) return 'no-contact';
    return { added: await addMember(trx, listId, contactId, now) };
  });
}

export async function removeContactFromList(db: Kysely<Database>, serverId: number, listId: number, email: string): Promise<boolean | 'no-list'> {
  return db.transaction().execute(async (trx) => {
    if (!(await listRow(trx, serverId, listId))) return 'no-list';
    const contact = await contactRow(trx, serverId, { email });
    if (!contact) return false;
    const r = await trx.deleteFrom('contact_list_members').where('list_id', '=', listId).where('contact_id', '=', contact.id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  });
}

/** Writes the values of named fields (matched case-insensitively); the first name the server lacks stops it, nothing written. */
async function setFieldValues(
  trx: Transaction<Database>,
  serverId: number,
  contactId: number,
  values: Record<string, string>,
): Promise<UnknownCustomField | null> {
  const names = Object.keys(values);
  if (names.length === 0) return null;
  const fields = await trx.selectFrom('custom_fields').select(['id', 'name']).where('server_id', '=', serverId).execute();
  const byName = new Map(fields.map((f) => [f.name.toLowerCase(), Number(f.id)]));
  const unknown = names.find((n) => !byName.has(n.toLowerCase()));
  if (unknown !== undefined) return { unknownField: unknown };
  for (const n of names) {
    const fieldId = byName.get(n.toLowerCase())!;
    await trx.deleteFrom('contact_field_values').where('contact_id', '=', contactId).where('field_id', '=', fieldId).execute();
    await trx.insertInto('contact_field_values').values({ contact_id: contactId, field_id: fieldId, value: values[n]! }).execute();
  }
  return null;
}

/** A rollback that carries the answer out of the transaction (nothing it wrote stays). */
class Refused<T> extends Error {
  constructor(readonly answer: T) {
    super('refused');
  }
}

async function refusable<T, R>(db: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T | R> {
  try {
    return await db.transaction().execute(fn);
  } catch (err) {
    if (err instanceof Refused) return err.answer as R;
    throw err;
  }
}

export async function createContact(db: Kysely<Database>, serverId: number, c: NewContact, now: number): Promise<Contact | 'exists' | UnknownCustomField> {
  return refusable<Contact | 'exists', UnknownCustomField>(db, async (trx) => {
    const row = await trx
      .insertInto('contacts')
      .values({
        server_id: serverId,
        email: c.email,
        first_name: c.firstName ?? null,
        last_name: c.lastName ?? null,
        unsubscribed_at: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['server_id', 'email']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) return 'exists';
    const unknown = await setFieldValues(trx, serverId, Number(row.id), c.customFields ?? {});
    if (unknown) throw new Refused(unknown);
    return (await findContact(trx, serverId, { id: Number(row.id) }))!;
  });
}

export const getContact = (db: Db, serverId: number, contactId: number) => findContact(db, serverId, { id: contactId });

export async function updateContact(
  db: Kysely<Database>,
  serverId: number,
  contactId: number,
  patch: ContactPatch,
  now: number,
): Promise<Contact | UnknownCustomField | undefined> {
  return refusable<Contact | undefined, UnknownCustomField>(db, async (trx) => {
    if (!(await contactRow(trx, serverId, { id: contactId }))) return undefined;
    const set: { updated_at: number; first_name?: string | null; last_name?: string | null } = { updated_at: now };
    if (patch.firstName !== undefined) set.first_name = patch.firstName;
    if (patch.lastName !== undefined) set.last_name = patch.lastName;
    await trx.updateTable('contacts').set(set).where('id', '=', contactId).execute();
    const unknown = await setFieldValues(trx, serverId, contactId, patch.customFields ?? {});
    if (unknown) throw new Refused(unknown);
    return findContact(trx, serverId, { id: contactId });
  });
}

export async function deleteContact(db: Kysely<Database>, serverId: number, contactId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await contactRow(trx, serverId, { id: contactId }))) return false;
    await trx.deleteFrom('contact_list_members').where('contact_id', '=', contactId).execute();
    await trx.deleteFrom('contact_field_values').where('contact_id', '=', contactId).execute();
    await trx.deleteFrom('contacts').where('id', '=', contactId).execute();
    return true;
  });
}

export async function searchContacts(
  db: Db,
  serverId: number,
  q: { email?: string; startsWith?: string; listId?: number },
  page: { limit: number; offset: number },
): Promise<{ rows: Contact[]; total: number }> {
  let base = db.selectFrom('contacts').where('server_id', '=', serverId);
  if (q.listId !== undefined) {
    const listId = q.listId;
    base = base.where((eb) =>
      eb.exists(eb.selectFrom('contact_list_members as m').select('m.list_id').where('m.list_id', '=', listId).whereRef('m.contact_id', '=', 'contacts.id')),
    );
  }
  if (q.email !== undefined) base = base.where('email', '=', q.email);
  // A range rather than LIKE 'x%': it uses the (server_id, email) index on both dialects.
  if (q.startsWith !== undefined) base = base.where('email', '>=', q.startsWith).where('email', '<', q.startsWith + MAX_CHAR);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('id').limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: await withFields(db, rows), total: Number(count.n) };
}

export async function unsubscribeContact(db: Kysely<Database>, serverId: number, email: string, now: number): Promise<Contact | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await contactRow(trx, serverId, { email });
    if (!row) return undefined;
    if (row.unsubscribed_at === null) {
      await trx.updateTable('contacts').set({ unsubscribed_at: now, updated_at: now }).where('id', '=', row.id).execute();
    }
    return findContact(trx, serverId, { id: Number(row.id) });
  });
}

export async function createCustomField(
  db: Kysely<Database>,
  serverId: number,
  name: string,
  max: number,
  now: number,
): Promise<CustomField | 'duplicate' | 'limit'> {
  return db
    .transaction()
    .execute(async (trx): Promise<CustomField | 'duplicate' | 'limit'> => {
      const fields = await trx.selectFrom('custom_fields').select('name').where('server_id', '=', serverId).execute();
      if (fields.some((f) => f.name.toLowerCase() === name.toLowerCase())) return 'duplicate';
      if (fields.length >= max) return 'limit';
      const row = await trx.insertInto('custom_fields').values({ server_id: serverId, name, created_at: now }).returningAll().executeTakeFirstOrThrow();
      return toField(row);
    })
    .catch((err: unknown) => {
      if (isUniqueViolation(err)) return 'duplicate' as const;
      throw err;
    });
}

export async function listCustomFields(db: Db, serverId: number): Promise<CustomField[]> {
  const rows = await db.selectFrom('custom_fields').selectAll().where('server_id', '=', serverId).orderBy('id').execute();
  return rows.map(toField);
}

export async function deleteCustomField(db: Kysely<Database>, serverId: number, name: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const field = await trx
      .selectFrom('custom_fields')
      .select('id')
      .where('server_id', '=', serverId)
      .where(sql<string>`lower(name)`, '=', name.toLowerCase())
      .executeTakeFirst();
    if (!field) return false;
    await trx.deleteFrom('contact_field_values').where('field_id', '=', field.id).execute();
    await trx.deleteFrom('custom_fields').where('id', '=', field.id).execute();
    return true;
  });
}

/** Rows per INSERT statement: far below SQLite's and PostgreSQL's bound-parameter limits at 20 fields a row. */
const IMPORT_CHUNK = 500;

/**
 * One batch of a CSV import, in one transaction: every contact upserted by address (multi-row
 * INSERT ... ON CONFLICT), added to the list, and its field values written. A name or field that
 * is undefined in the rows keeps the stored value; an empty field value removes it. A later row
 * of the same address in the batch wins (PostgreSQL refuses one statement touching a row twice).
 */
export async function importContacts(
  db: Kysely<Database>,
  serverId: number,
  listId: number,
  input: readonly ImportContactRow[],
  now: number,
): Promise<{ created: number; updated: number } | 'no-list' | UnknownCustomField> {
  const byEmail = new Map<string, ImportContactRow>();
  for (const r of input) byEmail.set(r.email, r);
  const rows = [...byEmail.values()];
  return refusable<{ created: number; updated: number } | 'no-list', UnknownCustomField>(db, async (trx) => {
    if (!(await listRow(trx, serverId, listId))) return 'no-list';
    if (rows.length === 0) return { created: 0, updated: 0 };
    const fields = await trx.selectFrom('custom_fields').select(['id', 'name']).where('server_id', '=', serverId).execute();
    const fieldIds = new Map(fields.map((f) => [f.name.toLowerCase(), Number(f.id)]));
    for (const r of rows) {
      const unknown = Object.keys(r.customFields ?? {}).find((n) => !fieldIds.has(n.toLowerCase()));
      if (unknown !== undefined) throw new Refused({ unknownField: unknown });
    }
    const emails = rows.map((r) => r.email);
    const existing = new Set<string>();
    for (const part of chunks(emails, IMPORT_CHUNK)) {
      const found = await trx.selectFrom('contacts').select('email').where('server_id', '=', serverId).where('email', 'in', part).execute();
      for (const f of found) existing.add(f.email);
    }
    // Rows are upserted in groups by the names they give (a CSV's rows all give the same ones: one
    // group), so a row that leaves a name undefined keeps the stored one beside rows that set it.
    const groups = new Map<string, ImportContactRow[]>();
    for (const r of rows) {
      const key = `${r.firstName !== undefined}|${r.lastName !== undefined}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(r);
    }
    // The upsert returns every row it inserted or updated: the ids without a second query.
    const ids = new Map<string, number>();
    for (const part of [...groups.values()].flatMap((group) => chunks(group, IMPORT_CHUNK))) {
      const setFirst = part[0]!.firstName !== undefined;
      const setLast = part[0]!.lastName !== undefined;
      const returned = await trx
        .insertInto('contacts')
        .values(
          part.map((r) => ({
            server_id: serverId,
            email: r.email,
            first_name: r.firstName ?? null,
            last_name: r.lastName ?? null,
            unsubscribed_at: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['server_id', 'email']).doUpdateSet((eb) => ({
            updated_at: eb.ref('excluded.updated_at'),
            ...(setFirst ? { first_name: eb.ref('excluded.first_name') } : {}),
            ...(setLast ? { last_name: eb.ref('excluded.last_name') } : {}),
          })),
        )
        .returning(['id', 'email'])
        .execute();
      for (const f of returned) ids.set(f.email, Number(f.id));
    }
    for (const part of chunks(emails, IMPORT_CHUNK)) {
      await trx
        .insertInto('contact_list_members')
        .values(part.map((e) => ({ list_id: listId, contact_id: ids.get(e)!, added_at: now })))
        .onConflict((oc) => oc.columns(['list_id', 'contact_id']).doNothing())
        .execute();
    }
    const values: { contact_id: number; field_id: number; value: string }[] = [];
    const cleared = new Map<number, number[]>(); // field id -> contacts whose value an empty cell removes
    for (const r of rows) {
      for (const [name, value] of Object.entries(r.customFields ?? {})) {
        const contactId = ids.get(r.email)!;
        const fieldId = fieldIds.get(name.toLowerCase())!;
        if (value !== '') values.push({ contact_id: contactId, field_id: fieldId, value });
        else {
          let list = cleared.get(fieldId);
          if (!list) cleared.set(fieldId, (list = []));
          list.push(contactId);
        }
      }
    }
    for (const part of chunks(values, IMPORT_CHUNK)) {
      await trx
        .insertInto('contact_field_values')
        .values(part)
        .onConflict((oc) => oc.columns(['contact_id', 'field_id']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
        .execute();
    }
    // One statement per field and chunk (a statement per cleared cell was a fifth of a batch's statements).
    for (const [fieldId, contactIds] of cleared) {
      for (const part of chunks(contactIds, IMPORT_CHUNK)) {
        await trx.deleteFrom('contact_field_values').where('field_id', '=', fieldId).where('contact_id', 'in', part).execute();
      }
    }
    return { created: rows.length - existing.size, updated: existing.size };
  });
}

/** The server's contacts (or one list's), oldest first, `batchSize` per query by id: never all in memory. */
export async function* streamContacts(db: Kysely<Database>, serverId: number, listId: number | undefined, batchSize: number): AsyncGenerator<Contact[]> {
  if (!(batchSize >= 1)) throw new Error('batchSize must be >= 1');
  let after = 0;
  for (;;) {
    let q = db.selectFrom('contacts as c').selectAll('c').where('c.server_id', '=', serverId).where('c.id', '>', after);
    if (listId !== undefined)
      q = q.where((eb) =>
        eb.exists(eb.selectFrom('contact_list_members as m').select('m.contact_id').whereRef('m.contact_id', '=', 'c.id').where('m.list_id', '=', listId)),
      );
    const rows = await q.orderBy('c.id').limit(batchSize).execute();
    if (rows.length === 0) return;
    yield await withFields(db, rows);
    if (rows.length < batchSize) return;
    after = Number(rows[rows.length - 1]!.id);
  }
}

/** The Marketing API's contact lists, contacts and custom fields. */
export interface MarketingRepository {
  /**
   * The Marketing API (store/marketing.ts). Every call takes the serverId and reads or
   * changes only that server's lists, contacts and fields: another server's ids are not found.
   */
  listLists(serverId: number): Promise<ContactList[]>;
  getList(serverId: number, listId: number): Promise<ContactList | undefined>;
  /** null when the server already has a list of that name. */
  createList(serverId: number, name: string, now: number): Promise<ContactList | null>;
  renameList(serverId: number, listId: number, name: string, now: number): Promise<ContactList | 'duplicate' | undefined>;
  /** The list and its memberships (its contacts stay). */
  deleteList(serverId: number, listId: number): Promise<boolean>;
  /** Upserts the contact by email (an existing contact keeps its names) and adds it to the list; undefined: no such list. */
  addContactToListByEmail(serverId: number, listId: number, contact: NewContact, now: number): Promise<{ contact: Contact; added: boolean } | undefined>;
  addContactToList(serverId: number, listId: number, contactId: number, now: number): Promise<{ added: boolean } | 'no-list' | 'no-contact'>;
  /** Removes the address from the list; 'no-list' when there is no such list, false when it was not on it. */
  removeContactFromList(serverId: number, listId: number, email: string): Promise<boolean | 'no-list'>;
  createContact(serverId: number, contact: NewContact, now: number): Promise<Contact | 'exists' | UnknownCustomField>;
  getContact(serverId: number, contactId: number): Promise<Contact | undefined>;
  updateContact(serverId: number, contactId: number, patch: ContactPatch, now: number): Promise<Contact | UnknownCustomField | undefined>;
  /** The contact, its memberships and field values. */
  deleteContact(serverId: number, contactId: number): Promise<boolean>;
  /** Contacts by exact address or address prefix (both lower-cased), optionally only a list's members, oldest first. */
  searchContacts(
    serverId: number,
    q: { email?: string; startsWith?: string; listId?: number },
    page: { limit: number; offset: number },
  ): Promise<{ rows: Contact[]; total: number }>;
  /** Marks the contact unsubscribed (the first time only); undefined when the server has no such contact. */
  unsubscribeContact(serverId: number, email: string, now: number): Promise<Contact | undefined>;
  /** 'duplicate': the name exists in any case; 'limit': the server has `max` fields already. */
  createCustomField(serverId: number, name: string, max: number, now: number): Promise<CustomField | 'duplicate' | 'limit'>;
  listCustomFields(serverId: number): Promise<CustomField[]>;
  /** The field (matched case-insensitively) and every contact's value of it. */
  deleteCustomField(serverId: number, name: string): Promise<boolean>;
  /**
   * One batch of a CSV import in one transaction: contacts upserted by address, added to the list,
   * field values written (undefined names keep the stored ones; an empty field value removes it).
   * Counts are of distinct addresses; 'no-list': no such list; nothing is written when refused.
   */
  importContacts(
    serverId: number,
    listId: number,
    rows: readonly ImportContactRow[],
    now: number,
  ): Promise<{ created: number; updated: number } | 'no-list' | UnknownCustomField>;
  /** Every contact of the server (or of one list), by id, `batchSize` per batch (CSV export). */
  streamContacts(serverId: number, listId: number | undefined, batchSize: number): AsyncGenerator<Contact[]>;
}

/** Marketing for both dialects. */
export class SqlMarketingRepository implements MarketingRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  listLists(serverId: number): Promise<ContactList[]> {
    return listContactLists(this.db, serverId);
  }

  getList(serverId: number, listId: number): Promise<ContactList | undefined> {
    return getContactList(this.db, serverId, listId);
  }

  createList(serverId: number, name: string, now: number): Promise<ContactList | null> {
    return createContactList(this.db, serverId, name, now);
  }

  renameList(serverId: number, listId: number, name: string, now: number): Promise<ContactList | 'duplicate' | undefined> {
    return renameContactList(this.db, serverId, listId, name, now);
  }

  deleteList(serverId: number, listId: number): Promise<boolean> {
    return deleteContactList(this.db, serverId, listId);
  }

  addContactToListByEmail(serverId: number, listId: number, contact: NewContact, now: number): Promise<{ contact: Contact; added: boolean } | undefined> {
    return addContactToListByEmail(this.db, serverId, listId, contact, now);
  }

  addContactToList(serverId: number, listId: number, contactId: number, now: number): Promise<{ added: boolean } | 'no-list' | 'no-contact'> {
    return addContactToList(this.db, serverId, listId, contactId, now);
  }

  removeContactFromList(serverId: number, listId: number, email: string): Promise<boolean | 'no-list'> {
    return removeContactFromList(this.db, serverId, listId, email);
  }

  createContact(serverId: number, contact: NewContact, now: number): Promise<Contact | 'exists' | UnknownCustomField> {
    return createContact(this.db, serverId, contact, now);
  }

  getContact(serverId: number, contactId: number): Promise<Contact | undefined> {
    return getContact(this.db, serverId, contactId);
  }

  updateContact(serverId: number, contactId: number, patch: ContactPatch, now: number): Promise<Contact | UnknownCustomField | undefined> {
    return updateContact(this.db, serverId, contactId, patch, now);
  }

  deleteContact(serverId: number, contactId: number): Promise<boolean> {
    return deleteContact(this.db, serverId, contactId);
  }

  searchContacts(
    serverId: number,
    q: { email?: string; startsWith?: string },
    page: { limit: number; offset: number },
  ): Promise<{ rows: Contact[]; total: number }> {
    return searchContacts(this.db, serverId, q, page);
  }

  unsubscribeContact(serverId: number, email: string, now: number): Promise<Contact | undefined> {
    return unsubscribeContact(this.db, serverId, email, now);
  }

  createCustomField(serverId: number, name: string, max: number, now: number): Promise<CustomField | 'duplicate' | 'limit'> {
    return createCustomField(this.db, serverId, name, max, now);
  }

  listCustomFields(serverId: number): Promise<CustomField[]> {
    return listCustomFields(this.db, serverId);
  }

  deleteCustomField(serverId: number, name: string): Promise<boolean> {
    return deleteCustomField(this.db, serverId, name);
  }

  importContacts(
    serverId: number,
    listId: number,
    rows: readonly ImportContactRow[],
    now: number,
  ): Promise<{ created: number; updated: number } | 'no-list' | UnknownCustomField> {
    return importContacts(this.db, serverId, listId, rows, now);
  }

  streamContacts(serverId: number, listId: number | undefined, batchSize: number): AsyncGenerator<Contact[]> {
    return streamContacts(this.db, serverId, listId, batchSize);
  }
}
