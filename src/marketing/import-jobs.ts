/**
 * Contact imports run as jobs in the process that accepted them (the Marketing API's
 * `POST /lists/{listId}/imports`): the CSV arrives whole in the request, its rows are counted and
 * its header checked before the answer, and the rows are then written in the background, a batch
 * per transaction, while `GET .../imports/{importId}` reports how far it got. Jobs live in memory:
 * a finished one is kept for KEEP_MS so its result can be read, and a restart forgets them (the
 * batches already committed stay, as with an interrupted `postline contacts import`).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Store } from '../store/store.js';
import { importContactRecords, columnsOf, ImportRefused, MAX_IMPORT_VALUE, type RejectedRow } from './contact-import.js';
import { readCsvChunks, type CsvRecord } from './csv-records.js';

/** How long a finished job's result stays readable. */
const KEEP_MS = 60 * 60_000;
/** Jobs kept per process at most (the oldest finished ones go first). */
const MAX_JOBS = 200;
/** Refused rows listed in a job's answer; the rest are only counted. */
export const MAX_LISTED_REJECTS = 1_000;
/** Records parsed between yields to the event loop, so a file of refused rows does not hold it up. */
const YIELD_EVERY = 1_000;

export interface ImportJob {
  id: number;
  serverId: number;
  listId: number;
  state: 'running' | 'done' | 'failed';
  /** Rows after the header in the file. */
  totalRows: number;
  rowsDone: number;
  imported: number;
  updated: number;
  rejected: number;
  rejectedRows: RejectedRow[];
  /** Why a failed job stopped (the list or a custom field was deleted meanwhile, or an internal error). */
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

async function* yielding(records: AsyncIterable<CsvRecord>): AsyncGenerator<CsvRecord> {
  let n = 0;
  for await (const r of records) {
    yield r;
    if (++n % YIELD_EVERY === 0) await yieldToLoop();
  }
}

export class ImportJobs {
  private readonly jobs = new Map<number, ImportJob>();
  private nextId = 1;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly onFailure: (job: ImportJob, err: unknown) => void = () => undefined,
  ) {}

  /**
   * Checks the header and counts the rows, then starts writing. Throws ImportRefused for an empty
   * file or a refused header (nothing written). The list must exist (the caller checks).
   */
  async start(serverId: number, listId: number, csv: string): Promise<ImportJob> {
    const fieldNames = (await this.store.marketing.listCustomFields(serverId)).map((f) => f.name);
    let records = 0;
    for await (const rec of yielding(readCsvChunks([csv], MAX_IMPORT_VALUE))) {
      if (records === 0) columnsOf(rec.cells, fieldNames);
      records += 1;
    }
    if (records === 0) throw new ImportRefused('the file is empty: a header row (emailAddress,...) is required');
    this.prune();
    const job: ImportJob = {
      id: this.nextId++,
      serverId,
      listId,
      state: 'running',
      totalRows: records - 1,
      rowsDone: 0,
      imported: 0,
      updated: 0,
      rejected: 0,
      rejectedRows: [],
      error: null,
      startedAt: this.now(),
      finishedAt: null,
    };
    this.jobs.set(job.id, job);
    void this.run(job, csv, fieldNames);
    return job;
  }

  private async run(job: ImportJob, csv: string, fieldNames: string[]): Promise<void> {
    try {
      const totals = await importContactRecords(this.store, job.serverId, job.listId, yielding(readCsvChunks([csv], MAX_IMPORT_VALUE)), fieldNames, {
        onReject: (r) => {
          if (job.rejectedRows.length < MAX_LISTED_REJECTS) job.rejectedRows.push(r);
          job.rejected += 1;
        },
        onBatch: (t) => {
          job.rowsDone = t.rowsDone;
          job.imported = t.imported;
          job.updated = t.updated;
        },
      });
      job.rowsDone = totals.rowsDone;
      job.state = 'done';
    } catch (err) {
      job.state = 'failed';
      job.error = err instanceof ImportRefused ? err.message : 'internal error; the rows before it were imported';
      if (!(err instanceof ImportRefused)) this.onFailure(job, err);
    } finally {
      job.finishedAt = this.now();
    }
  }

  /** The job, when it is this server's and list's and still kept. */
  get(serverId: number, listId: number, id: number): ImportJob | undefined {
    const job = this.jobs.get(id);
    return job && job.serverId === serverId && job.listId === listId ? job : undefined;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, job] of this.jobs) if (job.finishedAt !== null && now - job.finishedAt > KEEP_MS) this.jobs.delete(id);
    // Map order is insertion order: the oldest finished jobs go first.
    for (const [id, job] of this.jobs) {
      if (this.jobs.size < MAX_JOBS) break;
      if (job.finishedAt !== null) this.jobs.delete(id);
    }
  }
}
