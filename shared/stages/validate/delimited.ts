/**
 * Splits one line into fields. CSV honours RFC 4180 quotes within the line; TSV has no quoting. The
 * engine reads only canonical CSV and legacy TSV: a feed of another dialect is decoded first.
 */
export function splitFields(line: string, delimiter: string): string[] | { error: string } {
  if (delimiter === '\t') return line.split('\t');
  if (delimiter !== ',')
    throw new Error(`splitFields reads "," or tab-delimited lines, not ${JSON.stringify(delimiter)}-delimited ones (decode the feed first)`);
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) return { error: 'unterminated quoted field' };
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < line.length && line[i] !== ',') return { error: 'text after a closing quote' };
      fields.push(value);
    } else {
      const c = line.indexOf(',', i);
      const value = c === -1 ? line.slice(i) : line.slice(i, c);
      if (value.includes('"')) return { error: 'quote inside an unquoted field' };
      fields.push(value);
      i = c === -1 ? line.length : c;
    }
    if (i >= line.length) return fields;
    i += 1; // past the comma
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}

/** One CSV record (RFC 4180): quoted only where needed. */
export function formatCsvRow(values: ReadonlyArray<string | number>): string {
  return values
    .map((v) => {
      const s = String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}
