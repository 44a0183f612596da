// @ts-check
/**
 * The checkpoint thread of background-checkpoint.ts: its own connection to the store's file, a
 * PASSIVE checkpoint every `everyMs` and whenever the store asks ('now'), and a last one on
 * 'close'. Plain JavaScript, so that the same file runs from dist/ and from the sources under
 * vitest (a thread cannot load TypeScript).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ file: string; everyMs: number }} */
const data = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @param {unknown} err */
const describe = (err) =>
  err instanceof Error ? err.message : typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);

/** @type {import('better-sqlite3').Database | null} */
let db = null;
try {
  db = new Database(data.file);
  db.pragma('synchronous = NORMAL');
} catch (err) {
  port.postMessage({ error: `cannot open ${data.file}: ${describe(err)}` });
}

/**
 * One PASSIVE checkpoint. A timed one reports only when the WAL had frames; 'now' (asked for by
 * the store's WAL gate) is answered even when it was empty.
 * @param {boolean} now
 */
function checkpoint(now) {
  if (!db) return;
  try {
    const [r] = /** @type {{ busy: number; log: number; checkpointed: number }[]} */ (db.pragma('wal_checkpoint(PASSIVE)'));
    if (r && (r.log > 0 || now)) port.postMessage({ busy: r.busy === 1, walFrames: Math.max(r.log, 0), checkpointedFrames: Math.max(r.checkpointed, 0), now });
  } catch (err) {
    port.postMessage({ error: describe(err), now });
  }
}

const timer = db ? setInterval(checkpoint, data.everyMs, false) : null;

port.on('message', (m) => {
  if (m === 'now') {
    if (db) checkpoint(true);
    else port.postMessage({ error: 'no connection', now: true });
    return;
  }
  if (m !== 'close') return;
  if (db) {
    if (timer) clearInterval(timer);
    checkpoint(false);
    db.close();
  }
  port.postMessage({ closed: true });
});
