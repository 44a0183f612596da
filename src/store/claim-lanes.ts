/**
 * Fair claims for the webhook outbox and the inbound posts: every endpoint (or route) is a lane,
 * and one claim takes at most a few rows of each lane, so one endpoint's backlog or slowness never
 * fills a claim meant for all of them. The claiming process says what it already holds of each
 * lane, and a lane with no room left is skipped.
 */

/** What a claim may take per lane: `perLane` rows, less what the claiming process already `held` of that lane. */
export interface ClaimLanes {
  perLane: number;
  /** Rows of each lane (endpoint or route id) the claiming process holds and has not recorded yet. */
  held: ReadonlyMap<number, number>;
}

/** Without lanes a claim behaves as one lane as wide as the claim. */
export function lanesOrDefault(lanes: ClaimLanes | undefined, limit: number): ClaimLanes {
  return lanes ?? { perLane: limit, held: new Map() };
}

/** The room a lane has in this claim (0 or more). */
export function roomOf(lanes: ClaimLanes, lane: number): number {
  return Math.max(0, lanes.perLane - (lanes.held.get(lane) ?? 0));
}

/** Lanes that have no room at all: the claim query leaves them out. */
export function fullLanes(lanes: ClaimLanes): number[] {
  return [...lanes.held.keys()].filter((lane) => roomOf(lanes, lane) === 0);
}

/**
 * How many candidate rows a query reading `perLane` rows per lane must return so that, after
 * fitToLanes drops each partly held lane's surplus, `limit` rows can still remain.
 */
export function candidateLimit(lanes: ClaimLanes, limit: number): number {
  let surplus = 0;
  for (const held of lanes.held.values()) if (held < lanes.perLane) surplus += held;
  return limit + surplus;
}

/**
 * Keeps, in the candidates' order (oldest due first), at most each lane's room and at most
 * `limit` rows in all. For a dialect whose per-lane LIMIT cannot depend on the lane (SQLite), the
 * query reads `perLane` rows of every lane that has room and this trims the partly held ones.
 */
export function fitToLanes<T extends { lane: number }>(candidates: readonly T[], limit: number, lanes: ClaimLanes): T[] {
  const taken = new Map<number, number>();
  const out: T[] = [];
  for (const c of candidates) {
    if (out.length >= limit) break;
    const n = taken.get(c.lane) ?? 0;
    if (n >= roomOf(lanes, c.lane)) continue;
    taken.set(c.lane, n + 1);
    out.push(c);
  }
  return out;
}
