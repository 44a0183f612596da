import { describe, expect, it } from 'vitest';
import { outputOf, pageOf, parseV1Date, queryParams, rangeOf, serverParam, timeZoneOf } from '../../src/api/compat/socketlabs-v1/params.js';
import { V1Error } from '../../src/api/compat/socketlabs-v1/v1-error.js';

/** The legacy v1 API's parameter reading, by its exact output. */
const refusal = (f: () => unknown): { parameter?: string; result: string } => {
  try {
    f();
  } catch (err) {
    if (err instanceof V1Error) return { parameter: err.parameter, result: err.result };
    throw err;
  }
  throw new Error('not refused');
};

describe('legacy v1 parameters', () => {
  it('names in any case, empty values as absent, a repeated name refused', () => {
    expect([...queryParams({ ServerID: '7', count: '', Type: 'xml', index: '  ' })]).toEqual([
      ['serverid', '7'],
      ['type', 'xml'],
    ]);
    expect(refusal(() => queryParams({ serverId: '7', serverid: '8' }))).toEqual({ parameter: 'serverid', result: 'InvalidParameter' });
    expect(refusal(() => queryParams({ serverId: ['7', '8'] }))).toEqual({ parameter: 'serverId', result: 'InvalidParameter' });
  });

  it('serverId or accountId, a positive whole number', () => {
    expect(serverParam(new Map([['serverid', '10001']]))).toEqual({ serverId: 10001, name: 'serverId' });
    expect(serverParam(new Map([['accountid', '2042']]))).toEqual({ serverId: 2042, name: 'accountId' });
    expect(refusal(() => serverParam(new Map()))).toMatchObject({ parameter: 'serverId' });
    expect(refusal(() => serverParam(new Map([['serverid', '0']])))).toMatchObject({ parameter: 'serverId' });
    expect(refusal(() => serverParam(new Map([['accountid', '12ab']])))).toMatchObject({ parameter: 'accountId' });
  });

  it('type in any case; JSONP needs a plain function name', () => {
    expect(outputOf(new Map())).toEqual({ format: 'json' });
    expect(outputOf(new Map([['type', 'Csv']]))).toEqual({ format: 'csv' });
    expect(
      outputOf(
        new Map([
          ['type', 'jsonp'],
          ['callback', 'a.b_$1'],
        ]),
      ),
    ).toEqual({ format: 'jsonp', callback: 'a.b_$1' });
    for (const callback of ['1a', 'a;b', 'a()', 'a..b', 'x'.repeat(65)]) {
      expect(
        refusal(() =>
          outputOf(
            new Map([
              ['type', 'jsonp'],
              ['callback', callback],
            ]),
          ),
        ),
      ).toMatchObject({ parameter: 'callback' });
    }
  });

  it('count 0-500 (default 500), index from 0', () => {
    expect(pageOf(new Map())).toEqual({ count: 500, index: 0 });
    expect(
      pageOf(
        new Map([
          ['count', '0'],
          ['index', '1000'],
        ]),
      ),
    ).toEqual({ count: 0, index: 1000 });
    expect(pageOf(new Map([['count', '500']]))).toEqual({ count: 500, index: 0 });
    for (const count of ['501', '-1', '1.5', '1e3']) expect(refusal(() => pageOf(new Map([['count', count]])))).toMatchObject({ parameter: 'count' });
  });

  it("dates as yyyy-mm-dd hh:mm:ss in the caller's offset, the time optional", () => {
    expect(parseV1Date('2024-02-29', 'startDate', 0)).toBe(Date.UTC(2024, 1, 29));
    expect(parseV1Date('2024-02-29 23:59:59', 'startDate', 0)).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseV1Date('2024-02-29T10:15', 'startDate', 0)).toBe(Date.UTC(2024, 1, 29, 10, 15));
    // At UTC-6 local 20:00 is 02:00 UTC the next day; at +05:30, 20:00 is 14:30 UTC.
    expect(parseV1Date('2024-03-10 20:00:00', 'startDate', -360)).toBe(Date.UTC(2024, 2, 11, 2, 0));
    expect(parseV1Date('2024-03-10 20:00:00', 'startDate', 330)).toBe(Date.UTC(2024, 2, 10, 14, 30));
    for (const raw of ['2023-02-29', '2024-13-01', '2024-01-01 24:00:00', '2024-01-01 10:60', '10/03/2024', '2024-1-1']) {
      expect(refusal(() => parseV1Date(raw, 'endDate', 0))).toMatchObject({ parameter: 'endDate' });
    }
  });

  it("a range includes its endDate's second; an end before the start is refused", () => {
    expect(
      rangeOf(
        new Map([
          ['startdate', '2024-01-01'],
          ['enddate', '2024-01-01 23:59:59'],
        ]),
        0,
      ),
    ).toEqual({ startTime: Date.UTC(2024, 0, 1), endTime: Date.UTC(2024, 0, 2) });
    expect(
      rangeOf(
        new Map([
          ['startdate', '2024-01-01 10:00:00'],
          ['enddate', '2024-01-01 10:00:00'],
        ]),
        0,
      ),
    ).toEqual({ startTime: Date.UTC(2024, 0, 1, 10), endTime: Date.UTC(2024, 0, 1, 10, 0, 1) });
    expect(
      refusal(() =>
        rangeOf(
          new Map([
            ['startdate', '2024-01-02'],
            ['enddate', '2024-01-01'],
          ]),
          0,
        ),
      ),
    ).toMatchObject({ parameter: 'endDate' });
  });

  it('timeZone in whole minutes within a day of UTC', () => {
    expect(timeZoneOf(new Map())).toBe(0);
    expect(timeZoneOf(new Map([['timezone', '-360']]))).toBe(-360);
    expect(timeZoneOf(new Map([['timezone', '+330']]))).toBe(330);
    for (const tz of ['1441', 'CET', '-05:00', '1.5']) expect(refusal(() => timeZoneOf(new Map([['timezone', tz]])))).toMatchObject({ parameter: 'timeZone' });
  });
});
