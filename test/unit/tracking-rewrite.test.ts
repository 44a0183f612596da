import { describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { buildMergeLookup, compileTemplate, render } from '../../src/merge/template.js';
import { decodeAttribute } from '../../src/tracking/html-scan.js';
import { MAX_TRACKED_LINKS, resolveLink, rewriteHtml, safeRedirectUrl, withMerge } from '../../src/tracking/rewrite.js';
import { TrackingTokens } from '../../src/tracking/token.js';
import { TrackingUrls } from '../../src/tracking/urls.js';

const at = (i: number) => `T${i}`; // a recognisable stand-in for a tracking URL
const PIXEL = (url: string) =>
  `<img src="${url}" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">`;
const rows = (o: Record<string, string>) => Object.entries(o).map(([field, value]) => ({ field, value }));
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);

describe('rewriteHtml: finding links', () => {
  it('rewrites double-, single- and un-quoted hrefs, in any case, keeping every other attribute', () => {
    const html =
      `<a href="https://a.example/1" class="x">A</a><a class='y' href='http://b.example/2'>B</a>` +
      `<A HREF=https://c.example/3>C</A><a id=z href = "HTTPS://D.example/4" target=_blank>D</a>`;
    const t = rewriteHtml(html, { openPixel: false });
    expect(t.links).toEqual(['https://a.example/1', 'http://b.example/2', 'https://c.example/3', 'HTTPS://D.example/4']);
    expect(t.render(at, null)).toBe(`<a href="T0" class="x">A</a><a class='y' href="T1">B</a><A HREF="T2">C</A><a id=z href = "T3" target=_blank>D</a>`);
  });

  it('leaves mailto:, tel:, anchors, relative, javascript: and whole-href merge fields alone', () => {
    const html =
      '<a href="mailto:x@example.com">m</a><a href="tel:+15551234">t</a><a href="#top">h</a>' +
      '<a href="/relative">r</a><a href="//cdn.example/x">p</a><a href="javascript:alert(1)">j</a>' +
      '<a href="%%ViewOnline%%">v</a><a href="">e</a><a name="n">n</a><a href="ftp://f.example/">f</a>';
    const t = rewriteHtml(html, { openPixel: false });
    expect(t.links).toEqual([]);
    expect(t.render(at, null)).toBe(html);
  });

  it('skips links already on the tracking host and links that opt out', () => {
    const html =
      '<a href="https://track.example.com/t/c/abc">1</a><a href="https://TRACK.example.com:443/x">2</a>' +
      '<a data-postline-notrack href="https://a.example/">3</a><a href="https://b.example/" data-postline-notrack="">4</a>' +
      '<a clicktracking="off" href="https://c.example/">5</a><a clicktracking=on href="https://d.example/">6</a>' +
      '<a href="https://user@track.example.com.evil.example/">7</a>';
    const t = rewriteHtml(html, { openPixel: false, trackingHosts: ['track.example.com'] });
    expect(t.links).toEqual(['https://d.example/', 'https://user@track.example.com.evil.example/']);
  });

  it('stores the HTML-decoded URL (&amp; and numeric references), as browsers read the attribute', () => {
    const t = rewriteHtml(
      '<a href="https://x.example/?a=1&amp;b=2&#38;c=3&#x26;d=4&amp;copy=5&copy=6&amp">x</a>' + '<a href="  https://y.example/p?q=&quot;z&quot;  ">y</a>',
      { openPixel: false },
    );
    expect(t.links).toEqual(['https://x.example/?a=1&b=2&c=3&d=4&copy=5&copy=6&', 'https://y.example/p?q="z"']);
    expect(decodeAttribute('&ampx &amp1 &lt;&gt &unknown; &#0; &#xD800;')).toBe('&ampx &amp1 <> &unknown; \ufffd \ufffd');
  });

  it('keeps %%merge%% fields in stored hrefs', () => {
    const t = rewriteHtml('<a href="https://x.example/u/%%UserId%%?n=%%First Name%%&amp;c=1">x</a><a href=https://%%Domain%%/p>y</a>', { openPixel: false });
    expect(t.links).toEqual(['https://x.example/u/%%UserId%%?n=%%First Name%%&c=1', 'https://%%Domain%%/p']);
  });

  it('reads tags as HTML does: > inside quotes, first of repeated hrefs, comments, script and style', () => {
    const html =
      '<!-- <a href="https://commented.example/">c</a> --><a title="1 > 0" href="https://a.example/">a</a>' +
      '<a href="https://first.example/" href="https://second.example/">f</a>' +
      '<script>var s = \'<a href="https://script.example/">\';</script><STYLE>a[href="https://style.example/"]{}</STYLE>' +
      '<link href="https://css.example/s.css"><base href="https://base.example/"><a href="https://b.example/">b</a>';
    expect(rewriteHtml(html, { openPixel: false }).links).toEqual(['https://a.example/', 'https://first.example/', 'https://b.example/']);
  });

  it('tracks Outlook VML buttons inside conditional comments, and area links', () => {
    const html =
      '<!--[if mso]><v:roundrect href="https://vml.example/" style="x"></v:roundrect><![endif]-->' +
      '<!--[if !mso]><!--><a href="https://html.example/">go</a><!--<![endif]--><map><area href="https://area.example/"></map>';
    const t = rewriteHtml(html, { openPixel: false });
    expect(t.links).toEqual(['https://vml.example/', 'https://html.example/', 'https://area.example/']);
    expect(t.render(at, null)).toBe(
      html.replace('"https://vml.example/"', '"T0"').replace('"https://html.example/"', '"T1"').replace('"https://area.example/"', '"T2"'),
    );
  });

  it('leaves everything after an unterminated tag as it is', () => {
    const html = '<a href="https://a.example/">a</a><a href="https://broken.example/';
    const t = rewriteHtml(html, { openPixel: false });
    expect(t.links).toEqual(['https://a.example/']);
    expect(t.render(at, null)).toBe('<a href="T0">a</a><a href="https://broken.example/');
  });

  it(`tracks at most ${MAX_TRACKED_LINKS} links`, () => {
    const html = Array.from({ length: MAX_TRACKED_LINKS + 5 }, (_, i) => `<a href="https://x.example/${i}">${i}</a>`).join('');
    const t = rewriteHtml(html, { openPixel: false });
    expect(t.links.length).toBe(MAX_TRACKED_LINKS);
    expect(t.render(at, null)).toContain(`<a href="https://x.example/${MAX_TRACKED_LINKS}">`);
  });

  it('with clicks off, only the pixel is added', () => {
    const t = rewriteHtml('<body><a href="https://a.example/">a</a></body>', { clicks: false });
    expect(t.links).toEqual([]);
    expect(t.render(at, 'P')).toBe(`<body><a href="https://a.example/">a</a>${PIXEL('P')}</body>`);
  });
});

