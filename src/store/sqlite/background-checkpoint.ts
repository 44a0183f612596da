/**
 * SQLite WAL checkpoints on a thread of their own.
 *
 * By default SQLite checkpoints inside the COMMIT that pushes the WAL past 1,000 pages: it copies
 * those pages into the database file and fsyncs it, on the committing connection, which is the
 * event loop here (better-sqlite3 is synchronous), so every so often one commit stalls the loop
 * (BENCHMARKS.md, Inbound pipeline). The store's connection never checkpoints
 * (wal_autocheckpoint = 0); a thread (checkpoint-thread.mjs) runs a PASSIVE checkpoint on its own
 * connection every CHECKPOINT_EVERY_MS. PASSIVE never waits on the writer or on readers: it copies what it can,
 * and a writer restarts the WAL from its start once everything in it has been copied.
 *
 * Durability is unchanged: a commit is durable once the WAL is synced (WalSync); the checkpoint
 * syncs the WAL before copying and the database file after, as SQLite's own does. A process
 * killed mid-checkpoint is recovered from the WAL at the next open.
 */
import { Worker } from 'node:worker_threads';

/** The thread's module, beside this one in src/ and in dist/ (plain JavaScript, copied by tsc). */
const THREAD_FILE = new URL('./checkpoint-thread.mjs', import.meta.url);

/** Often enough that the WAL stays a few MB at hundreds of messages a second; an idle check costs microseconds. */
export const CHECKPOINT_EVERY_MS = 200;
/** A failure that repeats (every CHECKPOINT_EVERY_MS) is reported again at most this often. */
const REPEAT_REPORT_MS = 60_000;

export interface CheckpointResult {
  busy: boolean;
  walFrames: number;
  checkpointedFrames: number;
}

export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private closing: Promise<void> | null = null;
  /** The thread has ended (closed, or died of an error): nothing is left to close. */
  private exited = false;
  /** Checkpoints that found frames in the WAL, with the last one's result (metrics, tests). */
  checkpoints = 0;
  last: CheckpointResult | null = null;
  /** Failures (a thread that could not start, a checkpoint that threw), each counted, and the last one's message. */
  errors = 0;
  lastError: string | null = null;

  private reportedError: { message: string; at: number } | null = null;
  /** Callers of checkpointNow() waiting for the thread's answer (one request serves them all). */
  private waiting: Array<(r: CheckpointResult | null) => void> = [];

  /** `onError` hears of a failing checkpoint (a thread that could not start, a checkpoint that threw): once per new message, then once a minute. */
  constructor(
    file: string,
    everyMs = CHECKPOINT_EVERY_MS,
    private readonly onError?: (message: string) => void,
  ) {
    this.worker = new Worker(THREAD_FILE, { workerData: { file, everyMs } });
    // An idle checkpointer does not keep the process alive; close() ends it.
    this.worker.unref();
    this.worker.on('message', (m: CheckpointResult & { error?: string; closed?: boolean; now?: boolean }) => {
      if (m.error !== undefined) this.failed(m.error);
      else if (m.closed === undefined && m.walFrames > 0) {
        this.checkpoints++;
        this.last = { busy: m.busy, walFrames: m.walFrames, checkpointedFrames: m.checkpointedFrames };
      }
      if (m.now) this.answer(m.error === undefined ? { busy: m.busy, walFrames: m.walFrames, checkpointedFrames: m.checkpointedFrames } : null);
    });
    // A failing checkpointer costs disk (the WAL grows), never data; the next open checkpoints.
    // What a thread throws arrives serialized: an Error, or a plain object or value.
    this.worker.on('error', (err: unknown) => {
      const message = (err as { message?: unknown } | null)?.message;
      this.failed(typeof message === 'string' && message !== '' ? message : String(err));
    });
    this.worker.once('exit', () => {
      this.exited = true;
      this.answer(null);
    });
  }

  /**
   * A checkpoint now, on the thread; resolves with its result (null: the thread failed or is
   * gone). Callers that ask while one is pending share it.
   */
  checkpointNow(): Promise<CheckpointResult | null> {
    if (this.exited || this.closing) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length === 1) this.worker.postMessage('now');
    });
  }

  private answer(r: CheckpointResult | null): void {
    for (const resolve of this.waiting.splice(0)) resolve(r);
  }

  private failed(message: string): void {
    this.errors++;
    this.lastError = message;
    const now = Date.now();
    const r = this.reportedError;
    if (r && r.message === message && now - r.at < REPEAT_REPORT_MS) return;
    this.reportedError = { message, at: now };
    this.onError?.(message);
  }

  /** Runs a last checkpoint, closes the thread's connection and ends the thread. */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    this.closing ??= new Promise<void>((resolve) => {
      const done = () => {
        void this.worker.terminate().finally(resolve);
      };
      this.answer(null);
      this.worker.on('message', (m: { closed?: boolean }) => {
        if (m.closed) done();
      });
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('close');
    });
    return this.closing;
  }
}
