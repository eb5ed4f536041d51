/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF; quotes doubled.
 * A text cell that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) gets
 * a leading `'` (OWASP's advice on CSV injection): audit rows carry text from outside.
 */
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows of fields → CSV text with CRLF line ends (RFC 4180), a trailing CRLF included. */
export function toCsv(rows: unknown[][]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
