import type { ColumnSpec, DatasetConfig } from '../../core/config/types';
import { duckdbType, fromJsonSql, isNested, quoteIdentifier } from '../../core/duckdb/columns';
import { MAX_LINE_BYTES } from '../../core/datasets/line-limits';
import { byteLimit } from '../../core/feeds/value-limits';
import { jsonFastPath, jsonFastPathBlocker, type JsonFastPath } from './json-fast-path';
import { textLayout } from './validate-file';
import { kindPattern, sqlString, valuePattern } from './value-patterns';

export { sqlString } from './value-patterns';

/**
 * The validation rules of validate-file.ts as DuckDB SQL, so that a landed file is checked (and later
 * converted) in parallel at DuckDB's speed. The JavaScript rules stay the reference:
 * - a line the SQL calls `good` must be good for the JavaScript too, with the same values (the
 *   parity tests run both on the same files);
 * - a line it calls `bad` is handed to the JavaScript, which writes the reason (and, if it finds the
 *   line good after all, the whole file goes the JavaScript way: see validate-duckdb.ts).
 * So where the SQL cannot reproduce a rule exactly it answers `bad`, never `good`.
 *
 * Each physical line is read as one VARCHAR: a delimiter no text holds, no quote, no escape, so
 * that an empty line is a NULL row and row_number() OVER () is the line number (from `skip`).
 * DuckDB refuses what the JavaScript reads differently (a lone CR, mixed line ends, invalid UTF-8,
 * a line over MAX_SQL_LINE_BYTES): the query fails and the file goes the JavaScript way.
 */

/** Longer lines make DuckDB's reader fail (the file is validated in JavaScript); shorter ones are read whole. */
export const MAX_SQL_LINE_BYTES = 8 * MAX_LINE_BYTES;

/** The file's physical lines, one VARCHAR `line` per line, after the first `skip` lines; `$path` is bound. */
export function linesSql(skip: number): string {
  return `SELECT line FROM read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = E'\\x01\\x02\\x03\\x04', quote = '', escape = '', auto_detect = false, strict_mode = true, max_line_size = ${MAX_SQL_LINE_BYTES}, buffer_size = ${4 * MAX_SQL_LINE_BYTES}, skip = ${Math.trunc(skip)})`;
}

/** JavaScript's String.prototype.trim() set, for the blank-line rule (RE2's \s is ASCII only). */
const JS_WHITESPACE = '[\\t\\n\\x{0B}\\x{0C}\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]*';

/** Whether a non-empty value passes the column's checks (row-checks.ts, rule for rule). */
function valueIsGood(column: ColumnSpec, v: string, keyFields: Record<string, string>): string {
  // a nested value is checked by the JavaScript (its JSON, recursively)
  if (isNested(column)) return 'false';
  const checks = [`NOT contains(${v}, chr(10))`, `NOT contains(${v}, chr(13))`];
  // strlen is UTF-8 bytes, as value-limits.ts counts them; a value to truncate is good
  const limit = byteLimit(column);
  if (limit?.onTooLong === 'reject') checks.push(`strlen(${v}) <= ${limit.maxBytes}`);
  const pattern = kindPattern(column);
  if (pattern !== null) checks.push(`regexp_full_match(${v}, ${sqlString(pattern)})`);
  if (column.allowed) {
    const allowed = column.allowed.map(String);
    if (column.kind === 'integer') {
      // The JavaScript compares String(Number(value)): equal numbers, whatever their digits ("04" is 4).
      // (a listed text that is not its number's own, such as "007", is never equal to String(Number(value)))
      const numbers = allowed.map(Number).filter((n, i) => Number.isFinite(n) && String(n) === allowed[i]);
      checks.push(numbers.length > 0 ? `TRY_CAST(${v} AS DOUBLE) IN (${numbers.map((n) => `${n}::DOUBLE`).join(', ')})` : 'false');
    } else {
      checks.push(`${v} IN (${allowed.map(sqlString).join(', ')})`);
    }
  }
  const expected = column.equalsKeyField ? keyFields[column.equalsKeyField] : undefined;
  if (column.equalsKeyField) {
    if (expected === undefined) checks.push('false');
    else if (column.kind === 'timestamp') checks.push(`${v}[1:10] = ${sqlString(expected)}`);
    else checks.push(`${v} = ${sqlString(expected)}`);
  }
  return checks.join(' AND ');
}

