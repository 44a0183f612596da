import type { SMTPServerDataStream } from 'smtp-server';
import { concatInSlices } from '../core/sliced-copy.js';

/** Above this, the message is joined in slices (a 25 MB Buffer.concat held the event loop for 20 ms). */
const JOIN_IN_ONE_GO_BYTES = 1024 * 1024;

/**
 * Reads an SMTP DATA stream into memory up to `limit` bytes; beyond it, bytes are counted and
 * dropped, so an oversized message costs no memory. `done` gets the message (empty when over the
 * limit) and the size to judge it by: at least limit + 1 when smtp-server itself saw the SIZE
 * exceeded. Shared by the submission and MX listeners.
 */
export function collectData(stream: SMTPServerDataStream, limit: number, done: (message: Buffer, receivedBytes: number) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  stream.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received <= limit) chunks.push(chunk);
    else chunks.length = 0;
  });
  stream.once('end', () => {
    const receivedBytes = stream.sizeExceeded ? Math.max(received, limit + 1) : received;
    if (receivedBytes > limit) return done(Buffer.alloc(0), receivedBytes);
    if (received <= JOIN_IN_ONE_GO_BYTES) return done(Buffer.concat(chunks, received), receivedBytes);
    void concatInSlices(chunks).then((joined) => done(Buffer.from(joined.buffer, joined.byteOffset, joined.byteLength), receivedBytes));
  });
}