describe('rewriteHtml: the open pixel', () => {
  it('goes before the last </body>, whatever its case', () => {
    const t = rewriteHtml('<html><body><p>x</p><!-- </body> --></BODY >\n</html>');
    expect(t.render(at, 'https://t.example/t/o/TOKEN')).toBe(`<html><body><p>x</p><!-- </body> -->${PIXEL('https://t.example/t/o/TOKEN')}</BODY >\n</html>`);
  });

  it('uses the last of several </body> tags', () => {
    expect(rewriteHtml('<body>a</body>\n<body>b</body>').render(at, 'P')).toBe(`<body>a</body>\n<body>b${PIXEL('P')}</body>`);
  });

  it('goes at the end without a </body>, and stays out when openUrl is null or the pixel is off', () => {
    expect(rewriteHtml('<p>fragment</p>').render(at, 'P')).toBe(`<p>fragment</p>${PIXEL('P')}`);
    expect(rewriteHtml('<p>fragment</p>').render(at, null)).toBe('<p>fragment</p>');
    expect(rewriteHtml('<body>x</body>', { openPixel: false }).render(at, 'P')).toBe('<body>x</body>');
  });

  it('keeps slots in source order when links follow </body>', () => {
    const t = rewriteHtml('<body><a href="https://a.example/">a</a></body><a href="https://late.example/">b</a>');
    expect(t.render(at, 'P')).toBe(`<body><a href="T0">a</a>${PIXEL('P')}</body><a href="T1">b</a>`);
  });
});

