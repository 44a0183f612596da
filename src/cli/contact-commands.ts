/**
 * `postline contacts import|export`: a server's marketing contacts as CSV. Both stream: the import
 * holds one batch of rows, the export one page of contacts, whatever the size of the file or list.
 */
import { setFlagsFromString } from 'node:v8';
import type { Store } from '../store/store.js';
import { csvRow } from '../api/v2/suppressions/csv.js';
import { readCsv } from './csv-reader.js';
import { printJson, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';
import {
  importContactRecords,
  ImportRefused,
  MAX_IMPORT_VALUE,
  READ_ONLY_COLUMN,
  STANDARD_COLUMNS,
  type ImportTotals,
  type RejectedRow,
} from '../marketing/contact-import.js';

type Flags = Record<string, string | boolean | undefined>;

/** Contacts per store query while exporting. */
const EXPORT_BATCH = 1_000;
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

async function importFile(store: Store, serverId: number, args: string[], flags: Flags): Promise<void> {
  if (args.length !== 1) throw new UsageError(`contacts import needs one FILE\n${USAGE}`);
  const listId = positiveInt(flags.list, 'list');
  if (!(await store.marketing.getList(serverId, listId))) throw new UsageError(`list ${listId} does not exist on server ${serverId}`);
  const fieldNames = (await store.marketing.listCustomFields(serverId)).map((f) => f.name);
  setFlagsFromString(`--heap-growing-percent=${IMPORT_HEAP_GROWING_PERCENT}`);
  const json = flags.json === true;
  const progress = process.stderr.isTTY ? process.stderr : null;
  const started = Date.now();
  const rejected: RejectedRow[] = [];
  let totals: ImportTotals;
  try {
    totals = await importContactRecords(store, serverId, listId, readCsv(args[0]!, MAX_IMPORT_VALUE), fieldNames, {
      onReject(r) {
        if (json) {
          if (rejected.length < MAX_REPORTED) rejected.push(r);
        } else process.stderr.write(`${progress ? '\r\x1b[K' : ''}row ${r.row}: ${r.reason}\n`);
      },
      onBatch(t) {
        if (!progress) return;
        const secs = Math.max((Date.now() - started) / 1000, 0.001);
        progress.write(`\r\x1b[K${t.rowsDone} rows, ${Math.round(t.rowsDone / secs)} rows/s`);
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot read ${args[0]}: no such file`);
    if (err instanceof ImportRefused) throw new UsageError(err.message.replace(/^the file is empty/, `${args[0]} is empty`));
    throw err;
  }
  if (progress) progress.write('\r\x1b[K');
  const { imported, updated, rejected: rejectedCount } = totals;
  if (json)
    return printJson({
      serverId,
      listId,
      imported,
      updated,
      rejected: rejectedCount,
      rejectedRows: rejected,
      rejectedNotListed: rejectedCount - rejected.length,
    });
  process.stdout.write(`imported ${imported}, updated ${updated}, rejected ${rejectedCount} (list ${listId}, server ${serverId})\n`);
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
  await write(csvRow([...STANDARD_COLUMNS, READ_ONLY_COLUMN, ...fields]));
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
