/**
 * SQLite WAL checkpoints on a thread of their own.
 *
 * By default SQLite checkpoints inside the COMMIT that pushes the WAL past 1,000 pages: it copies
 * those pages into the database file and fsyncs it, on the committing connection, which is the
 * event loop here (better-sqlite3 is synchronous). With inbound messages of 50 KB that was a commit
 * of 21–25 ms every ~80 messages, and with a 25 MB message several in a row, part of the longest
 * event-loop stalls bench/inbound.js measured. The store's connection now never checkpoints
 * (wal_autocheckpoint = 0); this thread runs a PASSIVE checkpoint on its own connection every
 * CHECKPOINT_EVERY_MS. PASSIVE never waits on the writer or on readers: it copies what it can,
 * and a writer restarts the WAL from its start once everything in it has been copied.
 *
 * Durability is unchanged: a commit is durable once the WAL is synced (WalSync); the checkpoint
 * syncs the WAL before copying and the database file after, as SQLite's own does. A process
 * killed mid-checkpoint is recovered from the WAL at the next open.
 *
 * The thread's code is a string (eval) rather than a file, so that it loads the same way from
 * dist/ and from the TypeScript sources under vitest.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Often enough that the WAL stays a few MB at hundreds of messages a second; an idle check costs microseconds. */
export const CHECKPOINT_EVERY_MS = 200;
/** A failure that repeats (every CHECKPOINT_EVERY_MS) is reported again at most this often. */
const REPEAT_REPORT_MS = 60_000;

export interface CheckpointResult { busy: boolean; walFrames: number; checkpointedFrames: number }

const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const describe = (err) => (err && typeof err.message === 'string' ? err.message : String(err));
let db = null;
try {
  db = new Database(workerData.file);
  db.pragma('synchronous = NORMAL');
} catch (err) {
  parentPort.postMessage({ error: 'cannot open ' + workerData.file + ': ' + describe(err) });
}
// 'now' (a checkpoint asked for by the store's WAL gate) is answered even when the WAL is empty.
const checkpoint = (now) => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && (r.log > 0 || now)) parentPort.postMessage({ busy: r.busy === 1, walFrames: Math.max(r.log, 0), checkpointedFrames: Math.max(r.checkpointed, 0), now });
  } catch (err) {
    parentPort.postMessage({ error: describe(err), now });
  }
};
const timer = db && setInterval(checkpoint, workerData.everyMs, false);
parentPort.on('message', (m) => {
  if (m === 'now') {
    if (db) checkpoint(true);
    else parentPort.postMessage({ error: 'no connection', now: true });
    return;
  }
  if (m !== 'close') return;
  if (db) {
    clearInterval(timer);
    checkpoint();
    db.close();
  }
  parentPort.postMessage({ closed: true });
});
`;

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
  constructor(file: string, everyMs = CHECKPOINT_EVERY_MS, private readonly onError?: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(THREAD_CODE, { eval: true, workerData: { file, driver, everyMs } });
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
    this.worker.once('exit', () => { this.exited = true; this.answer(null); });
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
      const done = () => { void this.worker.terminate().finally(resolve); };
      this.answer(null);
      this.worker.on('message', (m: { closed?: boolean }) => { if (m.closed) done(); });
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('close');
    });
    return this.closing;
  }
}
