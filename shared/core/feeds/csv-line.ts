/**
 * One line of delimited text in, its values out (the feed's dialect); values in, one canonical CSV
 * line out (`,`, RFC 4180 quotes). Quotes hold on one line: a feed's line is never joined to the next.
 */

export interface Dialect {
  /** the one character between values */
  delimiter: string;
  /** the character around a value holding the delimiter; '' for none */
  quote: string;
  /** the character before a quote inside a quoted value; the quote itself means a doubled quote (RFC 4180) */
  escape: string;
}

// Quoted: a value holding `,`, `"` or a line end, or starting with whitespace or a control
// character (a mark, or what would make the line blank to the engine's trim()).
const SPECIAL = /[",\r\n]/;
const LEADING_SPACE = /^\s/;

function needsQuotes(value: string): boolean {
  const first = value.charCodeAt(0);
  return first <= 32 || (first > 127 && LEADING_SPACE.test(value)) || SPECIAL.test(value);
}

/** The canonical CSV line of a row's values. */
export function canonicalCsvLine(values: readonly string[]): string {
  // A single empty value would be a blank line, which the engine skips: it is written `""`.
  if (values.length === 1 && values[0] === '') return '""';
  let line = '';
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i]!;
    if (i > 0) line += ',';
    line += needsQuotes(value) ? `"${value.replaceAll('"', '""')}"` : value;
  }
  return line;
}

/**
 * The values of one line in a dialect, or a problem (an unterminated quote, text after a closing
 * quote). A quote in the middle of an unquoted value is kept literally, as RFC 4180 readers do; an
 * escape (when it is not the quote) escapes the quote and itself, inside quotes only, so that an
 * unquoted `\N` stays a null marker.
 */
export function splitDialectLine(line: string, dialect: Dialect): string[] | { problem: string } {
  const { delimiter, quote } = dialect;
  if (quote === '' || !line.includes(quote)) return line.split(delimiter);
  const escapeChar = dialect.escape || quote;
  const values: string[] = [];
  let i = 0;
  for (;;) {
    if (line.startsWith(quote, i)) {
      // A quoted value: up to its closing quote, then the delimiter or the line's end.
      let value = '';
      let j = i + quote.length;
      for (;;) {
        if (j >= line.length) return { problem: `unterminated quote in field ${values.length + 1}` };
        const ch = line[j]!;
        if (escapeChar !== quote && ch === escapeChar && (line.startsWith(quote, j + 1) || line.startsWith(escapeChar, j + 1))) {
          value += line[j + 1];
          j += 2;
        } else if (ch === quote) {
          if (escapeChar === quote && line.startsWith(quote, j + 1)) {
            value += quote;
            j += 2;
          } else {
            j += 1;
            break;
          }
        } else {
          value += ch;
          j += 1;
        }
      }
      values.push(value);
      if (j >= line.length) return values;
      if (!line.startsWith(delimiter, j)) return { problem: `text after the closing quote of field ${values.length}` };
      i = j + delimiter.length;
    } else {
      const end = line.indexOf(delimiter, i);
      if (end < 0) {
        values.push(line.slice(i));
        return values;
      }
      values.push(line.slice(i, end));
      i = end + delimiter.length;
    }
    // A delimiter last on the line: one more (empty) value.
    if (i >= line.length) {
      values.push('');
      return values;
    }
  }
}
