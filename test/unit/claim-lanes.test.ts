import { describe, expect, it } from 'vitest';
import { candidateLimit, fitToLanes, fullLanes, lanesOrDefault, roomOf } from '../../src/store/claim-lanes.js';

describe('claim lanes (pure)', () => {
  const lanes = {
    perLane: 3,
    held: new Map([
      [1, 1],
      [2, 3],
      [3, 5],
    ]),
  };

  it('a lane has its width less what the process holds, never below 0; full lanes are left out of the query', () => {
    expect([1, 2, 3, 4].map((lane) => roomOf(lanes, lane))).toEqual([2, 0, 0, 3]);
    expect(fullLanes(lanes)).toEqual([2, 3]);
    expect(fullLanes({ perLane: 3, held: new Map() })).toEqual([]);
  });

  it('asks the query for enough candidates that trimming partly held lanes still leaves the limit', () => {
    // lane 1 holds 1 of 3: up to 1 of its candidates may be dropped; full lanes return none.
    expect(candidateLimit(lanes, 10)).toBe(11);
    expect(candidateLimit({ perLane: 8, held: new Map() }, 10)).toBe(10);
  });

  it('keeps each lane to its room and the whole claim to the limit, oldest candidates first', () => {
    const c = (id: number, lane: number) => ({ id, lane });
    const candidates = [c(10, 1), c(11, 4), c(12, 1), c(13, 1), c(14, 4), c(15, 4), c(16, 4), c(17, 5)];
    expect(fitToLanes(candidates, 100, lanes).map((x) => x.id)).toEqual([10, 11, 12, 14, 15, 17]);
    expect(fitToLanes(candidates, 4, lanes).map((x) => x.id)).toEqual([10, 11, 12, 14]);
    expect(fitToLanes([], 4, lanes)).toEqual([]);
  });

  it('without lanes, one lane as wide as the claim', () => {
    const d = lanesOrDefault(undefined, 7);
    expect(d.perLane).toBe(7);
    expect([...d.held]).toEqual([]);
    expect(
      fitToLanes(
        [
          { id: 1, lane: 9 },
          { id: 2, lane: 9 },
        ],
        7,
        d,
      ),
    ).toHaveLength(2);
  });
});