/** The column values of a line as a LIST of VARCHAR (NULL: not splittable, so bad), from `line`. */
function fieldsSql(dataset: DatasetConfig): string {
  const layout = textLayout(dataset);
  if (layout.kind === 'delimited') {
    if (layout.delimiter === '\t') return `string_split(line, chr(9))`;
    // RFC 4180 within a line, as splitFields: a quoted field runs to its closing quote ("" inside is
    // one quote) and must end the line or meet a comma; an unquoted field holds no quote.
    const field = `"(?:[^"]|"")*"|[^",]*`;
    const quoted = `list_transform(regexp_extract_all(line, '(?:^|,)(${field})', 1), x -> CASE WHEN starts_with(x, '"') THEN replace(x[2:-2], '""', '"') ELSE x END)`;
    return `CASE WHEN NOT contains(line, '"') THEN string_split(line, ',') WHEN regexp_full_match(line, '(?:${field})(?:,(?:${field}))*') THEN ${quoted} ELSE NULL END`;
  }
  // JSON lines: one parse for all columns. Where DuckDB's JSON reader is more lenient than JSON.parse
  // (trailing commas, NaN, Infinity; duplicate keys, where JSON.parse keeps the last) or prints a
  // number otherwise than String(number) would, the line is called bad and the JavaScript decides.
  // A boolean is a value of a boolean column only; a nested value (not null) is left to the JavaScript.
  const value = (c: ColumnSpec, e: string) =>
    isNested(c)
      ? `CASE json_type(${e}) WHEN 'NULL' THEN '' ELSE NULL END`
      : `CASE json_type(${e})
      WHEN 'VARCHAR' THEN ${e} ->> '$'
      WHEN 'NULL' THEN ''
      WHEN 'BOOLEAN' THEN ${c.kind === 'boolean' ? `${e}::VARCHAR` : 'NULL'}
      WHEN 'BIGINT' THEN CASE WHEN abs(TRY_CAST(${e} AS HUGEINT)) <= 9007199254740992 THEN TRY_CAST(${e} AS HUGEINT)::VARCHAR END
      WHEN 'UBIGINT' THEN CASE WHEN TRY_CAST(${e} AS HUGEINT) <= 9007199254740992 THEN TRY_CAST(${e} AS HUGEINT)::VARCHAR END
      WHEN 'DOUBLE' THEN CASE
        WHEN isinf(TRY_CAST(${e} AS DOUBLE)) OR isnan(TRY_CAST(${e} AS DOUBLE)) THEN NULL
        WHEN TRY_CAST(${e} AS DOUBLE) = floor(TRY_CAST(${e} AS DOUBLE)) AND abs(TRY_CAST(${e} AS DOUBLE)) < 9007199254740992 THEN TRY_CAST(TRY_CAST(${e} AS DOUBLE) AS BIGINT)::VARCHAR
        WHEN abs(TRY_CAST(${e} AS DOUBLE)) >= 9007199254740992 OR contains(TRY_CAST(${e} AS DOUBLE)::VARCHAR, 'e') THEN NULL
        ELSE TRY_CAST(${e} AS DOUBLE)::VARCHAR END
      ELSE NULL END`;
  // each column's value from `j`, the line's one extraction of every column (linesWithJsonSql): no
  // lambda (DuckDB's JSON functions inside a list lambda kept their memory to the query's end: a 17 MB
  // file exhausted convert's 781 MiB)
  const each = dataset.columns.map((c, i) => `CASE WHEN j[${i + 1}] IS NULL THEN '' ELSE ${value(c, `j[${i + 1}]`)} END`).join(', ');
  return `CASE WHEN j IS NOT NULL THEN [${each}] END`;
}

/**
 * The lines with `fast` (the line is a canonical JSON line, good: json-fast-path.ts; false for a
 * delimited dataset) and `j`, a JSON line's columns extracted in one parse (a LIST of JSON, in column
 * order) when it is not fast and is a JSON object JSON.parse reads the same: where DuckDB's JSON
 * reader is more lenient (trailing commas, NaN, Infinity; duplicate keys, where JSON.parse keeps the
 * last), `j` is NULL, the line is bad, and the JavaScript decides.
 */
