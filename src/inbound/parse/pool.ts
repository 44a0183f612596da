import { Worker } from 'node:worker_threads';
import { concatInSlices } from '../../core/sliced-copy.js';
import type { BodyEnvelope } from './build-body.js';
import type { ParseJob, ParseReady, ParseReply, ParseWorkerData } from './parse-worker.js';

interface Task {
  id: number;
  raw: Buffer;
  env: BodyEnvelope;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  /** It was in flight in a thread that crashed or hung along with others: it runs alone from now on. */
  suspect: boolean;
  /** The copy the thread gets (transferred); made before queueing, in slices. null once sent. */
  copy: Uint8Array | null;
}
interface Slot {
  worker: Worker;
  /**
   * The thread has loaded its modules. Until then its tasks wait without a timer: a new thread
   * (a replacement under load especially) can take seconds to start, and that is not the
   * message's parse time.
   */
  ready: boolean;
  tasks: Map<number, { task: Task; timer: NodeJS.Timeout | null }>;
  /** Raw bytes of the tasks in flight. */
  bytes: number;
  /** Running a suspect alone: nothing else is given to it. */
  exclusive: boolean;
}

export interface ParsePoolOptions {
  workerFile: string;
  threads: number;
  data: ParseWorkerData;
  /** A task running longer than this is taken for a stuck thread: the thread is replaced. */
  taskTimeoutMs: number;
  /** Messages in flight per thread (default 8). */
  tasksPerThread?: number;
  /** Raw bytes in flight per thread beyond its first message (default 64 MiB). */
  bytesPerThread?: number;
  /** The threads end after this long with nothing to do, and start again with the next message (default 5 minutes). */
  idleMs?: number;
}

/** Several messages per thread: most of a message's time is spent waiting on DNS for its SPF, DKIM and DMARC checks. */
const DEFAULT_TASKS_PER_THREAD = 8;
const DEFAULT_BYTES_PER_THREAD = 64 * 1024 * 1024;
/**
 * Each thread holds a V8 heap with postal-mime, mailauth and their caches: `postline serve` with
 * both threads started idled at 226 MB resident, without them 140 MB. So they start with the first
 * message and end after a quiet spell; starting one takes about a tenth of a second.
 */
const DEFAULT_IDLE_MS = 5 * 60_000;
/** How long a new thread may take to load its modules (about a tenth of a second on an idle machine). */
const STARTUP_TIMEOUT_MS = 60_000;

/**
 * A set of parser threads with a queue, started with the first message and ended when idle (idleMs). Each thread takes several messages at a time (up to
 * tasksPerThread and bytesPerThread; a bigger message alone), because a message's checks mostly
 * wait on DNS: one at a time, a thread sat idle for half the time (BENCHMARKS.md). A thread that crashes or overruns the task timeout is terminated and replaced. The
 * message it had alone is rejected; messages it had together are not blamed yet: each is run again
 * alone (suspect), so only the culprit is rejected, on its second failure.
 */
