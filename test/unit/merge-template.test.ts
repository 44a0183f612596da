import { describe, expect, it } from 'vitest';
import { buildMergeLookup, compileTemplate, hasPlaceholders, placeholderNames, render, renderHeader, renderString } from '../../src/merge/template.js';

const L = (per: Record<string, string>, global: Record<string, string> = {}) => buildMergeLookup(
  Object.entries(per).map(([field, value]) => ({ field, value })), Object.entries(global).map(([field, value]) => ({ field, value })));

describe('%%Field%% merge', () => {
  it('replaces fields anywhere, per-message winning over Global', () => {
    expect(renderString('Hi %%Name%%, %%Color%%!', L({ Name: 'Ann' }, { Name: 'Global', Color: 'blue' }))).toBe('Hi Ann, blue!');
  });
  it('matches field names case-insensitively', () => {
    expect(renderString('%%firstname%% %%FIRSTNAME%%', L({ FirstName: 'Bo' }))).toBe('Bo Bo');
  });
  it('leaves unknown fields visible', () => {
    expect(renderString('x %%Unknown%% y', L({}))).toBe('x %%Unknown%% y');
  });
  it('resolves RecipientName and the PHP alias "Recipient Name", empty when missing', () => {
    expect(renderString('[%%RecipientName%%][%%Recipient Name%%]', L({ RecipientName: 'Cy' }))).toBe('[Cy][Cy]');
    expect(renderString('[%%RecipientName%%][%%Recipient Name%%]', L({}))).toBe('[][]');
    expect(renderString('[%%Recipient Name%%]', L({ 'Recipient Name': 'Lit' }))).toBe('[Lit]');
  });
  it('inserts values literally, never expanding them again', () => {
    expect(renderString('%%A%%', L({ A: '%%B%%', B: 'no' }))).toBe('%%B%%');
  });
  it('keeps CR/LF out of headers', () => {
    const t = compileTemplate('X %%V%%');
    const l = L({ V: 'a\r\nBcc: evil@example.com\n\nb' });
    expect(renderHeader(t, l)).toBe('X a Bcc: evil@example.com b');
    expect(render(t, l)).toBe('X a\r\nBcc: evil@example.com\n\nb');
  });
  it('handles names with dashes and spaces, adjacent placeholders and stray percent signs', () => {
    expect(renderString('%%CUSTOM-SERIAL-NUMBER-ID%%/%%First Name%%', L({ 'CUSTOM-SERIAL-NUMBER-ID': '0001', 'First Name': 'Di' }))).toBe('0001/Di');
    expect(renderString('%%A%%%%B%%', L({ A: '1', B: '2' }))).toBe('12');
    expect(renderString('100%% sure, 50% off, %%', L({}))).toBe('100%% sure, 50% off, %%');
  });
  it('compiles once: a template without placeholders renders to itself', () => {
    const t = compileTemplate('plain text');
    expect(t.hasPlaceholders).toBe(false);
    expect(render(t, L({ x: 'y' }))).toBe('plain text');
    expect(hasPlaceholders('a %%B%%')).toBe(true);
    expect(hasPlaceholders('a %% b')).toBe(false);
    expect(placeholderNames('%%A%% and %%B-c%%')).toEqual(['A', 'B-c']);
  });
});