function linesWithJsonSql(dataset: DatasetConfig, skip: number, fast: JsonFastPath | null): string {
  if (textLayout(dataset).kind === 'delimited') return `SELECT line, false AS fast FROM (${linesSql(skip)})`;
  const paths = dataset.columns.map((c) => sqlString(`$.${c.name}`)).join(', ');
  // outside strings: a comma before a closing bracket, or nan/inf/infinity in any case (yyjson takes them)
  const outsideStrings = `regexp_replace(line, '"(?:[^"\\\\]|\\\\.)*"', '""', 'g')`;
  const lenient = `regexp_matches(${outsideStrings}, '(?i),\\s*[}\\]]|nan|inf')`;
  const usable = `line IS NOT NULL AND ascii(line) > 2 AND strlen(line) <= ${MAX_LINE_BYTES} AND json_valid(line) AND NOT (${lenient}) AND json_type(line) = 'OBJECT' AND len(json_keys(line)) = len(list_distinct(json_keys(line)))`;
  // (a CASE evaluates its branch only for the rows it selects: a fast line is parsed by no JSON function)
  return `SELECT line, fast, CASE WHEN NOT fast AND ${usable} THEN json_extract(line, [${paths}]) END AS j FROM (SELECT line, ${fast?.good ?? 'false'} AS fast FROM (${linesSql(skip)}))`;
}

/**
 * One regular expression for a whole good line of a delimited dataset without quotes (every TSV line;
 * a CSV line without `"`): matching it is being good, failing it is being bad. Null when a column's
 * rule cannot be a pattern.
 */
export function plainLinePattern(dataset: DatasetConfig, keyFields: Record<string, string>): string | null {
  const layout = textLayout(dataset);
  if (layout.kind !== 'delimited') return null;
  const delimiter = layout.delimiter;
  const plain = delimiter === '\t' ? '[^\\t\\r\\n]' : '[^,"\\r\\n]';
  const fields: string[] = [];
  for (const column of dataset.columns) {
    const pattern = valuePattern(column, keyFields, plain);
    if (pattern === null) return null;
    fields.push(column.nullable ? `(?:${pattern})?` : `(?:${pattern})`);
  }
  return fields.join(delimiter === '\t' ? '\\t' : ',');
}

/**
 * `line`, its `class` and, for the lines the general rule decided, their column values `f` (a LIST
 * of VARCHAR); for every line after the first `skip` (the header and what precedes it). A plain
 * delimited line is decided by one regular expression (plainLinePattern), which is where the speed
 * comes from; quoted CSV lines and JSON lines are split and checked column by column.
 */
export function classifiedLinesSql(dataset: DatasetConfig, keyFields: Record<string, string>, skip: number): string {
  const layout = textLayout(dataset);
  const fast = jsonFastPath(dataset, keyFields);
  const junk = layout.kind === 'delimited' ? layout.junkLinePrefix : undefined;
  const plain = plainLinePattern(dataset, keyFields);
  const csv = layout.kind === 'delimited' && layout.delimiter === ',';
  // which lines the general rule decides: all but the plain ones the pattern decided; a pattern
  // cannot count bytes, so a line longer than the smallest byte limit has its values measured
  const shortest = Math.min(...dataset.columns.map((c) => byteLimit(c)?.maxBytes ?? Number.POSITIVE_INFINITY));
  const measured = Number.isFinite(shortest) ? ` OR strlen(line) > ${shortest}` : '';
  const general = plain === null ? 'true' : `(${csv ? `contains(line, '"')` : 'false'}${measured})`;
  const n = dataset.columns.length;
  const good = [
    `f IS NOT NULL`,
    `len(f) = ${n}`,
    ...dataset.columns.map((c, i) => {
      const v = `f[${i + 1}]`;
      return `CASE WHEN ${v} IS NULL THEN false WHEN ${v} = '' THEN ${c.nullable ? 'true' : 'false'} ELSE (${valueIsGood(c, v, keyFields)}) END`;
    }),
  ].join('\n      AND ');
  // a good line with a value to truncate (only the general rule's lines can have one: f is theirs)
  const over = truncatedColumns(dataset).map(({ i, maxBytes }) => `strlen(f[${i + 1}]) > ${maxBytes}`);
  const generalTruncated = over.length > 0 ? `class = 'good' AND coalesce(${over.join(' OR ')}, false)` : 'false';
  const truncated = fast ? `CASE WHEN fast THEN ${fast.truncated} ELSE ${generalTruncated} END` : generalTruncated;
  return `SELECT line, f, class, ${truncated} AS t, fast FROM (SELECT line, f, fast, CASE
      WHEN line IS NULL THEN 'blank'
      WHEN starts_with(line, chr(1)) THEN 'junk'
      WHEN starts_with(line, chr(2)) THEN 'bad'
      ${junk ? `WHEN starts_with(line, ${sqlString(junk)}) THEN 'junk'` : ''}
      WHEN (CASE WHEN ascii(line) <= 32 THEN regexp_full_match(line, '${JS_WHITESPACE}') ELSE false END) THEN 'blank'
      WHEN strlen(line) > ${MAX_LINE_BYTES} THEN 'bad'
      WHEN fast THEN 'good'
      ${plain === null ? '' : `WHEN NOT (${general}) THEN CASE WHEN regexp_full_match(line, ${sqlString(plain)}) THEN 'good' ELSE 'bad' END`}
      WHEN ${good} THEN 'good'
      ELSE 'bad' END AS class
    FROM (SELECT line, fast, CASE WHEN line IS NOT NULL AND NOT fast AND ascii(line) > 2 AND strlen(line) <= ${MAX_LINE_BYTES} AND ${general} THEN ${fieldsSql(dataset)} END AS f FROM (${linesWithJsonSql(dataset, skip, fast)})))`;
}