export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private readonly tasksPerThread: number;
  private readonly bytesPerThread: number;
  private readonly idleMs: number;
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: ParsePoolOptions) {
    if (!(opts.threads >= 1)) throw new Error('the inbound parser needs at least one thread');
    this.tasksPerThread = opts.tasksPerThread ?? DEFAULT_TASKS_PER_THREAD;
    this.bytesPerThread = opts.bytesPerThread ?? DEFAULT_BYTES_PER_THREAD;
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    if (!(this.idleMs > 0)) throw new Error("the inbound parser's idleMs must be positive");
  }

  /** Threads running now (0 before the first message and after an idle spell). */
  get threads(): number {
    return this.slots.length;
  }

  async run(raw: Buffer, env: BodyEnvelope): Promise<Buffer> {
    if (this.closed) throw new Error('inbound parser is closed');
    // The thread gets a copy (the task keeps `raw` to run again if its thread fails), made in
    // slices so that copying a 50 MB message does not hold the event loop.
    const copy = await concatInSlices([raw]);
    if (this.closed) throw new Error('inbound parser is closed');
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, raw, env, resolve, reject, suspect: false, copy });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const err = new Error('inbound parser is closed');
    for (const t of this.queue.splice(0)) t.reject(err);
    for (const s of this.slots) {
      for (const { task, timer } of s.tasks.values()) {
        clearTimeout(timer ?? undefined);
        task.reject(err);
      }
      s.tasks.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Whether `slot` may take `task` now. */
  private fits(slot: Slot, task: Task): boolean {
    if (slot.exclusive) return false;
    if (slot.tasks.size === 0) return true;
    if (task.suspect) return false;
    return slot.tasks.size < this.tasksPerThread && slot.bytes + task.raw.length <= this.bytesPerThread;
  }

  private dispatch(): void {
    if (this.queue.length > 0 && this.slots.length === 0) {
      for (let i = 0; i < this.opts.threads; i++) this.slots.push(this.spawn());
    }
    while (this.queue.length > 0) {
      const task = this.queue[0]!;
      // The least busy thread that can take it; the queue keeps its order (a big message waits for room).
      const slot = this.slots.filter((s) => this.fits(s, task)).sort((a, b) => a.tasks.size - b.tasks.size)[0];
      if (!slot) return;
      this.queue.shift();
      this.start(slot, task);
    }
    this.whenIdle();
  }

  /** With nothing queued or in flight, ends the threads after idleMs (unless work comes first). */
  private whenIdle(): void {
    const busy = this.queue.length > 0 || this.slots.some((s) => s.tasks.size > 0);
    if (busy || this.slots.length === 0 || this.closed) {
      if (busy && this.idleTimer) {
        clearTimeout(this.idleTimer);
        this.idleTimer = null;
      }
      return;
    }
    this.idleTimer ??= setTimeout(() => {
      this.idleTimer = null;
      if (this.closed || this.queue.length > 0 || this.slots.some((s) => s.tasks.size > 0)) return;
      // Out of the slots first: their 'exit' events then find no slot to replace.
      for (const s of this.slots.splice(0)) void s.worker.terminate();
    }, this.idleMs).unref();
  }

  private start(slot: Slot, task: Task): void {
    // The copy made in run(); a task run again after a failed thread is copied anew (rare).
    const copy = task.copy ?? Uint8Array.from(task.raw);
    task.copy = null;
    // Both copies own a plain ArrayBuffer (never a shared one).
    const buffer = copy.buffer as ArrayBuffer;
    const job: ParseJob = { id: task.id, raw: buffer, byteOffset: 0, byteLength: copy.byteLength, env: task.env };
    slot.tasks.set(task.id, { task, timer: slot.ready ? this.timeoutFor(slot) : null });
    slot.bytes += task.raw.length;
    slot.exclusive = task.suspect;
    // An idle thread does not keep the process alive; one with a message in hand does.
    slot.worker.ref();
    slot.worker.postMessage(job, [buffer]);
  }

  /** The timer that takes the thread for stuck when a task overruns taskTimeoutMs. */
  private timeoutFor(slot: Slot): NodeJS.Timeout {
    const timer = setTimeout(
      () => this.fail(slot, new Error(`inbound parser thread took over ${this.opts.taskTimeoutMs} ms; replaced`)),
      this.opts.taskTimeoutMs,
    );
    timer.unref();
    return timer;
  }

  private spawn(): Slot {
    // No resourceLimits: a thread reaching a V8 heap limit can abort the whole process (Node 20).
    const worker = new Worker(this.opts.workerFile, { workerData: this.opts.data });
    const slot: Slot = { worker, ready: false, tasks: new Map(), bytes: 0, exclusive: false };
    worker.unref();
    // A thread that never loads is as stuck as one that never answers.
    const startup = setTimeout(
      () => this.fail(slot, new Error(`inbound parser thread did not start within ${STARTUP_TIMEOUT_MS} ms; replaced`)),
      STARTUP_TIMEOUT_MS,
    );
    startup.unref();
    worker.on('message', (m: ParseReply | ParseReady) => {
      if ('ready' in m) {
        clearTimeout(startup);
        slot.ready = true;
        for (const entry of slot.tasks.values()) entry.timer ??= this.timeoutFor(slot);
        return;
      }
      const entry = slot.tasks.get(m.id);
      if (!entry) return;
      clearTimeout(entry.timer ?? undefined);
      slot.tasks.delete(m.id);
      slot.bytes -= entry.task.raw.length;
      if (slot.tasks.size === 0) {
        slot.exclusive = false;
        worker.unref();
      }
      if (m.ok) entry.task.resolve(Buffer.from(m.body));
      else entry.task.reject(new Error(m.error));
      this.dispatch();
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.once('exit', () => clearTimeout(startup));
    worker.on('exit', (code) => this.fail(slot, new Error(`inbound parser thread exited with code ${code}`)));
    return slot;
  }

  /**
   * Puts a new thread in the slot's place (once per thread). A message the thread had alone is
   * rejected; messages it had together go back to the front of the queue, each to run alone.
   */
  private fail(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    const entries = [...slot.tasks.values()];
    for (const e of entries) clearTimeout(e.timer ?? undefined);
    slot.tasks.clear();
    this.slots[i] = this.spawn();
    void slot.worker.terminate();
    if (entries.length === 1) {
      entries[0]!.task.reject(err);
    } else {
      for (const e of entries.reverse()) {
        e.task.suspect = true;
        this.queue.unshift(e.task);
      }
    }
    this.dispatch();
  }
}
