import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WEBHOOK_LANE_CANDIDATES_SQL } from '../../src/store/sqlite/sqlite-areas.js';
import { duePostsQuery } from '../../src/store/inbound.js';
import type { Database } from '../../src/store/schema.js';

/**
 * The inbound poster claims due posts many times a second, while every post ever received stays
 * in the table until retention: the claim must search the partial index of undelivered posts, not
 * scan the table. SQLite only matches a partial index whose WHERE the query repeats with the same
 * literal values, so a bound parameter in the status filter silently turned this into a scan.
 */
describe('inbound and webhook claim query plans (SQLite)', () => {
  let dir: string;
  let raw: BetterSqlite3.Database;
  let db: Kysely<Database>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'postline-claim-plan-'));
    const store = new SqliteStore(join(dir, 'postline.db'));
    await store.migrate();
    await store.close();
    raw = new BetterSqlite3(join(dir, 'postline.db'));
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("searches each route's range of inbound_posts_lane instead of scanning inbound_posts", () => {
    const lanes = {
      perLane: 8,
      held: new Map([
        [1, 3],
        [2, 8],
      ]),
    };
    const q = duePostsQuery(db, 'sqlite', lanes, 32, Date.now(), Date.now() - 60_000).compile();
    const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail);
    expect(plan.join(' | ')).toMatch(/SEARCH x USING INDEX inbound_posts_lane \(route_id=\? AND next_attempt_at<\?\)/);
    expect(plan.some((d) => /^SCAN (p|x)\b/.test(d))).toBe(false);
  });

  it("the webhook claim reads each endpoint's range of webhook_deliveries_lane, endpoints outermost, never scanning the outbox", () => {
    const plan = (
      raw.prepare(`EXPLAIN QUERY PLAN ${WEBHOOK_LANE_CANDIDATES_SQL}`).all('[7]', Date.now(), 0, Date.now() - 20_000, 'w', Date.now() - 20_000, 64, 512) as {
        detail: string;
      }[]
    ).map((r) => r.detail);
    expect(plan[0]).toMatch(/^SCAN ep\b/);
    expect(plan.join(' | ')).toMatch(/SEARCH d USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(plan.join(' | ')).toMatch(/SEARCH x USING INDEX webhook_deliveries_lane \(endpoint_id=\? AND next_attempt_at<\?\)/);
    expect(plan.join(' | ')).toMatch(/SEARCH p USING INDEX webhook_deliveries_order/);
    expect(plan.some((d) => /^SCAN (d|x|p)\b/.test(d))).toBe(false);
  });
});
