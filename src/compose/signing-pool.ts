import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DkimKey } from './dkim.js';

interface Pending {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}
interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * DKIM signing on worker threads. Jobs go to the least busy thread; a thread that dies fails its
 * jobs (the delivery worker defers those recipients) and is replaced.
 */
export class SigningPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending & { slot: Slot }>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly workerFile: string,
    size: number,
  ) {
    if (!(size >= 1)) throw new Error('SigningPool needs at least one thread');
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  sign(message: Buffer, keys: DkimKey[]): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('signing pool is closed'));
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, message, keys });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.workerFile), busy: 0 };
    slot.worker.unref();
    slot.worker.on('message', (m: { id: number; ok: boolean; message?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.slot.busy--;
      if (m.ok) p.resolve(Buffer.from(m.message!.buffer, m.message!.byteOffset, m.message!.byteLength));
      else p.reject(new Error(m.error));
    });
    slot.worker.on('error', (err) => this.fail(slot, err));
    slot.worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`signing thread exited with ${code}`));
    });
    return slot;
  }

  private fail(slot: Slot, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.reject(err);
    }
    const i = this.slots.indexOf(slot);
    if (i >= 0 && !this.closed) this.slots[i] = this.spawn();
  }
}

/**
 * One signing thread per core beyond the first (the event loop keeps that one), or none on a
 * single core or when running from TypeScript sources without a build (tests), where signing
 * stays in-process.
 */
export function defaultSigningPool(): SigningPool | null {
  const file = fileURLToPath(new URL('./signing-worker.js', import.meta.url));
  const size = Math.min(4, availableParallelism() - 1);
  if (size < 1 || !existsSync(file)) return null;
  return new SigningPool(file, size);
}
