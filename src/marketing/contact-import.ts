/**
 * A CSV import of contacts into a list, shared by `postline contacts import` (a file) and the
 * Marketing API's import jobs (a request body): the header mapped to columns, each row judged, and
 * the good rows written IMPORT_BATCH per transaction. Callers see each refused row and each batch.
 */
import { isValidEmailAddress } from '../core/address.js';
import type { ImportContactRow, Store } from '../store/store.js';
import type { CsvRecord } from './csv-records.js';

/** Rows per transaction: a million-row file takes a thousand transactions, not a million. */
export const IMPORT_BATCH = 1_000;
/** The longest cell accepted (the Marketing API's bound on a field value). */
export const MAX_IMPORT_VALUE = 1_000;
/** The Marketing API's bound on first and last names. */
const MAX_NAME = 100;

const STANDARD = ['emailAddress', 'firstName', 'lastName'] as const;
/** Written by the export; accepted on import and ignored, so an export can be imported again (an import never resubscribes). */
export const READ_ONLY_COLUMN = 'unsubscribed';
export const STANDARD_COLUMNS = STANDARD;

/** The whole file is refused (a bad header), or the import cannot go on (the list or a field was deleted). */
export class ImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefused';
  }
}

type Column = { kind: 'email' | 'firstName' | 'lastName' | 'ignored' } | { kind: 'field'; name: string };

/** Maps the header to columns; an unknown or repeated name refuses the file before anything is written. */
export function columnsOf(header: string[], fieldNames: string[]): Column[] {
  const seen = new Set<string>();
  const columns = header.map((raw): Column => {
    const name = raw.trim();
    const key = name.toLowerCase();
    if (seen.has(key)) throw new ImportRefused(`the header names column "${name}" twice; nothing was imported`);
    seen.add(key);
    const std = STANDARD.find((s) => s.toLowerCase() === key);
    if (std === 'emailAddress') return { kind: 'email' };
    if (std !== undefined) return { kind: std };
    if (key === READ_ONLY_COLUMN) return { kind: 'ignored' };
    const field = fieldNames.find((f) => f.toLowerCase() === key);
    if (field === undefined) {
      throw new ImportRefused(
        `unknown column "${name}": not emailAddress, firstName, lastName or a custom field of the server` +
          ` (${fieldNames.length === 0 ? 'it has none' : fieldNames.join(', ')}); nothing was imported`,
      );
    }
    return { kind: 'field', name: field };
  });
  if (!columns.some((c) => c.kind === 'email')) throw new ImportRefused('the header has no emailAddress column; nothing was imported');
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

/** The row's refusal: its record number (1-based, the header is row 1) and why. */
export interface RejectedRow {
  row: number;
  reason: string;
}

export interface ImportTotals {
  /** Rows after the header read so far, good and bad. */
  rowsDone: number;
  /** New contacts. */
  imported: number;
  /** Contacts that existed (their names and fields in the file replaced the stored ones). */
  updated: number;
  rejected: number;
}

export interface ImportHooks {
  onReject?(r: RejectedRow): void;
  /** After each batch's commit (awaited: a job records its progress there). */
  onBatch?(totals: Readonly<ImportTotals>): void | Promise<void>;
  /**
   * Where an interrupted import got to: its rows up to `rowsDone` are skipped (their outcome is
   * in these totals already) and the counts go on from these.
   */
  resumeFrom?: Readonly<ImportTotals>;
}

/**
 * Reads the records (the first is the header), writes the good rows and reports the bad ones.
 * Throws ImportRefused for a bad or missing header (nothing written) or when the list or a custom
 * field disappears mid-way (the batches before it stay written).
 */
export async function importContactRecords(
  store: Store,
  serverId: number,
  listId: number,
  records: AsyncIterable<CsvRecord>,
  fieldNames: string[],
  hooks: ImportHooks = {},
): Promise<ImportTotals> {
  const totals: ImportTotals = { rowsDone: 0, imported: 0, updated: 0, rejected: 0, ...hooks.resumeFrom };
  const skip = totals.rowsDone;
  let seen = 0;
  let columns: Column[] | null = null;
  let batch: ImportContactRow[] = [];
  const reject = (r: RejectedRow): void => {
    totals.rejected += 1;
    hooks.onReject?.(r);
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const r = await store.marketing.importContacts(serverId, listId, batch, Date.now());
    if (r === 'no-list') throw new ImportRefused(`list ${listId} was deleted during the import; rows before it were imported`);
    if ('unknownField' in r) throw new ImportRefused(`custom field "${r.unknownField}" was deleted during the import; rows before it were imported`);
    totals.imported += r.created;
    totals.updated += r.updated;
    batch = [];
    await hooks.onBatch?.(totals);
  };
  for await (const rec of records) {
    if (columns === null) {
      columns = columnsOf(rec.cells, fieldNames);
      continue;
    }
    seen += 1;
    if (seen <= skip) continue;
    totals.rowsDone += 1;
    if (rec.unterminated) {
      reject({ row: rec.row, reason: 'a quoted field is not closed before the end of the file' });
      continue;
    }
    if (rec.overlong) {
      reject({ row: rec.row, reason: `a value is longer than ${MAX_IMPORT_VALUE} characters` });
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
  if (columns === null) throw new ImportRefused('the file is empty: a header row (emailAddress,...) is required');
  await flush();
  await hooks.onBatch?.(totals);
  return totals;
}
