import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 16;

let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A 26-character, time-ordered, globally unique id (ULID layout: 48-bit milliseconds + 80 random
 * bits, Crockford base32). Generated in the process, so rows of many processes sharing one
 * PostgreSQL never collide and inserts need no round trip to learn their keys. Within one
 * millisecond the random part is incremented (monotonic ULID), so ids sort in creation order.
 */
export function newId(now = Date.now()): string {
  let random: number[];
  if (now <= lastTime) {
    now = lastTime;
    random = increment(lastRandom);
  } else {
    const bytes = randomBytes(RANDOM_CHARS);
    // Top bit of the first digit left clear so increments within a millisecond never overflow.
    random = Array.from(bytes, (b, i) => (i === 0 ? b % 16 : b % 32));
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + random.map((d) => CROCKFORD[d]).join('');
}

function increment(digits: number[]): number[] {
  const out = digits.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 31) {
      out[i]!++;
      return out;
    }
    out[i] = 0;
  }
  return out;
}
