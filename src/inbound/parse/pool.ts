import { Worker } from 'node:worker_threads';
import type { BodyEnvelope } from './build-body.js';
import type { ParseJob, ParseReply, ParseWorkerData } from './parse-worker.js';

interface Task {
  id: number;
  raw: Buffer;
  env: BodyEnvelope;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}
interface Slot { worker: Worker; task: Task | null; timer: NodeJS.Timeout | null }

export interface ParsePoolOptions {
  workerFile: string;
  threads: number;
  data: ParseWorkerData;
  /** A task running longer than this is taken for a stuck thread: the thread is replaced. */
  taskTimeoutMs: number;
}

/**
 * A fixed set of parser threads, one message at a time each, with a queue when all are busy (one
 * message at a time keeps a thread's peak memory to one message's worth). A thread that crashes or
 * overruns the task timeout is terminated and replaced; only its own task is
 * rejected.
 */
export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: ParsePoolOptions) {
    if (!(opts.threads >= 1)) throw new Error('the inbound parser needs at least one thread');
    for (let i = 0; i < opts.threads; i++) this.slots.push(this.spawn());
  }

  run(raw: Buffer, env: BodyEnvelope): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('inbound parser is closed'));
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, raw, env, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('inbound parser is closed');
    for (const t of this.queue.splice(0)) t.reject(err);
    for (const s of this.slots) {
      if (s.timer) clearTimeout(s.timer);
      s.task?.reject(err);
      s.task = null;
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      const { buffer, byteOffset, byteLength } = ownBuffer(task.raw);
      const job: ParseJob = { id: task.id, raw: buffer, byteOffset, byteLength, env: task.env };
      slot.timer = setTimeout(() => this.fail(slot, new Error(`inbound parser thread took over ${this.opts.taskTimeoutMs} ms; replaced`)), this.opts.taskTimeoutMs);
      slot.timer.unref();
      // An idle thread does not keep the process alive; one with a message in hand does.
      slot.worker.ref();
      slot.worker.postMessage(job, [buffer]);
    }
  }

  private spawn(): Slot {
    // No resourceLimits: a thread reaching a V8 heap limit can abort the whole process (Node 20).
    const worker = new Worker(this.opts.workerFile, { workerData: this.opts.data });
    const slot: Slot = { worker, task: null, timer: null };
    worker.unref();
    worker.on('message', (m: ParseReply) => {
      const task = slot.task;
      if (!task || task.id !== m.id) return;
      if (slot.timer) clearTimeout(slot.timer);
      slot.task = null;
      slot.timer = null;
      worker.unref();
      if (m.ok) task.resolve(Buffer.from(m.body));
      else task.reject(new Error(m.error));
      this.dispatch();
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => this.fail(slot, new Error(`inbound parser thread exited with code ${code}`)));
    return slot;
  }

  /** Rejects the slot's task and puts a new thread in its place (once per thread). */
  private fail(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    if (slot.timer) clearTimeout(slot.timer);
    const task = slot.task;
    slot.task = null;
    this.slots[i] = this.spawn();
    void slot.worker.terminate();
    task?.reject(err);
    this.dispatch();
  }
}

/**
 * The bytes of `raw` in an ArrayBuffer that may be transferred: its own when the Buffer spans all of
 * it (then the caller's Buffer is detached by the transfer), else a copy (Node's small pooled
 * Buffers and slices share their ArrayBuffer with other data).
 */
function ownBuffer(raw: Buffer): { buffer: ArrayBuffer; byteOffset: number; byteLength: number } {
  if (raw.buffer instanceof ArrayBuffer && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength) {
    return { buffer: raw.buffer, byteOffset: 0, byteLength: raw.byteLength };
  }
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return { buffer: copy.buffer, byteOffset: 0, byteLength: raw.byteLength };
}
