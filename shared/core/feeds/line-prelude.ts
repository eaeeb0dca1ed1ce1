import { badLine, JUNK_MARK } from './canonical';
import { INVALID_CHAR } from './encoding';
import type { ColumnSpec } from '../config/types';
import { type ValueConverter, valueConverter } from './values';

/** Blank as the engine sees it: nothing but whitespace (JavaScript's trim()). */
export function isBlank(text: string): boolean {
  return text.length === 0 || (LEADING_SPACE.test(text) && text.trim() === '');
}

const LEADING_SPACE = /^\s/;

export interface LinePreludeOptions {
  /** lines skipped at the start (junk) */
  skipLines?: number;
  /** lines starting with one of these are junk (comments, a store system's page headers) */
  prefixes: string[];
  /** the first remaining line is the header */
  header: boolean;
  encoding?: string;
}

/**
 * What a text feed (delimited, fixed width) does with each line before reading its values, in
 * order: a byte order mark off the first line; the first `skipLines` lines, blank lines and
 * comment lines become junk or blank canonical lines; the header is set apart; a row holding bytes
 * its encoding does not define is a bad row.
 */
export class LinePrelude {
  private first = true;
  private toSkip: number;
  private awaitingHeader: boolean;
  private readonly prefixes: string[];
  private readonly undefinedBytes: string | null;

  constructor(options: LinePreludeOptions) {
    this.toSkip = options.skipLines ?? 0;
    this.awaitingHeader = options.header;
    this.prefixes = options.prefixes.filter((p) => p !== '');
    const encoding = options.encoding ?? 'utf-8';
    this.undefinedBytes = encoding === 'utf-8' ? null : `bytes not defined in ${encoding}`;
  }

  /** The line's canonical form when it is no row (`line`), else its text as the header or a row. */
  take(text: string): { line: string } | { header: string } | { row: string } {
    if (this.first) {
      // A byte order mark (Excel writes one) is not part of the first line's text.
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.toSkip > 0) {
      this.toSkip -= 1;
      return { line: JUNK_MARK + text };
    }
    if (isBlank(text)) return { line: '' };
    for (const prefix of this.prefixes) if (text.startsWith(prefix)) return { line: JUNK_MARK + text };
    if (this.awaitingHeader) {
      this.awaitingHeader = false;
      return { header: text };
    }
    if (this.undefinedBytes !== null && text.includes(INVALID_CHAR)) return { line: badLine(this.undefinedBytes, text) };
    return { row: text };
  }
}

/** How a text feed reads each column's value: its null markers, and each column's converter. */
export interface RowReading {
  nullMarkers: Set<string>;
  converters: (ValueConverter | null)[];
}

export function rowReading(columns: ColumnSpec[], format: { nullMarkers?: string[]; decimalComma?: boolean }): RowReading {
  return {
    nullMarkers: new Set(format.nullMarkers ?? []),
    converters: columns.map((c) => valueConverter(c, { decimalComma: format.decimalComma })),
  };
}

/**
 * A row's values, each read in its column: a null marker is null (empty), any other value goes
 * through its column's converter. The canonical values, or the first problem.
 */
export function rowValues(count: number, raw: (i: number) => string, options: RowReading): string[] | { problem: string } {
  const values = new Array<string>(count);
  for (let i = 0; i < count; i += 1) {
    let value = raw(i);
    if (options.nullMarkers.has(value)) value = '';
    const convert = options.converters[i];
    if (convert && value !== '') {
      const converted = convert(value);
      if ('problem' in converted) return converted;
      value = converted.value;
    }
    values[i] = value;
  }
  return values;
}
