/**
 * A parser thread: MIME parsing, mailauth's checks, base64 of attachments and the JSON of a message
 * of up to 50 MB cost up to hundreds of ms of CPU, so they run here, never on the event loop. The
 * raw message arrives and the JSON leaves as transferred ArrayBuffers (no copy between threads).
 * DNS for mailauth goes through the servers the pool was given (functions cannot cross threads),
 * with answers kept for a minute per thread (cachedResolve).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cachedResolve, dnsLookup } from '../../dns/lookup.js';
import { buildInboundBody, type BodyEnvelope } from './build-body.js';

export interface ParseWorkerData {
  dnsServers: string[];
  hostname: string;
}
export interface ParseJob {
  id: number;
  raw: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  env: BodyEnvelope;
}
export type ParseReply = { id: number; ok: true; body: ArrayBuffer } | { id: number; ok: false; error: string };
/** Sent once the thread has loaded its modules: the pool times a message from then, not from the thread's start. */
export interface ParseReady {
  ready: true;
}

const data = workerData as ParseWorkerData;
const resolve = cachedResolve(dnsLookup(data.dnsServers).resolve);

parentPort!.on('message', (job: ParseJob) => {
  const raw = Buffer.from(job.raw, job.byteOffset, job.byteLength);
  buildInboundBody(raw, job.env, { resolver: resolve as never, hostname: data.hostname }).then(
    (body) => {
      // build-body returns a buffer that owns its whole ArrayBuffer: hand that over as is.
      const reply: ParseReply = { id: job.id, ok: true, body: body.buffer as ArrayBuffer };
      parentPort!.postMessage(reply, [reply.body]);
    },
    (err: unknown) => parentPort!.postMessage({ id: job.id, ok: false, error: (err as Error).message } satisfies ParseReply),
  );
});

parentPort!.postMessage({ ready: true } satisfies ParseReady);
