import { describe, expect, it } from 'vitest';
import { InvalidDataError, normalizeMessage } from '../../src/message/normalize.js';

/** What official SocketLabs clients send that a strict reader would refuse (normalize.ts). */
describe('Injection API input from official clients', () => {
  it('a merge field without Value, or with null, is an empty value; a non-string Value stays for InvalidMergeData', () => {
    const m = normalizeMessage(
      { MergeData: { Global: [{ Field: 'A' }, { Field: 'B', Value: null }, { Field: 'C', Value: 'c' }, { Field: 'D', Value: 5 }] } },
      0,
    );
    expect(m.global).toEqual([
      { field: 'A', value: '' },
      { field: 'B', value: '' },
      { field: 'C', value: 'c' },
      { field: 'D', value: 5 },
    ]);
  });

  it('drops Metadata entries without a Key and counts them for the log', () => {
    const m = normalizeMessage({ Metadata: [{ Value: 'v' }, { Key: 'k', Value: 'x' }, { Key: '', Value: 'y' }, { Key: 'n' }] }, 0);
    expect(m.metadata).toEqual([
      { key: 'k', value: 'x' },
      { key: 'n', value: '' },
    ]);
    expect(m.droppedMetadata).toBe(2);
    expect(normalizeMessage({}, 0).droppedMetadata).toBe(0);
  });

  it('still refuses a Metadata entry that is not an object', () => {
    expect(() => normalizeMessage({ Metadata: ['k=v'] }, 0)).toThrow(InvalidDataError);
  });
});
