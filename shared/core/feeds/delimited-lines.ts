import type { ColumnSpec, DelimitedFormat } from '../config/types';
import { badLine, FeedRejection, JUNK_MARK, SchemaMismatch } from './canonical';
import { canonicalCsvLine, type Dialect, splitDialectLine } from './csv-line';
import { type ValueConverter, valueConverter } from './values';

export interface DelimitedFeed {
  format: DelimitedFormat;
  columns: ColumnSpec[];
  schemaPolicy: 'strict' | 'additive';
}

/**
 * Turns a delimited feed's lines (any dialect, decoded to UTF-8), in order, into canonical CSV
 * lines: one out per line in, so that line numbers stay the file's own. Skipped and comment lines
 * become junk lines; the header becomes the declared names (or, strict, what was found, for the
 * engine to reject); rows are reordered to the declared columns, null markers emptied and values
 * converted; a row that cannot be read becomes a bad line with its reason.
 */
export class DelimitedCanonicalizer {
  private readonly dialect: Dialect;
  private readonly columns: ColumnSpec[];
  private readonly additive: boolean;
  private readonly converters: (ValueConverter | null)[];
  private readonly nullMarkers: Set<string>;
  private readonly prefixes: string[];
  private readonly undefinedBytes: string | null;
  /** lines before the header (or the first row) still to skip */
  private toSkip: number;
  private awaitingHeader: boolean;
  private first = true;
  /** for each declared column, the index of its field in a row (-1: missing, null) */
  private fieldOf: number[];
  private fieldCount: number;
  private extras: string[] = [];
  private missing: string[] = [];

  constructor({ format, columns, schemaPolicy }: DelimitedFeed) {
    const quote = format.quote ?? (format.delimiter === '\t' ? '' : '"');
    this.dialect = { delimiter: format.delimiter, quote, escape: format.escape ?? quote };
    this.columns = columns;
    this.additive = schemaPolicy === 'additive';
    this.converters = columns.map((c) => valueConverter(c, { decimalComma: format.decimalComma }));
    this.nullMarkers = new Set(format.nullMarkers ?? []);
    this.prefixes = [format.commentPrefix, format.junkLinePrefix].filter((p): p is string => p !== undefined && p !== '');
    const encoding = format.encoding ?? 'utf-8';
    this.undefinedBytes = encoding === 'utf-8' ? null : `bytes not defined in ${encoding}`;
    this.toSkip = format.skipLines ?? 0;
    this.awaitingHeader = format.header !== false;
    this.fieldOf = columns.map((_, i) => i);
    this.fieldCount = columns.length;
  }

  /** Header names the dataset does not declare (additive: ignored, recorded on the file's report). */
  get extraColumns(): string[] {
    return this.extras;
  }

  /** Declared columns the header lacks (additive: nullable ones, read as null). */
  get missingColumns(): string[] {
    return this.missing;
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
    for (const prefix of this.prefixes) if (text.startsWith(prefix)) return JUNK_MARK + text;
    if (this.awaitingHeader) {
      this.awaitingHeader = false;
      return this.header(text);
    }
    return this.row(text);
  }

  private header(text: string): string {
    const found = splitDialectLine(text, this.dialect);
    if (!Array.isArray(found)) throw new FeedRejection(`the header cannot be read: ${found.problem}`);
    const declared = this.columns.map((c) => c.name);
    if (!this.additive) {
      const same = found.length === declared.length && found.every((name, i) => name === declared[i]);
      // Another header is passed on as found: the engine rejects the file with expected and found.
      return same ? canonicalCsvLine(declared) : canonicalCsvLine(found);
    }
    const index = new Map<string, number>();
    found.forEach((name, i) => {
      if (index.has(name)) throw new FeedRejection(`the header names the column ${name} twice (found: ${found.join(', ')})`);
      index.set(name, i);
    });
    this.fieldOf = declared.map((name) => index.get(name) ?? -1);
    this.missing = declared.filter((name) => !index.has(name));
    const required = this.columns.filter((c) => !c.nullable && !index.has(c.name)).map((c) => c.name);
    if (required.length > 0) {
      throw new SchemaMismatch(
        `the header lacks the required column${required.length > 1 ? 's' : ''} ${required.join(', ')} (expected: ${declared.join(', ')}; found: ${found.join(', ')})`,
      );
    }
    const declaredNames = new Set(declared);
    this.extras = found.filter((name) => !declaredNames.has(name));
    this.fieldCount = found.length;
    return canonicalCsvLine(declared);
  }

  private row(text: string): string {
    if (this.undefinedBytes !== null && text.includes('\uFFFD')) return badLine(this.undefinedBytes, text);
    const fields = splitDialectLine(text, this.dialect);
    if (!Array.isArray(fields)) return badLine(fields.problem, text);
    if (fields.length !== this.fieldCount) return badLine(`expected ${this.fieldCount} fields, found ${fields.length}`, text);
    const values = new Array<string>(this.columns.length);
    for (let i = 0; i < values.length; i += 1) {
      const at = this.fieldOf[i]!;
      let value = at < 0 ? '' : fields[at]!;
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

/** Blank as the engine sees it: nothing but whitespace (JavaScript's trim()). */
export function isBlank(text: string): boolean {
  return text.length === 0 || (LEADING_SPACE.test(text) && text.trim() === '');
}

const LEADING_SPACE = /^\s/;
