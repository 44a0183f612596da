import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 16;
/** The random part: 80 bits (16 Crockford characters). */
const RANDOM_BITS = 80n;
const RANDOM_LIMIT = 1n << RANDOM_BITS;
/**
 * Bits of the fresh random step between two ids of the same millisecond. A neighbour's id leaves
 * 2^64 equally likely successors, so ids handed to recipients (Return-Path, Message-ID) tell
 * nothing usable about the next or previous one.
 */
const STEP_BYTES = 8;

let lastTime = -1;
let lastRandom = 0n;

/**
 * A 26-character, time-ordered, globally unique id (ULID layout: 48-bit milliseconds + 80 random
 * bits, Crockford base32). Generated in the process, so rows of many processes sharing one
 * PostgreSQL never collide and inserts need no round trip to learn their keys.
 *
 * Within one millisecond the random part grows by a fresh random 64-bit step instead of by one:
 * ids still sort in creation order within the process (recipients of a message are listed in the
 * order they were given), but an id cannot be derived from its neighbour's. When the step would
 * overflow, the id moves to the next millisecond, keeping the order. The time never goes back.
 */
export function newId(now = Date.now()): string {
  let random: bigint;
  if (now <= lastTime) {
    now = lastTime;
    random = lastRandom + 1n + bigFrom(randomBytes(STEP_BYTES));
    if (random >= RANDOM_LIMIT) {
      now = lastTime + 1;
      random = firstRandom();
    }
  } else {
    random = firstRandom();
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  let r = random;
  for (let i = 0; i < RANDOM_CHARS; i++) {
    rand = CROCKFORD[Number(r & 31n)] + rand;
    r >>= 5n;
  }
  return time + rand;
}

/** The first id of a millisecond: 79 random bits (the top bit clear leaves room for the steps after it). */
function firstRandom(): bigint {
  return bigFrom(randomBytes(10)) >> 1n;
}

function bigFrom(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex')}`);
}
