import { parentPort } from 'node:worker_threads';
import { signMessage, type DkimKey } from './dkim.js';

/** A DKIM signing thread: RSA signatures are the largest CPU cost of bulk delivery, so they run
 *  here, beside the event loop, on another core. Parsed keys stay cached inside dkim.ts. */
interface Job {
  id: number;
  message: Uint8Array;
  keys: DkimKey[];
}

parentPort!.on('message', (job: Job) => {
  const input = Buffer.from(job.message.buffer, job.message.byteOffset, job.message.byteLength);
  signMessage(input, job.keys).then(
    (out) => {
      // Transfer a buffer of exactly the message (a pooled Buffer may share a larger ArrayBuffer).
      const copy = new Uint8Array(out.length);
      copy.set(out);
      parentPort!.postMessage({ id: job.id, ok: true, message: copy }, [copy.buffer]);
    },
    (err: unknown) => parentPort!.postMessage({ id: job.id, ok: false, error: (err as Error).message }),
  );
});
