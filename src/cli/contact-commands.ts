/**
 * `postline contacts import|export`: a server's marketing contacts as CSV. Both stream: the import
 * holds one batch of rows, the export one page of contacts, whatever the size of the file or list.
 */
import { setFlagsFromString } from 'node:v8';
import type { Store } from '../store/store.js';
import { isValidEmailAddress } from '../core/address.js';
import { csvRow } from '../api/v2/suppressions/csv.js';
import { readCsv } from './csv-reader.js';
import { printJson, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';
import type { ImportContactRow } from '../store/store.js';

type Flags = Record<string, string | boolean | undefined>;

/** Rows per transaction: a million-row file takes a thousand transactions, not a million. */
const IMPORT_BATCH = 1_000;
/** Contacts per store query while exporting. */
const EXPORT_BATCH = 1_000;
/** The longest cell accepted (the Marketing API's bound on a field value). */
const MAX_VALUE = 1_000;
/** The Marketing API's bound on first and last names. */
const MAX_NAME = 100;
/**
 * How far V8 lets the old generation grow past the live heap before a full collection, in percent.
 * Each batch lives across its transaction's awaits, so its rows and query objects are promoted and
 * die in old space; V8's default growth let that garbage be most of the import's peak memory
 * (BENCHMARKS.md, Contacts CSV import). The flag is read at each collection, so setting it here
 * affects this command only.
 */
const IMPORT_HEAP_GROWING_PERCENT = 50;
/** Rejected rows listed in the --json summary; the rest are only counted. */
const MAX_REPORTED = 1_000;

const USAGE = 'usage: postline contacts import FILE --server ID --list ID [--json] | contacts export --server ID [--list ID] [--json]';

const STANDARD = ['emailAddress', 'firstName', 'lastName'] as const;
/** Written by the export; accepted on import and ignored, so an export can be imported again (an import never resubscribes). */
const READ_ONLY = 'unsubscribed';

type Column = { kind: 'email' | 'firstName' | 'lastName' | 'ignored' } | { kind: 'field'; name: string };

/** Maps the header to columns; an unknown or repeated name refuses the file before anything is written. */
function columnsOf(header: string[], fieldNames: string[]): Column[] {
  const seen = new Set<string>();
  const columns = header.map((raw): Column => {
    const name = raw.trim();
    const key = name.toLowerCase();
    if (seen.has(key)) throw new UsageError(`the header names column "${name}" twice; nothing was imported`);
    seen.add(key);
    const std = STANDARD.find((s) => s.toLowerCase() === key);
    if (std === 'emailAddress') return { kind: 'email' };
    if (std !== undefined) return { kind: std };
    if (key === READ_ONLY) return { kind: 'ignored' };
    const field = fieldNames.find((f) => f.toLowerCase() === key);
    if (field === undefined) {
      throw new UsageError(
        `unknown column "${name}": not emailAddress, firstName, lastName or a custom field of the server` +
          ` (${fieldNames.length === 0 ? 'it has none' : fieldNames.join(', ')}); nothing was imported`,
      );
    }
    return { kind: 'field', name: field };
  });
  if (!columns.some((c) => c.kind === 'email')) throw new UsageError('the header has no emailAddress column; nothing was imported');
  return columns;
}

/** The row as a contact, or why it is refused. */
function contactOf(cells: string[], columns: Column[]): ImportContactRow | string {
  if (cells.length > columns.length) return `too many columns (${cells.length}, the header has ${columns.length})`;
  const row: ImportContactRow = { email: '' };
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    const value = (cells[i] ?? '').trim();
    if (col.kind === 'email') row.email = value.toLowerCase();
    else if (col.kind === 'firstName' || col.kind === 'lastName') {
      if (value.length > MAX_NAME) return `${col.kind} is longer than ${MAX_NAME} characters`;
      row[col.kind] = value === '' ? null : value;
    } else if (col.kind === 'field') (row.customFields ??= {})[col.name] = value;
  }
  if (row.email === '') return 'no email address';
  if (!isValidEmailAddress(row.email)) return `not a valid email address: ${JSON.stringify(row.email.slice(0, 100))}`;
  return row;
}

interface Rejected {
  row: number;
  reason: string;
}

