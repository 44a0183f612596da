/**
 * Decodes the base64 body of one MIME part with Node's native decoder, giving the same bytes as
 * postal-mime's own Base64Decoder, and tells ErrorLog what was wrong with it.
 *
 * postal-mime decodes base64 in JavaScript, a line at a time (a TextDecoder, a regex and a string
 * per line); here the part's lines are joined once and decoded natively (the gain is in
 * src/patches/README.md, where postal-mime's patch uses this).
 *
 * postal-mime's rules, kept: every character outside the base64 alphabet is skipped; an '=' ends
 * a unit, and what follows starts a new one (some mailers pad every line). Node's decoder would
 * instead stop at the first '=' and read '-' and '_' as base64url digits, so those cases take the
 * careful path.
 */

export interface DecodedBase64 {
  bytes: Buffer;
  /** Characters other than the base64 alphabet and whitespace were skipped. */
  junk: boolean;
  /** Alphabet symbols, '=' included: not a multiple of 4 means the content was cut off. */
  symbols: number;
}

/** Anything but the alphabet and '=': absent in a clean part, so one scan settles the usual case. */
const NOT_ALPHABET = /[^A-Za-z0-9+/=]/;
const NOT_ALPHABET_ALL = /[^A-Za-z0-9+/=]+/g;
const NOT_ALPHABET_OR_SPACE = /[^A-Za-z0-9+/=\s]/;

/** `text`: the part's lines, as latin1 (one char per byte), with or without their line breaks. */
export function decodeBase64Text(text: string): DecodedBase64 {
  // The usual part: lines of the alphabet, padded at the end only. Decoding it and encoding the
  // bytes again gives it back exactly; two native passes instead of a regex over every character.
  const lines = text.includes('\n') ? text.replaceAll('\r\n', '').replaceAll('\n', '') : text;
  const decoded = Buffer.from(lines, 'base64');
  if (decoded.toString('base64') === lines) return { bytes: decoded, junk: false, symbols: lines.length };
  let clean = text;
  let junk = false;
  if (NOT_ALPHABET.test(text)) {
    junk = NOT_ALPHABET_OR_SPACE.test(text);
    clean = text.replace(NOT_ALPHABET_ALL, '');
  }
  const symbols = clean.length;
  const pad = clean.indexOf('=');
  // No '=', or only a closing run of them: one native decode.
  if (pad < 0 || /^=+$/.test(clean.slice(pad))) return { bytes: Buffer.from(clean, 'base64'), junk, symbols };
  // Units between runs of '=', each decoded on its own, as postal-mime does.
  const units = clean
    .split(/=+/)
    .filter((u) => u.length > 0)
    .map((u) => Buffer.from(u, 'base64'));
  return { bytes: Buffer.concat(units), junk, symbols };
}
