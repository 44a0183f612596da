/**
 * Contact imports as jobs (the Marketing API's `POST /lists/{listId}/imports`): the CSV arrives
 * whole in the request, its header is checked and its rows counted, then the job and its file are
 * stored (store/contact-imports.ts) before the 202 — accepted means it will run. The rows are
 * written in the background, a batch per transaction, each batch's progress recorded with it, so
 * `GET .../imports/{importId}` answers from any process. A job whose process died (or stopped) is
 * taken over by a live one, which goes on after the last recorded batch.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ContactImport, ContactImportProgress } from '../store/contact-imports.js';
import type { Store } from '../store/store.js';
import { columnsOf, ImportRefused, importContactRecords, MAX_IMPORT_VALUE } from './contact-import.js';
import { type CsvRecord, readCsvChunks } from './csv-records.js';

/** Refused rows listed in a job's answer; the rest are only counted. */
export const MAX_LISTED_REJECTS = 1_000;
/** How long a finished job's result stays readable. */
export const KEEP_FINISHED_MS = 7 * 24 * 3_600_000;
/** Records parsed between yields to the event loop, so a file of refused rows does not hold it up. */
const YIELD_EVERY = 1_000;

export interface ImportJobTimings {
  /** A running job whose heartbeat is older than this is taken over. */
  staleMs: number;
  /** How often a process renews its jobs' heartbeats and looks for jobs to take over. */
  tickMs: number;
}
export const IMPORT_JOB_TIMINGS: ImportJobTimings = { staleMs: 60_000, tickMs: 15_000 };

async function* yielding(records: AsyncIterable<CsvRecord>): AsyncGenerator<CsvRecord> {
  let n = 0;
  for await (const r of records) {
    yield r;
    if (++n % YIELD_EVERY === 0) await yieldToLoop();
  }
}

/** Thrown inside a job when this process stops (the job is released to the next one) or lost the job. */
class JobLeft extends Error {}

export class ImportJobs {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly running = new Set<number>();
  private readonly runs = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly onFailure: (job: ContactImport, err: unknown) => void = () => undefined,
    private readonly timings: ImportJobTimings = IMPORT_JOB_TIMINGS,
  ) {}

  /** Takes over jobs left by stopped or dead processes now and every tick; renews this process's heartbeats. */
  startBackground(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.timings.tickMs);
    this.timer.unref();
  }

  /**
   * Checks the header and counts the rows, stores the job, then starts writing. Throws
   * ImportRefused for an empty file or a refused header (nothing stored). The list must exist
   * (the caller checks).
   */
  async start(serverId: number, listId: number, csv: string): Promise<ContactImport> {
    const fieldNames = (await this.store.marketing.listCustomFields(serverId)).map((f) => f.name);
    let records = 0;
    for await (const rec of yielding(readCsvChunks([csv], MAX_IMPORT_VALUE))) {
      if (records === 0) columnsOf(rec.cells, fieldNames);
      records += 1;
    }
    if (records === 0) throw new ImportRefused('the file is empty: a header row (emailAddress,...) is required');
    const job = await this.store.contactImports.create({ serverId, listId, csv, totalRows: records - 1, owner: this.owner }, this.now());
    this.launch(job, csv);
    return job;
  }

  /** The job, when it is this server's and list's and still kept. */
  get(serverId: number, listId: number, id: number): Promise<ContactImport | undefined> {
    return this.store.contactImports.get(serverId, listId, id);
  }

  /** Stops taking work; running jobs stop after their current batch and are released for the next process at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.runs]);
  }

  private launch(job: ContactImport, csv: string): void {
    const run = this.run(job, csv).finally(() => this.runs.delete(run));
    this.runs.add(run);
  }

  private async tick(): Promise<void> {
    try {
      const now = this.now();
      for (const id of this.running) await this.store.contactImports.heartbeat(id, this.owner, now);
      while (!this.stopping) {
        const claimed = await this.store.contactImports.claimStale(this.owner, this.now() - this.timings.staleMs, this.now());
        if (!claimed) break;
        const { csv, ...job } = claimed;
        this.launch(job, csv);
      }
      await this.store.contactImports.deleteFinishedBefore(now - KEEP_FINISHED_MS);
    } catch {
      // The store is closing or failing: the next tick tries again, and a stale job waits for it.
    }
  }

  private async run(job: ContactImport, csv: string): Promise<void> {
    const progress: ContactImportProgress = {
      rowsDone: job.rowsDone,
      imported: job.imported,
      updated: job.updated,
      rejected: job.rejected,
      rejectedRows: [...job.rejectedRows],
    };
    this.running.add(job.id);
    let end: { state: 'done' | 'failed'; error: string | null };
    try {
      const fieldNames = (await this.store.marketing.listCustomFields(job.serverId)).map((f) => f.name);
      await importContactRecords(this.store, job.serverId, job.listId, yielding(readCsvChunks([csv], MAX_IMPORT_VALUE)), fieldNames, {
        resumeFrom: progress,
        onReject: (r) => {
          if (progress.rejectedRows.length < MAX_LISTED_REJECTS) progress.rejectedRows.push(r);
          progress.rejected += 1;
        },
        onBatch: async (t) => {
          progress.rowsDone = t.rowsDone;
          progress.imported = t.imported;
          progress.updated = t.updated;
          progress.rejected = t.rejected;
          if (!(await this.store.contactImports.recordProgress(job.id, this.owner, progress, this.now()))) throw new JobLeft('taken over');
          if (this.stopping) throw new JobLeft('stopping');
        },
      });
      end = { state: 'done', error: null };
    } catch (err) {
      if (err instanceof JobLeft) {
        // Released (heartbeat 0) so that the next process takes it at once; a job taken over is not ours to release.
        if (err.message === 'stopping') await this.store.contactImports.heartbeat(job.id, this.owner, 0).catch(() => undefined);
        this.running.delete(job.id);
        return;
      }
      end = { state: 'failed', error: err instanceof ImportRefused ? err.message : 'internal error; the rows before it were imported' };
      if (!(err instanceof ImportRefused)) this.onFailure(job, err);
    }
    this.running.delete(job.id);
    try {
      await this.store.contactImports.finish(job.id, this.owner, { ...end, progress }, this.now());
    } catch (err) {
      // Not recorded: the job stays running with its last progress and is taken over, which ends it again.
      this.onFailure(job, err);
    }
  }
}
