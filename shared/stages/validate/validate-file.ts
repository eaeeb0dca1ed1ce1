import { createReadStream } from 'node:fs';
import type { ColumnSpec, DatasetConfig } from '../../core/config/types';
import { MAX_LINE_BYTES } from '../../core/datasets/line-limits';
import { isNested } from '../../core/duckdb/columns';
import { JUNK_MARK, parseBadLine } from '../../core/feeds/canonical';
import { formatCsvRow, splitFields } from './delimited';
import { canonicalNested, compileRowCheck, compileRowFit, describeJson, isRawJson, parseJsonExact } from './row-checks';
import { NotTextError, textLines } from './text-lines';
import type { RowCounts } from '../../core/state/file-state';

/**
 * A file's row counts, with `truncated`: the good rows with a value cut to its column's `maxBytes`
 * (`onTooLong: truncate`; value-limits.ts), set only when there are any (counted in `out` too).
 */
/** (RowCounts, `truncated` included) */
export type FileRowCounts = RowCounts;

export type ValidationOutcome = { state: 'VALIDATED'; rows: FileRowCounts } | { state: 'REJECTED'; reason: string; rows: FileRowCounts };

/** Receives output lines; implementations buffer to files so memory stays bounded. */
export interface LineSink {
  write(line: string): void | Promise<void>;
}

/** Keeps no line (a caller that wants only the counts, or only one of the outputs). */
export const discardLines: LineSink = { write() {} };

/**
 * How the engine reads a dataset's text: delimited lines (`,` CSV or TSV, with or without a header
 * line) or JSON lines. The engine reads canonical text (shared/core/feeds/canonical.ts) or the
 * legacy text that is already canonical: a fixed-width feed is decoded to headerless CSV, JSON
 * records and Parquet to JSON lines; a delimited feed of another dialect must be decoded (and its
 * dataset given as canonical CSV) before the engine reads it.
 */
export type TextLayout = { kind: 'delimited'; delimiter: ',' | '\t'; header: boolean; junkLinePrefix?: string } | { kind: 'jsonl' };

export function textLayout(dataset: DatasetConfig): TextLayout {
  const format = dataset.format;
  switch (format.kind) {
    case 'delimited': {
      const delimiter = format.delimiter;
      if (delimiter !== ',' && delimiter !== '\t') {
        throw new Error(
          `the validation engine reads ","- or tab-delimited text; dataset ${dataset.name}'s ${JSON.stringify(delimiter)}-delimited files are decoded to canonical CSV first`,
        );
      }
      return { kind: 'delimited', delimiter, header: format.header !== false, ...(format.junkLinePrefix ? { junkLinePrefix: format.junkLinePrefix } : {}) };
    }
    case 'fixedWidth':
      return { kind: 'delimited', delimiter: ',', header: false };
    case 'jsonl':
    case 'json':
    case 'parquet':
      return { kind: 'jsonl' };
  }
}

/** The header line a delimited dataset's files start with (headerless files and JSON lines have none). */
export function expectedHeader(dataset: DatasetConfig): string | null {
  const layout = textLayout(dataset);
  return layout.kind === 'delimited' && layout.header ? dataset.columns.map((c) => c.name).join(layout.delimiter) : null;
}

/** Lines the rules skip and count as junk: the decoder's junk mark, or the dataset's junk prefix. */
export function junkTest(dataset: DatasetConfig): (text: string) => boolean {
  const layout = textLayout(dataset);
  const prefix = layout.kind === 'delimited' ? layout.junkLinePrefix : undefined;
  return prefix ? (text) => text.startsWith(JUNK_MARK) || text.startsWith(prefix) : (text) => text.startsWith(JUNK_MARK);
}

export const REJECTS_HEADER = formatCsvRow(['line', 'reason', 'text']);
/** how much of a rejected line the report keeps */
export const REJECTED_TEXT_CHARS = 1000;

/** One line of the rejects report. */
export function formatReject(line: number, reason: string, text: string): string {
  return formatCsvRow([line, reason, text]);
}

/** A blank line is skipped: empty, or (starting with a control character or space) all whitespace. */
export function isBlankLine(text: string): boolean {
  return text === '' || (text.charCodeAt(0) <= 32 && text.trim() === '');
}

export function wrongHeader(header: string | null, number: number, text: string): string {
  return `missing or wrong header on line ${number}: expected ${JSON.stringify(header)}, found ${JSON.stringify(text.slice(0, 200))}`;
}

export function noHeader(header: string | null): string {
  return `missing header: expected ${JSON.stringify(header)}, found no header line`;
}

/** The reason a file with these counts is REJECTED as mostly bad, or null. */
export function mostlyBad(rows: RowCounts, dataset: DatasetConfig): string | null {
  if (rows.in > 0 && rows.rejected / rows.in > dataset.maxBadRowRatio) {
    return `mostly bad: ${rows.rejected} of ${rows.in} rows rejected (limit ${Math.round(dataset.maxBadRowRatio * 100)}%)`;
  }
  return null;
}

/**
 * A JSON value as the text the row checks read: a string as is, a finite number as JavaScript
 * prints it, a boolean for a boolean column; for a struct or list column, its canonical JSON
 * (canonicalNested: leaves as their canonical text, numbers as written).
 */
function jsonValue(raw: unknown, column: ColumnSpec): string | { error: string } {
  if (raw === undefined || raw === null) return '';
  if (isNested(column)) {
    const shaped = typeof raw === 'object' && !isRawJson(raw) && Array.isArray(raw) === (column.kind === 'list');
    if (!shaped) return { error: `${describeJson(raw)} is not ${column.kind === 'list' ? 'a list' : 'an object'}` };
    return JSON.stringify(canonicalNested(column, raw));
  }
  // (a top-level number reads as JavaScript reads it, whichever parser kept it)
  const value = isRawJson(raw) ? Number(raw.rawJSON) : raw;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean' && column.kind === 'boolean') return String(value);
  return { error: `${describeJson(value)} is not a column value` };
}