/** The columns whose values over their `maxBytes` are truncated (`onTooLong: truncate`), with their index. */
function truncatedColumns(dataset: DatasetConfig): Array<{ i: number; maxBytes: number }> {
  return dataset.columns.flatMap((c, i) => {
    const limit = byteLimit(c);
    return limit?.onTooLong === 'truncate' ? [{ i, maxBytes: limit.maxBytes }] : [];
  });
}

/**
 * A VARCHAR `value` cut to at most `maxBytes` UTF-8 bytes at a character boundary, as truncateUtf8
 * (value-limits.ts) does: the bytes up to the limit, or one, two or three fewer (a UTF-8 character
 * has at most four), whichever first decodes (a cut inside a character does not).
 */
export function truncateUtf8Sql(value: string, maxBytes: number): string {
  const cuts = [0, 1, 2, 3].map((k) => `try(decode(encode(${value})[1:${Math.max(maxBytes - k, 0)}]))`);
  return `CASE WHEN strlen(${value}) <= ${maxBytes} THEN ${value} ELSE coalesce(${cuts.join(', ')}) END`;
}

/** The column values `v` (a LIST of VARCHAR, '' when empty) of the good lines, with their line number `n` after `skip` when `numbered`. */
export function goodRowsSql(dataset: DatasetConfig, keyFields: Record<string, string>, skip: number, numbered = false): string {
  const layout = textLayout(dataset);
  // a line the pattern decided is split here; the general rule split the others already
  // (a canonical JSON line's values come from its tokens, only here: counting never needs them)
  const fast = jsonFastPath(dataset, keyFields);
  const values =
    layout.kind === 'delimited'
      ? `coalesce(f, string_split(line, ${layout.delimiter === '\t' ? 'chr(9)' : "','"}))`
      : fast
        ? `CASE WHEN fast THEN ${fast.values('s')} ELSE f END`
        : 'f';
  const classified = classifiedLinesSql(dataset, keyFields, skip);
  const withTokens = fast ? `SELECT *, CASE WHEN fast THEN ${fast.captures} END AS s FROM (${classified})` : classified;
  const from = numbered ? `(SELECT row_number() OVER () AS n, * FROM (${withTokens}))` : `(${withTokens})`;
  const rows = `SELECT ${numbered ? 'n, ' : ''}${values} AS v FROM ${from} WHERE class = 'good'`;
  // values over an `onTooLong: truncate` column's limit are cut here, where every reader of good rows gets them
  const cut = truncatedColumns(dataset);
  if (cut.length === 0) return rows;
  const fitted = dataset.columns.map((_, i) => {
    const c = cut.find((t) => t.i === i);
    return c ? truncateUtf8Sql(`v[${i + 1}]`, c.maxBytes) : `v[${i + 1}]`;
  });
  return `SELECT ${numbered ? 'n, ' : ''}[${fitted.join(', ')}] AS v FROM (${rows})`;
}

