/**
 * Rate limits shared by every process of one database (migration 29): per limit key, the time of
 * its next free slot. A process reserves a run of slots with one atomic statement, so N processes
 * together never take more slots than one would (delivery/shared-rate-limiter.ts hands them out).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface RateSlotRepository {
  /**
   * Reserves `count` consecutive slots `gapMs` apart for `key` and returns the first one's time.
   * Idle time earns at most one second's worth of slots (a burst of up to a second's rate), as the
   * in-process Pacer allows.
   */
  reserve(key: string, count: number, gapMs: number, now: number): Promise<number>;
}

export class SqlRateSlotRepository implements RateSlotRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  async reserve(key: string, count: number, gapMs: number, now: number): Promise<number> {
    if (!(count >= 1) || !(gapMs > 0)) throw new Error('rate slots: count must be >= 1 and gapMs > 0');
    // Slot times are whole milliseconds: a fractional gap is rounded up (never a faster rate).
    const gap = Math.ceil(gapMs);
    const earliest = now - 1000 + gap;
    const span = count * gap;
    const greatest = this.kind === 'postgres' ? sql`GREATEST` : sql`MAX`;
    const row = await sql<{ first: number }>`
      INSERT INTO rate_slots (key, next_slot) VALUES (${key}, ${earliest + span})
      ON CONFLICT (key) DO UPDATE SET next_slot = ${greatest}(rate_slots.next_slot, ${earliest}) + ${span}
      RETURNING next_slot - ${span} AS first`.execute(this.db);
    return Number(row.rows[0]!.first);
  }
}