async function importFile(store: Store, serverId: number, args: string[], flags: Flags): Promise<void> {
  if (args.length !== 1) throw new UsageError(`contacts import needs one FILE\n${USAGE}`);
  const listId = positiveInt(flags.list, 'list');
  if (!(await store.marketing.getList(serverId, listId))) throw new UsageError(`list ${listId} does not exist on server ${serverId}`);
  const fieldNames = (await store.marketing.listCustomFields(serverId)).map((f) => f.name);
  setFlagsFromString(`--heap-growing-percent=${IMPORT_HEAP_GROWING_PERCENT}`);
  const json = flags.json === true;
  const progress = process.stderr.isTTY ? process.stderr : null;
  const started = Date.now();
  const totals = { imported: 0, updated: 0, rejected: 0 };
  const rejected: Rejected[] = [];
  let rowsDone = 0;
  let columns: Column[] | null = null;
  let batch: ImportContactRow[] = [];

  const reject = (r: Rejected): void => {
    totals.rejected += 1;
    if (json) {
      if (rejected.length < MAX_REPORTED) rejected.push(r);
    } else process.stderr.write(`${progress ? '\r\x1b[K' : ''}row ${r.row}: ${r.reason}\n`);
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const r = await store.marketing.importContacts(serverId, listId, batch, Date.now());
    if (r === 'no-list') throw new UsageError(`list ${listId} was deleted during the import; rows before it were imported`);
    if ('unknownField' in r) throw new UsageError(`custom field "${r.unknownField}" was deleted during the import; rows before it were imported`);
    totals.imported += r.created;
    totals.updated += r.updated;
    batch = [];
    if (progress) {
      const secs = Math.max((Date.now() - started) / 1000, 0.001);
      progress.write(`\r\x1b[K${rowsDone} rows, ${Math.round(rowsDone / secs)} rows/s`);
    }
  };

  let read: ReturnType<typeof readCsv>;
  try {
    read = readCsv(args[0]!, MAX_VALUE);
    for await (const rec of read) {
      if (columns === null) {
        columns = columnsOf(rec.cells, fieldNames);
        continue;
      }
      rowsDone += 1;
      if (rec.unterminated) {
        reject({ row: rec.row, reason: 'a quoted field is not closed before the end of the file' });
        continue;
      }
      if (rec.overlong) {
        reject({ row: rec.row, reason: `a value is longer than ${MAX_VALUE} characters` });
        continue;
      }
      const contact = contactOf(rec.cells, columns);
      if (typeof contact === 'string') {
        reject({ row: rec.row, reason: contact });
        continue;
      }
      batch.push(contact);
      if (batch.length >= IMPORT_BATCH) await flush();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot read ${args[0]}: no such file`);
    throw err;
  }
  if (columns === null) throw new UsageError(`${args[0]} is empty: a header row (emailAddress,...) is required`);
  await flush();
  if (progress) progress.write('\r\x1b[K');
  if (json) return printJson({ serverId, listId, ...totals, rejectedRows: rejected, rejectedNotListed: totals.rejected - rejected.length });
  process.stdout.write(`imported ${totals.imported}, updated ${totals.updated}, rejected ${totals.rejected} (list ${listId}, server ${serverId})\n`);
}

async function exportCsv(store: Store, serverId: number, flags: Flags): Promise<void> {
  let listId: number | undefined;
  if (flags.list !== undefined) {
    listId = positiveInt(flags.list, 'list');
    if (!(await store.marketing.getList(serverId, listId))) throw new UsageError(`list ${listId} does not exist on server ${serverId}`);
  }
  const fields = (await store.marketing.listCustomFields(serverId)).map((f) => f.name);
  const out = process.stdout;
  // Waits when stdout's buffer is full (a slow pipe), so a large export is not held in memory.
  const write = (text: string): Promise<void> | void => {
    if (!out.write(text)) return new Promise((r) => out.once('drain', () => r()));
  };
  if (flags.json) {
    // A JSON array written page by page: valid JSON at the end, one page in memory at a time.
    let first = true;
    await write('[');
    for await (const contacts of store.marketing.streamContacts(serverId, listId, EXPORT_BATCH)) {
      await write(
        contacts
          .map((c) => {
            const line = `${first ? '\n' : ',\n'}  ${JSON.stringify({
              emailAddress: c.email,
              firstName: c.firstName,
              lastName: c.lastName,
              unsubscribed: c.unsubscribedAt !== null,
              customFields: c.customFields,
            })}`;
            first = false;
            return line;
          })
          .join(''),
      );
    }
    await write(first ? ']\n' : '\n]\n');
    return;
  }
  await write(csvRow([...STANDARD, READ_ONLY, ...fields]));
  for await (const contacts of store.marketing.streamContacts(serverId, listId, EXPORT_BATCH)) {
    await write(
      contacts
        .map((c) => csvRow([c.email, c.firstName, c.lastName, c.unsubscribedAt === null ? 'false' : 'true', ...fields.map((f) => c.customFields[f] ?? null)]))
        .join(''),
    );
  }
}

/** `postline contacts import FILE --server ID --list ID | contacts export --server ID [--list ID]` */
export async function contactsCommand(store: Store, verb: string | undefined, args: string[], flags: Flags): Promise<void> {
  if (verb !== 'import' && verb !== 'export') throw new UsageError(USAGE);
  const serverId = positiveInt(flags.server, 'server');
  if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
  if (verb === 'import') return importFile(store, serverId, args, flags);
  if (args.length > 0) throw new UsageError(`contacts export takes no FILE (it writes to stdout)\n${USAGE}`);
  return exportCsv(store, serverId, flags);
}
