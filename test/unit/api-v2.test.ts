import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialFrom, parseServerId } from '../../src/api/v2/auth.js';
import { fromSchemaError } from '../../src/api/v2/errors.js';
import { csvCell, csvRow } from '../../src/api/v2/suppressions/csv.js';
import { directionOf, pageOf } from '../../src/api/v2/paging.js';
import { API_V2_ERRORS } from '../../src/core/api-v2-codes.js';
import * as limits from '../../src/core/api-v2-limits.js';

const KEY = `${'A'.repeat(20)}.${'b'.repeat(40)}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('v2 credentials', () => {
  it('reads Bearer, and Basic with any user name and the key as password', () => {
    expect(credentialFrom(`Bearer ${KEY}`)).toBe(KEY);
    expect(credentialFrom(`bearer   ${KEY} `)).toBe(KEY);
    expect(credentialFrom(`Basic ${b64(`api:${KEY}`)}`)).toBe(KEY);
    expect(credentialFrom(`Basic ${b64(`:${KEY}`)}`)).toBe(KEY);
    expect(credentialFrom(`Basic ${b64(`a:b:${KEY}`)}`)).toBe(`b:${KEY}`); // only the first colon splits
  });
  it('gives null for no header, other schemes and Basic without a colon', () => {
    for (const h of [undefined, '', 'Bearer', `Token ${KEY}`, `Basic ${b64(KEY)}`, `Bearer ${KEY} extra`]) expect(credentialFrom(h), String(h)).toBeNull();
  });
  it('takes only positive whole ServerIds from the path', () => {
    expect(parseServerId('10001')).toBe(10001);
    for (const s of ['0', '-1', '01', '1.5', 'abc', '', '1e3', '9'.repeat(16), undefined]) expect(parseServerId(s), String(s)).toBeNull();
  });
});

describe('v2 schema errors', () => {
  const err = (keyword: string, instancePath: string, params: Record<string, unknown>, message?: string) => ({ keyword, instancePath, params, message });
  it('names nested fields as paths', () => {
    expect(fromSchemaError(err('format', '/emailAddresses/12', { format: 'email' }), 'body')).toMatchObject({
      code: 'validation_failed',
      field: 'emailAddresses[12]',
      message: 'emailAddresses[12] is not a valid email address',
    });
    expect(fromSchemaError(err('required', '/filter', { missingProperty: 'from' }), 'body')).toMatchObject({
      field: 'filter.from',
      message: 'body field "filter.from" is required',
    });
    expect(fromSchemaError(err('additionalProperties', '', { additionalProperty: 'x' }), 'querystring')).toMatchObject({
      code: 'unknown_field',
      message: 'unknown query parameter "x"',
    });
  });
  it('maps list length to too_many_items and anything else to validation_failed with the rule', () => {
    expect(fromSchemaError(err('maxItems', '/emailAddresses', { limit: 1000 }), 'body').code).toBe('too_many_items');
    expect(fromSchemaError(err('maximum', '/pageSize', { limit: 100 }, 'must be <= 100'), 'querystring')).toMatchObject({ message: 'pageSize must be <= 100' });
    expect(fromSchemaError(err('type', '', { type: 'object' }, 'must be object'), 'body')).toMatchObject({ code: 'invalid_body' });
  });
});

describe('CSV cells (RFC 4180, formula injection)', () => {
  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvRow(['a', null, 'b,c'])).toBe('a,,"b,c"\r\n');
  });
  it('defuses cells a spreadsheet would run as formulas', () => {
    for (const [input, out] of [
      ['=1+2', "'=1+2"],
      ['+1', "'+1"],
      ['-1', "'-1"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tx', "'\tx"],
      ['=A1,B1', `"'=A1,B1"`],
    ]) {
      expect(csvCell(input!)).toBe(out);
    }
    expect(csvCell('a=b')).toBe('a=b');
  });
});

describe('v2 paging', () => {
  it('turns pageSize/pageNumber into limit/offset and dsc/desc into desc', () => {
    expect(pageOf({ pageSize: 25, pageNumber: 3 })).toEqual({ limit: 25, offset: 75 });
    expect([directionOf('asc'), directionOf('dsc'), directionOf('desc')]).toEqual(['asc', 'desc', 'desc']);
  });
});

describe('docs/api-v2.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/api-v2.md'), 'utf8');
  it('lists every error code with its status', () => {
    for (const [code, { status }] of Object.entries(API_V2_ERRORS)) expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });
  it('documents every v2 limit with its current value', () => {
    for (const [name, value] of Object.entries(limits)) expect(doc, name).toMatch(new RegExp(`\\| \`${name}\` \\| ${value}\\b`));
  });
});
