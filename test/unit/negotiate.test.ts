import { describe, expect, it } from 'vitest';
import { isXmlMediaType, negotiate } from '../../src/api/compat/negotiate.js';
import { xmlText } from '../../src/api/compat/xml-writer.js';

describe('JSON or XML by Accept and Content-Type', () => {
  const cases: [string | undefined, string | undefined, string][] = [
    // No Accept: the body's own type decides.
    [undefined, 'application/json', 'application/json'],
    [undefined, 'application/xml; charset=utf-8', 'application/xml'],
    [undefined, 'text/xml', 'text/xml'],
    [undefined, 'application/soap+xml', 'application/xml'],
    [undefined, undefined, 'application/json'],
    ['', 'application/xml', 'application/xml'],
    // Accept decides by q-value.
    ['application/xml', 'application/json', 'application/xml'],
    ['text/xml', undefined, 'text/xml'],
    ['application/json', 'application/xml', 'application/json'],
    ['application/xml;q=0.5, application/json', 'application/xml', 'application/json'],
    ['application/json;q=0.5, text/xml', 'application/json', 'text/xml'],
    ['application/json; q=0.9, application/xml; q=0.91', undefined, 'application/xml'],
    ['*/*;q=0.1, application/xml', undefined, 'application/xml'],
    ['application/xml;q=0.9, */*', undefined, 'application/json'],
    ['APPLICATION/XML', undefined, 'application/xml'],
    // Ties: the more specific range, then JSON (ASP.NET Web API's formatter order).
    ['*/*', 'application/xml', 'application/json'],
    ['application/json, application/xml, text/json, text/x-json, text/javascript, text/xml', 'application/xml', 'application/json'],
    ['text/xml, application/json', undefined, 'application/json'],
    ['application/*', 'application/xml', 'application/json'],
    ['text/*, application/xml;q=0.5', undefined, 'text/xml'],
    ['application/xml, application/*', undefined, 'application/xml'],
    // The most specific range gives a type its q, so an explicit q=0 refuses it.
    ['application/json;q=0, */*', undefined, 'application/xml'],
    ['application/xml;q=0, text/xml;q=0, */*', 'application/xml', 'application/json'],
    // Accept names neither (or refuses both): back to the body's type, unless that is refused too.
    ['text/html', 'application/xml', 'application/xml'],
    ['text/html', 'application/json', 'application/json'],
    ['application/xml;q=0', 'application/xml', 'application/json'],
    // Malformed entries are ignored, not fatal.
    ['garbage, application/xml;q=2, text/xml;q=abc', 'application/json', 'application/json'],
    ['garbage, application/xml', 'application/json', 'application/xml'],
  ];
  for (const [accept, contentType, expected] of cases) {
    it(`Accept ${JSON.stringify(accept)} with a ${contentType ?? 'missing'} body answers ${expected}`, () => {
      expect(negotiate(accept, contentType).mediaType).toBe(expected);
    });
  }

  it('knows XML media types', () => {
    expect(['application/xml', 'text/xml; charset=utf-8', 'application/atom+xml'].map(isXmlMediaType)).toEqual([true, true, true]);
    expect(['application/json', 'application/xmlish', 'text/plain', '', undefined].map(isXmlMediaType)).toEqual([false, false, false, false, false]);
  });
});

describe('XML text', () => {
  it('escapes markup, keeps CR, and replaces what XML 1.0 cannot carry', () => {
    expect(xmlText('a<b>&c\r\nd')).toBe('a&lt;b&gt;&amp;c&#xD;\nd');
    expect(xmlText('x\u0001y\ud800z\u{1f600}')).toBe('x\ufffdy\ufffdz\u{1f600}');
    expect([xmlText(0), xmlText(false)]).toEqual(['0', 'false']);
  });
});
