/**
 * CSV for the suppression download: RFC 4180 (comma-separated, CRLF line ends, a field quoted
 * when it holds a comma, quote, CR or LF, quotes doubled inside), with a header row.
 *
 * Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with = + - @
 * (or a tab or CR, which some treat alike) as a formula, and a suppression's detail quotes text
 * a remote server sent us. Such a cell gets a leading apostrophe, which spreadsheets show as
 * text; an address that really starts with one of these characters is shown with it.
 */
export const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvRow(cells: readonly (string | null)[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}