/**
 * The rows of a delimited file whose every line after the first `skip` is a good row (no blank,
 * junk or bad line: validate counted them), read by DuckDB's typed CSV reader: on such lines it
 * reads exactly the values the rules checked (TSV has no quoting; a CSV field's RFC 4180 quotes are
 * undone as splitFields does, an empty field is NULL either way), faster than splitting them in SQL.
 * Its buffers are DuckDB's defaults (a line of up to 2 MB; a good line has at most MAX_LINE_BYTES):
 * smaller than the classifying reader's, they stream a pipe faster. A JSON-lines file is read so
 * only when its verdict says every line is a canonical JSON line (`canonicalJson`: allGoodJsonRowsSql).
 */
export function allGoodRowsSql(dataset: DatasetConfig, skip: number, options: { canonicalJson?: boolean } = {}): string | null {
  const layout = textLayout(dataset);
  if (layout.kind === 'jsonl' && options.canonicalJson) return allGoodJsonRowsSql(dataset);
  // (nested values are JSON: they never come as delimited text)
  if (layout.kind !== 'delimited' || dataset.columns.some(isNested)) return null;
  const csv = layout.delimiter === ',';
  const columns = dataset.columns.map((c) => `${sqlString(c.name)}: '${duckdbType(c)}'`).join(', ');
  return `SELECT * FROM read_csv($path, columns = {${columns}}, header = false, skip = ${Math.trunc(skip)}, delim = ${csv ? "','" : "E'\\t'"}, quote = ${csv ? `'"'` : "''"}, escape = ${csv ? `'"'` : "''"}, allow_quoted_nulls = true, auto_detect = false, strict_mode = true)`;
}

/**
 * The rows of a JSON-lines file whose every line is a canonical JSON line (json-fast-path.ts;
 * validate's verdict says so: `canonicalJson`), read by DuckDB's JSON reader with the declared
 * types (json_transform_strict: a value it cannot read fails the conversion, never a NULL): on
 * such lines it reads exactly the values the rules checked (see allGoodJsonColumnsSql for the
 * empty strings). The lines come from the line reader: read_json itself kept every buffer of a
 * pipe (1 GB streamed exhausted convert's 781 MiB), the line reader streams it in bounded memory.
 * Null for a dataset without the fast path.
 */
function allGoodJsonRowsSql(dataset: DatasetConfig): string | null {
  if (jsonFastPathBlocker(dataset) !== null) return null;
  const structure = Object.fromEntries(dataset.columns.map((c) => [c.name, duckdbType(c)]));
  return `SELECT unnest(json_transform_strict(line, ${sqlString(JSON.stringify(structure))})) FROM (${linesSql(0)})`;
}

/** The dataset's columns as convert writes them, from allGoodJsonRowsSql: an empty string is NULL, as in the CSV the JavaScript writes; values over a `truncate` limit cut. */
function allGoodJsonColumnsSql(dataset: DatasetConfig): string[] {
  return dataset.columns.map((c) => {
    const name = quoteIdentifier(c.name);
    if (c.kind !== 'string') return name;
    const limit = byteLimit(c);
    // cut first: a value cut to nothing is an empty field in the JavaScript's CSV too
    return `NULLIF(${limit?.onTooLong === 'truncate' ? truncateUtf8Sql(name, limit.maxBytes) : name}, '') AS ${name}`;
  });
}

/** The dataset's columns as convert writes them, from allGoodRowsSql. */
export function allGoodColumnsSql(dataset: DatasetConfig, options: { canonicalJson?: boolean } = {}): string[] {
  if (textLayout(dataset).kind === 'jsonl' && options.canonicalJson) return allGoodJsonColumnsSql(dataset);
  return dataset.columns.map((c) => {
    const limit = byteLimit(c);
    const name = quoteIdentifier(c.name);
    return limit?.onTooLong === 'truncate' ? `${truncateUtf8Sql(name, limit.maxBytes)} AS ${name}` : name;
  });
}

/** The dataset's typed columns from a good row's values `v` (an empty value is NULL, as in the CSV it replaces). */
export function typedColumnsSql(dataset: DatasetConfig): string[] {
  return dataset.columns.map((c, i) => {
    const value = `NULLIF(v[${i + 1}], '')`;
    return `${isNested(c) ? fromJsonSql(value, c) : `CAST(${value} AS ${duckdbType(c)})`} AS ${quoteIdentifier(c.name)}`;
  });
}
