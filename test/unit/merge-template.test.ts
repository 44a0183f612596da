import { describe, expect, it } from 'vitest';
import {
  buildMergeLookup,
  compileTemplate,
  hasPlaceholders,
  placeholderNames,
  render,
  renderHeader,
  renderString,
  type MergeLookup,
} from '../../src/merge/template.js';

const rows = (o: Record<string, string>) => Object.entries(o).map(([field, value]) => ({ field, value }));
const L = (per: Record<string, string>, global: Record<string, string> = {}) => buildMergeLookup(rows(per), rows(global));

describe('buildMergeLookup', () => {
  it('per-message rows win over Global rows of the same field, case-insensitively', () => {
    const l = L({ name: 'Ann' }, { NAME: 'Global', Color: 'blue' });
    expect(l.get('Name')).toBe('Ann');
    expect(l.get('color')).toBe('blue');
    expect(l.get('missing')).toBeUndefined();
    expect(renderString('Hi %%Name%%, %%Color%%!', l)).toBe('Hi Ann, blue!');
  });
  it('accepts absent lists, and the first of duplicate rows within one list wins', () => {
    expect(buildMergeLookup(undefined, undefined).get('x')).toBeUndefined();
    expect(buildMergeLookup(undefined, rows({ G: 'g' })).get('g')).toBe('g');
    expect(
      buildMergeLookup(
        [
          { field: 'A', value: '1' },
          { field: 'a', value: '2' },
        ],
        undefined,
      ).get('A'),
    ).toBe('1');
  });
});

describe('%%Field%% rendering', () => {
  it('matches field names case-insensitively', () => {
    expect(renderString('%%firstname%% %%FIRSTNAME%% %%FirstName%%', L({ FirstName: 'Bo' }))).toBe('Bo Bo Bo');
  });
  it('leaves unknown fields in the output literally, with their original spelling', () => {
    expect(renderString('x %%Unknown%% y %%unKnown%%', L({}))).toBe('x %%Unknown%% y %%unKnown%%');
  });
  it('resolves %%RecipientName%% and the PHP alias %%Recipient Name%%, empty when missing', () => {
    const t = '[%%RecipientName%%][%%Recipient Name%%][%%recipient name%%]';
    expect(renderString(t, L({ RecipientName: 'Cy' }))).toBe('[Cy][Cy][Cy]');
    expect(renderString(t, L({}, { recipientname: 'Glob' }))).toBe('[Glob][Glob][Glob]');
    expect(renderString(t, L({}))).toBe('[][][]');
    expect(renderString('[%%Recipient Name%%]', L({ 'Recipient Name': 'Lit' }))).toBe('[Lit]');
    expect(renderString('[%%Recipient Name%%]', L({ 'Recipient Name': 'Lit', RecipientName: 'Std' }))).toBe('[Lit]');
  });
  it('inserts values literally, never expanding them again', () => {
    expect(renderString('%%A%%', L({ A: '%%B%%', B: 'no' }))).toBe('%%B%%');
    expect(renderString('%%A%%|%%B%%', L({ A: '%%', B: 'B%%' }))).toBe('%%|B%%');
  });
  it('renderHeader turns every run of CR/LF into one space; render keeps them', () => {
    const t = compileTemplate('X %%V%%');
    const l = L({ V: 'a\r\nBcc: evil@example.com\n\nb\rc' });
    expect(renderHeader(t, l)).toBe('X a Bcc: evil@example.com b c');
    expect(render(t, l)).toBe('X a\r\nBcc: evil@example.com\n\nb\rc');
    expect(renderHeader(compileTemplate('plain'), l)).toBe('plain');
  });
  it('handles names with dashes, spaces and digits', () => {
    const l = L({ 'CUSTOM-SERIAL-NUMBER-ID': '0001', 'First Name': 'Di', Field2: 'two' });
    expect(renderString('%%CUSTOM-SERIAL-NUMBER-ID%%/%%first name%%/%%FIELD2%%', l)).toBe('0001/Di/two');
  });
  it('renders adjacent placeholders', () => {
    expect(renderString('%%A%%%%B%%', L({ A: '1', B: '2' }))).toBe('12');
    expect(renderString('%%%A%%%', L({ A: '1' }))).toBe('%1%');
  });
  it('leaves a lone %% and "100%% sure" untouched', () => {
    const l = L({ sure: 'NO' });
    for (const s of ['%%', '100%% sure', '50% off, %%', '%%%%', 'a %%\n%% b', '%%  ']) {
      expect(renderString(s, l)).toBe(s);
      expect(render(compileTemplate(s), l)).toBe(s);
      expect(hasPlaceholders(s)).toBe(false);
    }
  });
  it('accepts names of 1..100 characters, not longer, and none containing CR/LF', () => {
    const l = L({ x: 'X', ['n'.repeat(100)]: 'long' });
    expect(renderString('%%x%%', l)).toBe('X');
    expect(renderString(`%%${'n'.repeat(100)}%%`, l)).toBe('long');
    const tooLong = `%%${'n'.repeat(101)}%%`;
    expect(hasPlaceholders(tooLong)).toBe(false);
    expect(renderString(tooLong, l)).toBe(tooLong);
  });
  it('a compiled template renders each recipient without recompiling', () => {
    const t = compileTemplate('Dear %%Name%%, your code is %%Code%%.');
    expect(t.source).toBe('Dear %%Name%%, your code is %%Code%%.');
    expect(t.hasPlaceholders).toBe(true);
    expect(render(t, L({ Name: 'A', Code: '1' }))).toBe('Dear A, your code is 1.');
    expect(render(t, L({ Name: 'B' }, { Code: 'g' }))).toBe('Dear B, your code is g.');
    const plain = compileTemplate('plain text');
    expect(plain.hasPlaceholders).toBe(false);
    expect(render(plain, L({ x: 'y' }))).toBe('plain text');
  });
  it('works with any MergeLookup implementation and with an uncompiled look-alike', () => {
    const custom: MergeLookup = { get: (f) => (f.toLowerCase() === 'name' ? 'Custom' : undefined) };
    expect(render(compileTemplate('%%NAME%% %%Other%% [%%RecipientName%%]'), custom)).toBe('Custom %%Other%% []');
    expect(render({ source: 'Hi %%Name%%', hasPlaceholders: true }, L({ name: 'Z' }))).toBe('Hi Z');
  });
});

describe('placeholder inspection', () => {
  it('hasPlaceholders', () => {
    expect(hasPlaceholders('a %%B%%')).toBe(true);
    expect(hasPlaceholders('a %% b')).toBe(false);
    expect(hasPlaceholders('')).toBe(false);
  });
  it('placeholderNames lists distinct names in order, first spelling kept', () => {
    expect(placeholderNames('%%A%% and %%B-c%% then %%a%%, %%Recipient Name%%%%Z%%')).toEqual(['A', 'B-c', 'Recipient Name', 'Z']);
    expect(placeholderNames('100%% sure')).toEqual([]);
  });
});
