/**
 * Just enough of HTML's tokenizer to find link elements and their attributes reliably: start
 * tags with any attribute quoting ("...", '...' or none), any letter case, `>` inside quoted
 * values; comments skipped, the raw text of script, style, textarea and title skipped, and the
 * inside of Outlook's conditional comments read as markup, since Outlook renders it (VML buttons:
 * <v:roundrect href="...">). Used once per message by rewrite.ts; never per recipient.
 */

export interface FoundLink {
  rawStart: number;
  rawEnd: number;
  valueStart: number;
  valueEnd: number;
  optOut: boolean;
}
interface Attr {
  name: string;
  rawStart: number;
  rawEnd: number;
  valueStart: number;
  valueEnd: number;
}

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

export function scan(html: string): { links: FoundLink[]; bodyClose: number } {
  const n = html.length;
  const links: FoundLink[] = [];
  let bodyClose = -1;
  let i = 0;
  for (;;) {
    const lt = html.indexOf('<', i);
    if (lt === -1 || lt + 1 >= n) break;
    const c = html.charCodeAt(lt + 1);
    if (c === 0x21 /* ! */) {
      if (html.startsWith('<!--', lt)) {
        if (html.slice(lt + 4, lt + 7).toLowerCase() === '[if') {
          // `<!--[if mso]>`: skip only the opener; what follows is markup to Outlook.
          const e = html.indexOf(']>', lt + 7);
          i = e === -1 ? n : e + 2;
        } else {
          // From lt + 2, so `<!-->` and `<!--->` end where browsers end them.
          const e = html.indexOf('-->', lt + 2);
          i = e === -1 ? n : e + 3;
        }
      } else {
        // <!DOCTYPE ...>, <![endif]-->, <![CDATA[...]]> (no `>` inside any of them in practice)
        const e = html.indexOf('>', lt + 2);
        i = e === -1 ? n : e + 1;
      }
      continue;
    }
    if (c === 0x2f /* / */) {
      let k = lt + 2;
      while (k < n && !isSpace(html.charCodeAt(k)) && html[k] !== '>' && html[k] !== '/') k++;
      if (html.slice(lt + 2, k).toLowerCase() === 'body') bodyClose = lt;
      const e = html.indexOf('>', k);
      i = e === -1 ? n : e + 1;
      continue;
    }
    if (!isAlpha(c)) {
      i = lt + 1; // a `<` in text
      continue;
    }
    let k = lt + 2;
    while (k < n && !isSpace(html.charCodeAt(k)) && html[k] !== '>' && html[k] !== '/') k++;
    const name = html.slice(lt + 1, k).toLowerCase();
    const tag = parseAttributes(html, k);
    if (!tag) break; // an unterminated tag: browsers drop it and everything after
    i = tag.end;
    if (name === 'a' || name === 'area' || name.startsWith('v:')) {
      const link = linkOf(html, tag.attrs);
      if (link) links.push(link);
    } else if (RAW_TEXT.has(name)) {
      const close = new RegExp(`</${name}[\\s/>]`, 'ig');
      close.lastIndex = i;
      const m = close.exec(html);
      i = m ? m.index : n;
    }
  }
  return { links, bodyClose };
}

function linkOf(html: string, attrs: Attr[]): FoundLink | null {
  // HTML keeps the first of repeated attributes; so do we.
  const href = attrs.find((a) => a.name === 'href');
  if (!href || href.valueEnd <= href.valueStart) return null;
  const optOut = attrs.some(
    (a) => a.name === 'data-postline-notrack' || (a.name === 'clicktracking' && html.slice(a.valueStart, a.valueEnd).trim().toLowerCase() === 'off'),
  );
  return { rawStart: href.rawStart, rawEnd: href.rawEnd, valueStart: href.valueStart, valueEnd: href.valueEnd, optOut };
}

/** Attributes from just after a tag name to the closing `>`; null when the tag never closes. */
function parseAttributes(html: string, from: number): { attrs: Attr[]; end: number } | null {
  const n = html.length;
  const attrs: Attr[] = [];
  let i = from;
  for (;;) {
    while (i < n && (isSpace(html.charCodeAt(i)) || html[i] === '/')) i++;
    if (i >= n) return null;
    if (html[i] === '>') return { attrs, end: i + 1 };
    const nameStart = i;
    i++; // a name may begin with `=`
    while (i < n) {
      const ch = html[i]!;
      if (ch === '=' || ch === '>' || ch === '/' || isSpace(html.charCodeAt(i))) break;
      i++;
    }
    const name = html.slice(nameStart, i).toLowerCase();
    let j = i;
    while (j < n && isSpace(html.charCodeAt(j))) j++;
    if (html[j] !== '=') {
      attrs.push({ name, rawStart: i, rawEnd: i, valueStart: i, valueEnd: i });
      i = j;
      continue;
    }
    j++;
    while (j < n && isSpace(html.charCodeAt(j))) j++;
    if (j >= n) return null;
    const q = html[j];
    if (q === '"' || q === "'") {
      const close = html.indexOf(q, j + 1);
      if (close === -1) return null;
      attrs.push({ name, rawStart: j, rawEnd: close + 1, valueStart: j + 1, valueEnd: close });
      i = close + 1;
    } else if (q === '>') {
      attrs.push({ name, rawStart: j, rawEnd: j, valueStart: j, valueEnd: j });
      i = j;
    } else {
      let e = j;
      while (e < n && html[e] !== '>' && !isSpace(html.charCodeAt(e))) e++;
      attrs.push({ name, rawStart: j, rawEnd: e, valueStart: j, valueEnd: e });
      i = e;
    }
  }
}

// Character references as HTML decodes them in attribute values: numeric ones always; the named
// ones a URL plausibly holds, where the legacy forms without `;` (`&amp`, `&lt`, ...) count only
// when not followed by a letter, digit or `=` (so `?a=1&copy=2` stays as written, as in browsers).
const NAMED: Record<string, string> = {
  amp: '&',
  AMP: '&',
  lt: '<',
  LT: '<',
  gt: '>',
  GT: '>',
  quot: '"',
  QUOT: '"',
  apos: "'",
  nbsp: '\u00a0',
};
const LEGACY = new Set(['amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT', 'nbsp']);
const REFERENCE = /&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([a-zA-Z]+))(;?)/g;

export function decodeAttribute(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(REFERENCE, (m, dec: string | undefined, hex: string | undefined, name: string | undefined, semi: string, at: number) => {
    if (dec !== undefined || hex !== undefined) {
      const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex!, 16);
      const ok = cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
      return ok ? String.fromCodePoint(cp) : '\ufffd';
    }
    const v = NAMED[name!];
    if (v === undefined) return m;
    if (semi) return v;
    const next = s[at + m.length];
    if (!LEGACY.has(name!) || (next !== undefined && /[A-Za-z0-9=]/.test(next))) return m;
    return v;
  });
}

/** Browsers strip leading and trailing C0 controls and spaces from a URL (WHATWG URL). */
export function trimUrl(s: string): string {
  let a = 0,
    b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