describe('rendering per recipient', () => {
  const urls = new TrackingUrls('https://track.example.com', new TrackingTokens('secret-secret-secret-secret-123'));
  const html =
    '<html><body><p>Hi</p><a href="https://shop.example/sale?x=1&amp;y=2">Sale</a>' +
    '<a href=\'https://shop.example/account\'>Account</a><a href="mailto:help@shop.example">Help</a>' +
    '<a href="https://track.example.com/t/u/keep">u</a></body></html>';

  it('gives every one of 1,000 recipients their own working tokens from one compiled template', () => {
    const t = rewriteHtml(html, { trackingHosts: [urls.host] });
    expect(t.links).toEqual(['https://shop.example/sale?x=1&y=2', 'https://shop.example/account']);
    const tokens = new TrackingTokens('secret-secret-secret-secret-123');
    const seen = new Set<string>();
    for (let n = 0; n < 1_000; n++) {
      const id = newId();
      const u = urls.forRecipient(id);
      const out = t.render(u.urlFor, u.openUrl);
      const found = hrefs(out);
      expect(found.slice(0, 2)).toEqual([urls.click(id, 0), urls.click(id, 1)]);
      expect(found.slice(2)).toEqual(['mailto:help@shop.example', 'https://track.example.com/t/u/keep']);
      const src = /<img src="([^"]+)"/.exec(out)![1]!;
      expect(src).toBe(u.openUrl);
      const toks = [...found.slice(0, 2), src].map((h) => h.slice(h.lastIndexOf('/') + 1));
      expect(toks.map((x) => tokens.verify(x))).toEqual([
        { kind: 'click', recipientId: id, linkIndex: 0 },
        { kind: 'click', recipientId: id, linkIndex: 1 },
        { kind: 'open', recipientId: id },
      ]);
      for (const x of toks) {
        expect(seen.has(x)).toBe(false);
        seen.add(x);
      }
    }
    expect(seen.size).toBe(3_000);
  });

  it('composes with %%merge%%: pieces merge-rendered, tracking URLs untouched, href fields resolved at click time', () => {
    const body = '<body><p>Hi %%FirstName%%, 100%% off</p><a href="https://shop.example/u/%%UserId%%?ref=%%Campaign%%">Mine</a>' + '<p>%%Footer%%</p></body>';
    const t = rewriteHtml(body);
    const merge = withMerge(t);
    const lookup = buildMergeLookup(
      rows({ FirstName: 'Ann', UserId: '42', Footer: '<a href="https://from-value.example/">%%Campaign%%</a>' }),
      rows({ Campaign: 'spring' }),
    );
    const id = newId();
    const u = urls.forRecipient(id);
    expect(merge(lookup, u.urlFor, u.openUrl)).toBe(
      `<body><p>Hi Ann, 100%% off</p><a href="${urls.click(id, 0)}">Mine</a>` +
        `<p><a href="https://from-value.example/">%%Campaign%%</a></p>${PIXEL(u.openUrl)}</body>`,
    );
    // Merge values are inserted literally (never scanned), so a link inside one is not tracked.
    expect(t.links).toEqual(['https://shop.example/u/%%UserId%%?ref=%%Campaign%%']);
    expect(resolveLink(t.links[0]!, lookup)).toBe('https://shop.example/u/42?ref=spring');
    // Without links in play, the result is exactly the merge renderer's, plus the pixel.
    const plain = '<body><p>%%FirstName%% %%Unknown%% %%RecipientName%%</p></body>';
    expect(withMerge(rewriteHtml(plain))(lookup, u.urlFor, null)).toBe(render(compileTemplate(plain), lookup));
  });

  it('resolves links to http(s) only, serialized as a browser would request them', () => {
    const l = (o: Record<string, string>) => buildMergeLookup(rows(o), undefined);
    expect(resolveLink('https://x.example/%%P%%', l({ P: 'a b/é' }))).toBe('https://x.example/a%20b/%C3%A9');
    expect(resolveLink('https://%%Host%%/x', l({ Host: 'evil.example' }))).toBe('https://evil.example/x');
    expect(resolveLink('%%U%%', l({ U: 'javascript:alert(1)' }))).toBeNull();
    expect(resolveLink('https://x.example/', null)).toBe('https://x.example/');
    expect(safeRedirectUrl('data:text/html,<b>x</b>')).toBeNull();
    expect(safeRedirectUrl('not a url')).toBeNull();
    expect(safeRedirectUrl(' https://x.example/a?b=1#c ')).toBe('https://x.example/a?b=1#c');
  });
});

describe('TrackingUrls', () => {
  const tokens = new TrackingTokens('secret-secret-secret-secret-123');
  it('builds short URLs on an origin and refuses anything but an origin', () => {
    const u = new TrackingUrls('https://Track.Example.com/', tokens);
    expect(u.origin).toBe('https://track.example.com');
    expect(u.host).toBe('track.example.com');
    expect(u.open('01HZX3K7Q8V4N2M6P9R5T0W1YA')).toMatch(/^https:\/\/track\.example\.com\/t\/o\/[A-Za-z0-9_-]{44}$/);
    expect(u.click('01HZX3K7Q8V4N2M6P9R5T0W1YA', 3)).toMatch(/^https:\/\/track\.example\.com\/t\/c\/[A-Za-z0-9_-]{46}$/);
    expect(u.unsubscribe('01HZX3K7Q8V4N2M6P9R5T0W1YA')).toMatch(/^https:\/\/track\.example\.com\/t\/u\/[A-Za-z0-9_-]{44}$/);
    for (const bad of ['track.example.com', 'ftp://x.example', 'https://x.example/prefix', 'https://x.example/?q', 'https://u:p@x.example']) {
      expect(() => new TrackingUrls(bad, tokens), bad).toThrow();
    }
  });
});