/** Splits a line into the dataset's column values, in column order. */
export function lineParser(dataset: DatasetConfig): (line: string) => string[] | { error: string } {
  const layout = textLayout(dataset);
  if (layout.kind === 'delimited') return (line) => splitFields(line, layout.delimiter);
  const columns = dataset.columns;
  // nested values keep their numbers as written (checked and converted from their digits)
  const parse = columns.some(isNested) ? parseJsonExact : (text: string) => JSON.parse(text) as unknown;
  return (line) => {
    let parsed: unknown;
    try {
      parsed = parse(line);
    } catch (err) {
      return { error: `not JSON: ${(err as Error).message}` };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || isRawJson(parsed)) return { error: 'not a JSON object' };
    const values: string[] = [];
    for (const column of columns) {
      const value = jsonValue((parsed as Record<string, unknown>)[column.name], column);
      if (typeof value !== 'string') return { error: `${column.name}: ${value.error}` };
      values.push(value);
    }
    return values;
  };
}

/**
 * Validates one file as it streams: good rows go to `good` as CSV (with a header), bad rows to
 * `rejects` with their line number and reason (a line over MAX_LINE_BYTES is such a row: convert
 * could not read it). Never throws for bad content: the outcome says REJECTED with a reason (empty,
 * not text, no header, mostly bad).
 */
export async function validateFile(
  chunks: AsyncIterable<Uint8Array>,
  dataset: DatasetConfig,
  keyFields: Record<string, string>,
  sinks: { good: LineSink; rejects: LineSink },
): Promise<ValidationOutcome> {
  const rows: FileRowCounts = { in: 0, out: 0, rejected: 0, junk: 0 };
  const reject = (reason: string): ValidationOutcome => ({ state: 'REJECTED', reason, rows });
  const isJunk = junkTest(dataset);
  const header = expectedHeader(dataset);
  const parse = lineParser(dataset);
  const checkRow = compileRowCheck(dataset.columns, keyFields);
  const fitRow = compileRowFit(dataset.columns);
  let headerSeen = header === null;
  // (named for what it finds: a line that is NOT plain)
  const plainLine = /[",\r]/;
  let anyByte = false;
  const counted = (async function* () {
    for await (const chunk of chunks) {
      if (chunk.byteLength > 0) anyByte = true;
      yield chunk;
    }
  })();

  await sinks.good.write(formatCsvRow(dataset.columns.map((c) => c.name)));
  await sinks.rejects.write(REJECTS_HEADER);
  try {
    for await (const { first, lines, longLineBytes } of textLines(counted, { maxLineBytes: MAX_LINE_BYTES, headChars: REJECTED_TEXT_CHARS })) {
      for (let index = 0; index < lines.length; index += 1) {
        const text = lines[index]!;
        const number = first + index;
        if (isJunk(text)) {
          rows.junk += 1;
          continue;
        }
        // (a long line is only its head here: it is never blank)
        if (longLineBytes === undefined && isBlankLine(text)) continue;
        // (a bad-marked line where the header should be is a wrong header)
        const marked = headerSeen ? parseBadLine(text) : null;
        if (marked) {
          rows.in += 1;
          rows.rejected += 1;
          await sinks.rejects.write(formatReject(number, marked.reason, marked.text.slice(0, REJECTED_TEXT_CHARS)));
          continue;
        }
        if (!headerSeen) {
          if (longLineBytes !== undefined || text.trimEnd() !== header) {
            return reject(wrongHeader(header, number, text));
          }
          headerSeen = true;
          continue;
        }
        rows.in += 1;
        if (longLineBytes !== undefined) {
          rows.rejected += 1;
          await sinks.rejects.write(formatReject(number, `line longer than ${MAX_LINE_BYTES} bytes (${longLineBytes} bytes)`, text));
          continue;
        }
        const fields = parse(text);
        const problem = Array.isArray(fields) ? checkRow(fields) : fields.error;
        if (problem === null && Array.isArray(fields)) {
          rows.out += 1;
          if (fitRow?.(fields)) rows.truncated = (rows.truncated ?? 0) + 1;
          // A line without quotes, commas or CRs has no value that needs CSV quoting.
          const pending = sinks.good.write(plainLine.test(text) ? formatCsvRow(fields) : fields.join(','));
          if (pending) await pending;
        } else {
          rows.rejected += 1;
          await sinks.rejects.write(formatReject(number, problem ?? 'unreadable row', text.slice(0, REJECTED_TEXT_CHARS)));
        }
      }
    }
  } catch (err) {
    if (err instanceof NotTextError) return reject(err.message);
    throw err;
  }
  if (!anyByte) return reject('empty file (0 bytes)');
  if (!headerSeen) return reject(noHeader(header));
  const tooBad = mostlyBad(rows, dataset);
  if (tooBad) return reject(tooBad);
  return { state: 'VALIDATED', rows };
}

/** validateFile over a local file (a landed object already in /tmp). */
export function validateFileAt(
  path: string,
  dataset: DatasetConfig,
  keyFields: Record<string, string>,
  sinks: { good: LineSink; rejects: LineSink },
): Promise<ValidationOutcome> {
  return validateFile(createReadStream(path, { highWaterMark: 1 << 20 }), dataset, keyFields, sinks);
}
