import type { ColumnSpec, DelimitedFormat } from '../config/types';
import { badLine, FeedRejection, SchemaMismatch } from './canonical';
import { canonicalCsvLine, type Dialect, splitDialectLine } from './csv-line';
import { LinePrelude, type RowReading, rowReading, rowValues } from './line-prelude';

export interface DelimitedFeed {
  format: DelimitedFormat;
  columns: ColumnSpec[];
  schemaPolicy: 'strict' | 'additive';
  /** each column's name in the header (default: its name; a kept extra column: its header name, extra-columns.ts) */
  headerNames?: string[];
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
  private readonly headerNames: string[];
  /** how each column's value is read: null markers, converters */
  private readonly reading: RowReading;
  private readonly prelude: LinePrelude;
  /** for each declared column, the index of its field in a row (-1: missing, null) */
  private fieldOf: number[];
  private fieldCount: number;
  private extras: string[] = [];
  private missing: string[] = [];

  constructor({ format, columns, schemaPolicy, headerNames }: DelimitedFeed) {
    const quote = format.quote ?? (format.delimiter === '\t' ? '' : '"');
    this.dialect = { delimiter: format.delimiter, quote, escape: format.escape ?? quote };
    this.columns = columns;
    this.additive = schemaPolicy === 'additive';
    this.headerNames = headerNames ?? columns.map((c) => c.name);
    this.reading = rowReading(columns, format);
    this.prelude = new LinePrelude({
      skipLines: format.skipLines,
      prefixes: [format.commentPrefix, format.junkLinePrefix].filter((p): p is string => p !== undefined),
      header: format.header !== false,
      encoding: format.encoding,
    });
    this.fieldOf = columns.map((_, i) => i);
    this.fieldCount = columns.length;
  }

  /** Header names the dataset does not declare and the file does not keep (additive: ignored, recorded on the file's report). */
  get extraColumns(): string[] {
    return this.extras;
  }

  /** Declared columns the header lacks (additive: nullable ones, read as null). */
  get missingColumns(): string[] {
    return this.missing;
  }

  /** The canonical line of the next physical line (its text without the line end). */
  line(text: string): string {
    const taken = this.prelude.take(text);
    if ('line' in taken) return taken.line;
    return 'header' in taken ? this.header(taken.header) : this.row(taken.row);
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
    this.fieldOf = this.headerNames.map((name) => index.get(name) ?? -1);
    this.missing = declared.filter((_, i) => this.fieldOf[i]! < 0);
    const required = this.columns.filter((c, i) => !c.nullable && this.fieldOf[i]! < 0).map((c) => c.name);
    if (required.length > 0) {
      throw new SchemaMismatch(
        `the header lacks the required column${required.length > 1 ? 's' : ''} ${required.join(', ')} (expected: ${declared.join(', ')}; found: ${found.join(', ')})`,
      );
    }
    const declaredNames = new Set(this.headerNames);
    this.extras = found.filter((name) => !declaredNames.has(name));
    this.fieldCount = found.length;
    return canonicalCsvLine(declared);
  }

  private row(text: string): string {
    const fields = splitDialectLine(text, this.dialect);
    if (!Array.isArray(fields)) return badLine(fields.problem, text);
    if (fields.length !== this.fieldCount) return badLine(`expected ${this.fieldCount} fields, found ${fields.length}`, text);
    const values = rowValues(
      this.columns.length,
      (i) => {
        const at = this.fieldOf[i]!;
        return at < 0 ? '' : fields[at]!;
      },
      this.reading,
    );
    return Array.isArray(values) ? canonicalCsvLine(values) : badLine(values.problem, text);
  }
}
