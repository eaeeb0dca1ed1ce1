import type { ColumnSpec } from '../config/types';
import type { FixedWidthFormat } from '../config/pipeline-input.generated';
import { ConfigError } from '../errors';
import { badLine, JUNK_MARK } from './canonical';
import { canonicalCsvLine } from './csv-line';
import { isBlank } from './delimited-lines';
import { type ValueConverter, valueConverter } from './values';

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
  private readonly converters: (ValueConverter | null)[];
  private readonly nullMarkers: Set<string>;
  private readonly commentPrefix: string | undefined;
  private readonly undefinedBytes: string | null;
  private toSkip: number;
  private awaitingHeader: boolean;
  private first = true;

  constructor({ format, columns }: FixedWidthFeed) {
    if (format.widths.length !== columns.length) {
      throw new ConfigError('format.widths', `${format.widths.length} widths for ${columns.length} columns (one width per column, in order)`);
    }
    this.widths = format.widths;
    this.starts = [0];
    for (const width of format.widths) this.starts.push(this.starts.at(-1)! + width);
    this.converters = columns.map((c) => valueConverter(c, { decimalComma: format.decimalComma }));
    this.nullMarkers = new Set(format.nullMarkers ?? []);
    this.commentPrefix = format.commentPrefix;
    const encoding = format.encoding ?? 'utf-8';
    this.undefinedBytes = encoding === 'utf-8' ? null : `bytes not defined in ${encoding}`;
    this.toSkip = format.skipLines ?? 0;
    this.awaitingHeader = format.header === true;
  }

  /** The canonical line of the next physical line (its text without the line end). */
  line(text: string): string {
    if (this.first) {
      // A byte order mark (Excel writes one) is not part of the first line's text.
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.toSkip > 0) {
      this.toSkip -= 1;
      return JUNK_MARK + text;
    }
    if (isBlank(text)) return '';
    if (this.commentPrefix && text.startsWith(this.commentPrefix)) return JUNK_MARK + text;
    if (this.awaitingHeader) {
      this.awaitingHeader = false;
      return JUNK_MARK + text;
    }
    if (this.undefinedBytes !== null && text.includes('\uFFFD')) return badLine(this.undefinedBytes, text);
    // Widths count characters: a line with astral characters (surrogate pairs) is cut by code point.
    const chars: string | string[] = SURROGATE.test(text) ? Array.from(text) : text;
    const total = this.starts.at(-1)!;
    const lastStart = this.starts.at(-2)!;
    if (chars.length > total) return badLine(`line has ${chars.length} characters; the columns take ${total}`, text);
    if (chars.length < lastStart) return badLine(`line has ${chars.length} characters; the columns need at least ${lastStart}`, text);
    const values = new Array<string>(this.widths.length);
    for (let i = 0; i < values.length; i += 1) {
      const piece = chars.slice(this.starts[i], this.starts[i + 1]);
      let value = (typeof piece === 'string' ? piece : piece.join('')).trim();
      if (this.nullMarkers.has(value)) value = '';
      const convert = this.converters[i];
      if (convert && value !== '') {
        const converted = convert(value);
        if ('problem' in converted) return badLine(converted.problem, text);
        value = converted.value;
      }
      values[i] = value;
    }
    return canonicalCsvLine(values);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;
