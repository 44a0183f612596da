import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** The random part: 16 Crockford digits (80 bits). */
const RANDOM_CHARS = 16;
/**
 * Digits of the fresh random step between two ids of the same millisecond: 13 digits, the top one
 * 4 bits, so up to 2^64. A neighbour's id leaves 2^64 equally likely successors, so ids handed to
 * recipients (Return-Path, Message-ID) tell nothing usable about the next or previous one.
 */
const STEP_CHARS = 13;
/** Random bytes fetched at once: one crypto call per 4,096 bytes rather than one per id. */
const POOL_BYTES = 4096;

let pool = Buffer.alloc(0);
let poolPos = 0;
let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A 26-character, time-ordered, globally unique id (ULID layout: 48-bit milliseconds + 80 random
 * bits, Crockford base32). Generated in the process, so rows of many processes sharing one
 * PostgreSQL never collide and inserts need no round trip to learn their keys.
 *
 * Within one millisecond the random part grows by a fresh random step of up to 2^64 instead of by
 * one: ids still sort in creation order within the process (recipients of a message are listed in
 * the order they were given), but an id cannot be derived from its neighbour's. When a step would
 * overflow the random part, the id moves to the next millisecond, keeping the order. The time
 * never goes back.
 */
export function newId(now = Date.now()): string {
  let random: number[] | null = null;
  if (now <= lastTime) {
    now = lastTime;
    random = addStep(lastRandom);
    if (random === null) now = lastTime + 1;
  }
  // The first id of a millisecond: 79 random bits (the top digit 4 bits leaves room for the steps).
  random ??= Array.from({ length: RANDOM_CHARS }, (_, i) => randomByte() & (i === 0 ? 15 : 31));
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (const d of random) rand += CROCKFORD[d];
  return time + rand;
}

/** digits + 1 + a random step below 2^64, or null when that passes 80 bits. */
function addStep(digits: readonly number[]): number[] | null {
  const out = digits.slice();
  let carry = 1;
  for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
    const k = RANDOM_CHARS - 1 - i;
    const step = k < STEP_CHARS ? randomByte() & (k === STEP_CHARS - 1 ? 15 : 31) : 0;
    const sum = out[i]! + step + carry;
    out[i] = sum & 31;
    carry = sum >> 5;
  }
  return carry === 0 ? out : null;
}

function randomByte(): number {
  if (poolPos >= pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolPos = 0;
  }
  return pool[poolPos++]!;
}
