import type { ColumnSpec } from '../config/types';
import type { FixedWidthFormat } from '../config/pipeline-input.generated';
import { ConfigError } from '../errors';
import { badLine, JUNK_MARK } from './canonical';
import { canonicalCsvLine } from './csv-line';
import { LinePrelude, type RowReading, rowReading, rowValues } from './line-prelude';

export interface FixedWidthFeed {
  format: FixedWidthFormat;
  columns: ColumnSpec[];
}

/**
 * Turns a fixed-width feed's lines, in order, into canonical CSV lines (one out per line in): each
 * column is its `widths` characters of the line, trimmed. A line may stop inside the last column
 * (trailing spaces are often cut) but not before it, nor run past the widths.
 */
export class FixedWidthCanonicalizer {
  private readonly widths: number[];
  /** where each column starts; the last entry is where the line must end at the latest */
  private readonly starts: number[];
  /** how each column's value is read: null markers, converters */
  private readonly reading: RowReading;
  private readonly prelude: LinePrelude;

  constructor({ format, columns }: FixedWidthFeed) {
    if (format.widths.length !== columns.length) {
      throw new ConfigError('format.widths', `${format.widths.length} widths for ${columns.length} columns (one width per column, in order)`);
    }
    this.widths = format.widths;
    this.starts = [0];
    for (const width of format.widths) this.starts.push(this.starts.at(-1)! + width);
    this.reading = rowReading(columns, format);
    this.prelude = new LinePrelude({
      skipLines: format.skipLines,
      prefixes: format.commentPrefix === undefined ? [] : [format.commentPrefix],
      header: format.header === true,
      encoding: format.encoding,
    });
  }

  /** The canonical line of the next physical line (its text without the line end). */
  line(text: string): string {
    const taken = this.prelude.take(text);
    if ('line' in taken) return taken.line;
    // a header line is junk: the columns are the declared ones, by position
    if ('header' in taken) return JUNK_MARK + taken.header;
    text = taken.row;
    // Widths count characters: a line with astral characters (surrogate pairs) is cut by code point.
    const chars: string | string[] = SURROGATE.test(text) ? Array.from(text) : text;
    const total = this.starts.at(-1)!;
    const lastStart = this.starts.at(-2)!;
    if (chars.length > total) return badLine(`line has ${chars.length} characters; the columns take ${total}`, text);
    if (chars.length < lastStart) return badLine(`line has ${chars.length} characters; the columns need at least ${lastStart}`, text);
    const values = rowValues(
      this.widths.length,
      (i) => {
        const piece = chars.slice(this.starts[i], this.starts[i + 1]);
        return (typeof piece === 'string' ? piece : piece.join('')).trim();
      },
      this.reading,
    );
    return Array.isArray(values) ? canonicalCsvLine(values) : badLine(values.problem, text);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;
