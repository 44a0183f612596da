/**
 * Contact import jobs (migration 27): a CSV accepted by the Marketing API's imports route is
 * stored with its job before the 202, so an import survives a restart and any process can show
 * its progress. The process running a job is its owner and renews heartbeat_at with each batch;
 * a job whose heartbeat stopped is taken over by another process (or the restarted one), which
 * goes on after the last recorded batch. The file is dropped when the job finishes.
 */
import type { Kysely, Updateable } from 'kysely';
import type { ContactImportsTable, Database } from './schema.js';

export type ContactImportState = 'running' | 'done' | 'failed';

export interface ContactImportRejectedRow {
  row: number;
  reason: string;
}

export interface ContactImportProgress {
  rowsDone: number;
  imported: number;
  updated: number;
  rejected: number;
  /** The first refused rows (the caller caps how many). */
  rejectedRows: ContactImportRejectedRow[];
}

export interface ContactImport extends ContactImportProgress {
  id: number;
  serverId: number;
  listId: number;
  state: ContactImportState;
  totalRows: number;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/** A running job an owner took (over): its file and where it got to. */
export interface ClaimedContactImport extends ContactImport {
  csv: string;
}

export interface ContactImportRepository {
  /** Stores the job and its file, owned by `owner`, and returns it. */
  create(job: { serverId: number; listId: number; csv: string; totalRows: number; owner: string }, now: number): Promise<ContactImport>;
  /** Records progress after a batch; false when the job is no longer this owner's (taken over). */
  recordProgress(id: number, owner: string, p: ContactImportProgress, now: number): Promise<boolean>;
  /** Renews the heartbeat of a job this owner runs (`now` 0 releases it to the next process at once); false when not its own. */
  heartbeat(id: number, owner: string, now: number): Promise<boolean>;
  /** Ends the job (its file is dropped); false when the job is no longer this owner's. */
  finish(id: number, owner: string, end: { state: 'done' | 'failed'; error: string | null; progress: ContactImportProgress }, now: number): Promise<boolean>;
  /** The job when it is this server's and list's. */
  get(serverId: number, listId: number, id: number): Promise<ContactImport | undefined>;
  /** Takes one running job whose heartbeat is older than `staleBefore` for `owner`; undefined when none. */
  claimStale(owner: string, staleBefore: number, now: number): Promise<ClaimedContactImport | undefined>;
  /** Removes jobs finished before `cutoff`; how many. */
  deleteFinishedBefore(cutoff: number): Promise<number>;
}

type Row = {
  id: number;
  server_id: number;
  list_id: number;
  state: string;
  total_rows: number;
  rows_done: number;
  imported: number;
  updated: number;
  rejected: number;
  rejected_rows: string;
  error: string | null;
  started_at: number;
  finished_at: number | null;
};
const COLUMNS = [
  'id',
  'server_id',
  'list_id',
  'state',
  'total_rows',
  'rows_done',
  'imported',
  'updated',
  'rejected',
  'rejected_rows',
  'error',
  'started_at',
  'finished_at',
] as const;

const toImport = (r: Row): ContactImport => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  listId: Number(r.list_id),
  state: r.state as ContactImportState,
  totalRows: Number(r.total_rows),
  rowsDone: Number(r.rows_done),
  imported: Number(r.imported),
  updated: Number(r.updated),
  rejected: Number(r.rejected),
  rejectedRows: JSON.parse(r.rejected_rows) as ContactImportRejectedRow[],
  error: r.error,
  startedAt: Number(r.started_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

const progressColumns = (p: ContactImportProgress) => ({
  rows_done: p.rowsDone,
  imported: p.imported,
  updated: p.updated,
  rejected: p.rejected,
  rejected_rows: JSON.stringify(p.rejectedRows),
});

/** Contact import jobs for both dialects. */
export class SqlContactImportRepository implements ContactImportRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async create(job: { serverId: number; listId: number; csv: string; totalRows: number; owner: string }, now: number): Promise<ContactImport> {
    const row = await this.db
      .insertInto('contact_imports')
      .values({
        server_id: job.serverId,
        list_id: job.listId,
        state: 'running',
        csv: job.csv,
        total_rows: job.totalRows,
        rows_done: 0,
        imported: 0,
        updated: 0,
        rejected: 0,
        rejected_rows: '[]',
        error: null,
        owner: job.owner,
        heartbeat_at: now,
        started_at: now,
        finished_at: null,
      })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return toImport(row as Row);
  }

  recordProgress(id: number, owner: string, p: ContactImportProgress, now: number): Promise<boolean> {
    return this.updateOwnJob(id, owner, { ...progressColumns(p), heartbeat_at: now });
  }

  heartbeat(id: number, owner: string, now: number): Promise<boolean> {
    return this.updateOwnJob(id, owner, { heartbeat_at: now });
  }

  async finish(
    id: number,
    owner: string,
    end: { state: 'done' | 'failed'; error: string | null; progress: ContactImportProgress },
    now: number,
  ): Promise<boolean> {
    return this.updateOwnJob(id, owner, {
      ...progressColumns(end.progress),
      state: end.state,
      error: end.error,
      csv: null,
      heartbeat_at: now,
      finished_at: now,
    });
  }

  /** Changes a job only while `owner` runs it; false when it is not (taken over, or ended). */
  private async updateOwnJob(id: number, owner: string, set: Updateable<ContactImportsTable>): Promise<boolean> {
    const r = await this.db
      .updateTable('contact_imports')
      .set(set)
      .where('id', '=', id)
      .where('owner', '=', owner)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async get(serverId: number, listId: number, id: number): Promise<ContactImport | undefined> {
    const row = await this.db
      .selectFrom('contact_imports')
      .select(COLUMNS)
      .where('id', '=', id)
      .where('server_id', '=', serverId)
      .where('list_id', '=', listId)
      .executeTakeFirst();
    return row && toImport(row as Row);
  }

  async claimStale(owner: string, staleBefore: number, now: number): Promise<ClaimedContactImport | undefined> {
    const candidate = await this.db
      .selectFrom('contact_imports')
      .select(['id', 'heartbeat_at'])
      .where('state', '=', 'running')
      .where('heartbeat_at', '<', staleBefore)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (!candidate) return undefined;
    // Taken only if no one renewed or took it since the read: the heartbeat is the version.
    const row = await this.db
      .updateTable('contact_imports')
      .set({ owner, heartbeat_at: now })
      .where('id', '=', candidate.id)
      .where('state', '=', 'running')
      .where('heartbeat_at', '=', candidate.heartbeat_at)
      .returning([...COLUMNS, 'csv'])
      .executeTakeFirst();
    if (!row || row.csv === null) return undefined;
    return { ...toImport(row as Row), csv: row.csv };
  }

  async deleteFinishedBefore(cutoff: number): Promise<number> {
    const r = await this.db.deleteFrom('contact_imports').where('state', '<>', 'running').where('finished_at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
