import { type DuckDBConnection, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import type { ColumnKind, DatasetConfig } from '../config/types';
import { quoteIdentifier } from '../duckdb/columns';
import { FeedRejection, SchemaMismatch } from './canonical';

/**
 * Parquet inputs (an AWS DMS full load, a Glue or Aurora export): the file's columns are matched
 * to the dataset's by name and must convert to the declared kinds without loss; the rows are then
 * written as canonical JSON lines (one flat object per row, the declared columns in order, each
 * scalar as a JSON string of its canonical text, `struct` and `list` values as JSON, null as null)
 * for the validation engine. A file whose columns do not convert is rejected whole with the diff.
 */

/** A declared type: a column, a struct's field or a list's item. */
interface TypeSpec {
  kind: ColumnKind;
  scale?: number;
  precision?: number;
  fields?: readonly FieldSpec[];
  items?: TypeSpec;
}

interface FieldSpec extends TypeSpec {
  name: string;
  nullable?: boolean;
}

/** SQL turning a value (the expression given) of the file's type into its canonical form. */
type ValueSql = (expr: string) => string;

interface Conversion {
  /** the canonical text (VARCHAR): a top-level scalar */
  text: ValueSql;
  /** the value inside a struct or list, of a type COPY writes as JSON exactly (decimals as written, no double on the way) */
  nested: ValueSql;
}

const TIMESTAMP_FORMAT = `'%Y-%m-%dT%H:%M:%S.%fZ'`;

const asText: ValueSql = (e) => `CAST(${e} AS VARCHAR)`;
const same: ValueSql = (e) => e;
const both = (sql: ValueSql): Conversion => ({ text: sql, nested: sql });

const { TINYINT, SMALLINT, INTEGER, BIGINT, UTINYINT, USMALLINT, UINTEGER, UBIGINT, HUGEINT, UHUGEINT } = DuckDBTypeId;

/** The most decimal digits an integer type's values have. */
const INTEGER_DIGITS = new Map<DuckDBTypeId, number>([
  [TINYINT, 3],
  [SMALLINT, 5],
  [INTEGER, 10],
  [BIGINT, 19],
  [UTINYINT, 3],
  [USMALLINT, 5],
  [UINTEGER, 10],
  [UBIGINT, 20],
  [HUGEINT, 39],
  [UHUGEINT, 39],
]);
/** integer types whose every value is a BIGINT */
const BIGINT_RANGE = new Set([TINYINT, SMALLINT, INTEGER, BIGINT, UTINYINT, USMALLINT, UINTEGER]);
/** integer types whose every value is a double exactly (32 bits at most) */
const DOUBLE_EXACT = new Set([TINYINT, SMALLINT, INTEGER, UTINYINT, USMALLINT, UINTEGER]);

const DEFAULT_PRECISION = 18;

/** `decimal(18,2)`, `integer`, … as the dataset declares it. */
function declared(spec: TypeSpec): string {
  return spec.kind === 'decimal' ? `decimal(${spec.precision ?? DEFAULT_PRECISION},${spec.scale ?? 0})` : spec.kind;
}

/** How a scalar of the file's type becomes the declared kind, or why it cannot without loss ('' when it does not convert at all). */
function scalarConversion(type: DuckDBType, spec: TypeSpec): Conversion | { why: string } {
  const id = type.typeId;
  switch (spec.kind) {
    case 'string':
      if (id === DuckDBTypeId.VARCHAR) return both(same);
      if (id === DuckDBTypeId.UUID || id === DuckDBTypeId.ENUM) return both(asText);
      return { why: '' };
    case 'integer':
      if (BIGINT_RANGE.has(id)) return { text: asText, nested: (e) => `CAST(${e} AS BIGINT)` };
      if (id === DuckDBTypeId.DECIMAL && type.scale === 0) {
        // a DECIMAL(p,0) of up to 18 digits (DMS writes Oracle's NUMBER(p) so) is a BIGINT
        if (type.width <= 18) return { text: asText, nested: (e) => `CAST(${e} AS BIGINT)` };
        return { why: '(values may exceed the 64-bit integer range)' };
      }
      if (INTEGER_DIGITS.has(id)) return { why: '(values may exceed the 64-bit integer range)' };
      if (id === DuckDBTypeId.DECIMAL || id === DuckDBTypeId.FLOAT || id === DuckDBTypeId.DOUBLE) return { why: '(would lose the fraction)' };
      return { why: '' };
    case 'decimal': {
      const precision = spec.precision ?? DEFAULT_PRECISION;
      const scale = spec.scale ?? 0;
      const digits = INTEGER_DIGITS.get(id);
      if (digits !== undefined) return digits <= precision - scale ? { text: asText, nested: same } : { why: `(values may not fit ${declared(spec)})` };
      if (id === DuckDBTypeId.DECIMAL) {
        if (type.scale > scale) return { why: '(would lose precision)' };
        if (type.width - type.scale > precision - scale) return { why: `(values may not fit ${declared(spec)})` };
        return { text: asText, nested: same };
      }
      if (id === DuckDBTypeId.FLOAT || id === DuckDBTypeId.DOUBLE) return { why: '(would lose precision)' };
      return { why: '' };
    }
    case 'double':
      // DuckDB prints a double as the shortest text that reads back the same (1e+300, 1.5e-07,
      // 100.0): JavaScript's Number reads it so too. inf and nan come out as such: a bad row.
      if (id === DuckDBTypeId.DOUBLE) return { text: asText, nested: same };
      // a FLOAT's exact value as a double (0.1f is 0.10000000149011612), not its shortest float text
      if (id === DuckDBTypeId.FLOAT) return { text: (e) => `CAST(CAST(${e} AS DOUBLE) AS VARCHAR)`, nested: (e) => `CAST(${e} AS DOUBLE)` };
      if (DOUBLE_EXACT.has(id)) return { text: asText, nested: same };
      if (INTEGER_DIGITS.has(id) || id === DuckDBTypeId.DECIMAL) return { why: '(would lose precision)' };
      return { why: '' };
    case 'boolean':
      // BOOLEAN as text is true or false
      return id === DuckDBTypeId.BOOLEAN ? { text: asText, nested: same } : { why: '' };
    case 'date':
      // YYYY-MM-DD; a date the engine cannot take (infinity, a BC date, a year past 9999) stays visibly so: a bad row
      return id === DuckDBTypeId.DATE ? both(asText) : { why: '' };
    case 'timestamp':
      if (id === DuckDBTypeId.TIMESTAMP || id === DuckDBTypeId.TIMESTAMP_MS || id === DuckDBTypeId.TIMESTAMP_S) {
        return both((e) => `strftime(CAST(${e} AS TIMESTAMP), ${TIMESTAMP_FORMAT})`);
      }
      // an instant: written in UTC whatever the session's time zone
      if (id === DuckDBTypeId.TIMESTAMP_TZ) return both((e) => `strftime(timezone('UTC', ${e}), ${TIMESTAMP_FORMAT})`);
      if (id === DuckDBTypeId.TIMESTAMP_NS) return { why: '(nanoseconds would be truncated to microseconds)' };
      return { why: '' };
    case 'time':
      if (id === DuckDBTypeId.TIME) return both(asText);
      if (id === DuckDBTypeId.TIME_NS) return { why: '(nanoseconds would be truncated to microseconds)' };
      return { why: '' };
    default:
      return { why: '' };
  }
}

/** A name as a reason shows it: plain, or quoted when it holds other characters. */
function shown(name: string): string {
  return /^[A-Za-z0-9_]+$/.test(name) ? name : JSON.stringify(name);
}

/** `missing required x`, noting a name that differs only in case (Parquet names are case-sensitive). */
function missing(path: string, required: boolean, caseMatch: string | undefined): string {
  const hint = caseMatch === undefined ? '' : ` (the file has ${shown(caseMatch)}; names are case-sensitive)`;
  return `missing ${required ? 'required ' : ''}${path}${hint}`;
}

/** A column of the file, by its own name (any name a Parquet writer gave it, quotes included). */
function fileColumn(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A file column or struct entry of the same name but for case. */
function caseInsensitiveMatch(names: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return names.find((n) => n.toLowerCase() === lower);
}

/**
 * The SQL of a declared value read from the file's type, as a nested value (`nested`) or as the
 * canonical text of a top-level scalar; null after pushing to `differences` why it does not convert.
 * `depth` names the list lambdas' variables apart.
 */
function valueSql(type: DuckDBType, spec: TypeSpec, path: string, nested: boolean, depth: number, differences: string[]): ValueSql | null {
  const mismatch = (why: string) => {
    differences.push(`${path} is ${type.toString()}, declared ${declared(spec)}${why ? ` ${why}` : ''}`);
    return null;
  };
  if (spec.kind === 'struct') {
    if (type.typeId !== DuckDBTypeId.STRUCT) return mismatch('');
    const fields: Array<{ name: string; sql: ValueSql | null }> = [];
    let fits = true;
    for (const field of spec.fields ?? []) {
      const at = `${path}.${field.name}`;
      if (!Object.hasOwn(type.entryIndexes, field.name)) {
        const caseMatch = caseInsensitiveMatch(type.entryNames, field.name);
        if (!field.nullable || caseMatch !== undefined) {
          differences.push(missing(at, !field.nullable, caseMatch));
          fits = false;
        }
        fields.push({ name: field.name, sql: null });
        continue;
      }
      const sql = valueSql(type.typeForEntry(field.name), field, at, true, depth, differences);
      if (sql === null) fits = false;
      else fields.push({ name: field.name, sql });
    }
    if (!fits) return null;
    return (e) => {
      const entries = fields.map(({ name, sql }) => `${quoteIdentifier(name)} := ${sql ? sql(`struct_extract(${e}, ${sqlString(name)})`) : 'NULL'}`);
      return `CASE WHEN ${e} IS NULL THEN NULL ELSE struct_pack(${entries.join(', ')}) END`;
    };
  }
  if (spec.kind === 'list') {
    if (type.typeId !== DuckDBTypeId.LIST && type.typeId !== DuckDBTypeId.ARRAY) return mismatch('');
    const item = valueSql(type.valueType, spec.items ?? { kind: 'string' }, `${path}[]`, true, depth + 1, differences);
    if (item === null) return null;
    const x = `x${depth}`;
    return (e) => `list_transform(${e}, lambda ${x}: ${item(x)})`;
  }
  const conversion = scalarConversion(type, spec);
  if ('why' in conversion) return mismatch(conversion.why);
  return nested ? conversion.nested : conversion.text;
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

interface ParquetColumn {
  name: string;
  type: DuckDBType;
}

/** DuckDB's errors for bytes that are not (or no longer) Parquet: no footer, bad metadata, pages that do not decompress. */
const UNREADABLE = /^(?:Invalid Input Error|Invalid Error): /;

/**
 * Runs a query reading the Parquet file: DuckDB finding the file itself invalid (truncated,
 * corrupt) rejects the file; any other error (no such file, out of memory, a full disk) is thrown.
 */
async function readingParquet<T>(parquetPath: string, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (!(error instanceof Error) || !UNREADABLE.test(error.message)) throw error;
    // the first line, without the class nor the local path (the landed object is the file's name)
    const what = error.message.split('\n')[0]!.replace(UNREADABLE, '').replaceAll(` '${parquetPath}'`, '').replaceAll(` "${parquetPath}"`, '');
    throw new FeedRejection(`not a readable Parquet file: ${what.trim()}`);
  }
}

/** The file's columns and types, from its footer alone (no row is read). */
async function parquetColumns(conn: DuckDBConnection, parquetPath: string): Promise<ParquetColumn[]> {
  const result = await readingParquet(parquetPath, () => conn.runAndReadAll('SELECT * FROM read_parquet($path) LIMIT 0', { path: parquetPath }));
  const types = result.columnTypes();
  return result.columnNames().map((name, i) => ({ name, type: types[i]! }));
}

/**
 * Matches the Parquet file's columns to the dataset's: by exact name (a name differing only in
 * case is a difference, named so: DMS upper-cases names), each type converting to the declared kind
 * without loss, struct fields recursively (extra fields ignored), list items likewise. A missing
 * nullable column is null; an extra column is a difference under `schemaPolicy: strict`, ignored
 * under `additive`. Returns the SELECT list writing each declared column's canonical value (as
 * the column's name, in declared order) over `read_parquet`, or the diff: every difference in one
 * reason. Throws FeedRejection when the file is not readable Parquet.
 */
export async function parquetColumnDiff(conn: DuckDBConnection, parquetPath: string, dataset: DatasetConfig): Promise<{ select: string[] } | { diff: string }> {
  const columns = await parquetColumns(conn, parquetPath);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const names = columns.map((c) => c.name);
  const differences: string[] = [];
  const select: string[] = [];
  /** file columns named in a difference already (a case-insensitive match) */
  const named = new Set<string>();
  for (const column of dataset.columns) {
    const alias = quoteIdentifier(column.name);
    // the file's column: the declared name, or the one `path` gives (DMS writes CUSTOMER_ID)
    const source = column.path ?? column.name;
    const found = byName.get(source);
    if (found === undefined) {
      const caseMatch = caseInsensitiveMatch(names, source);
      if (caseMatch !== undefined) named.add(caseMatch);
      // a column that is there under another case is never silently null
      if (!column.nullable || caseMatch !== undefined) differences.push(missing(source, !column.nullable, caseMatch));
      select.push(`NULL AS ${alias}`);
      continue;
    }
    const sql = valueSql(found.type, column, source, false, 0, differences);
    if (sql !== null) select.push(`${sql(fileColumn(source))} AS ${alias}`);
  }
  if ((dataset.schemaPolicy ?? 'strict') === 'strict') {
    const declaredNames = new Set(dataset.columns.map((c) => c.path ?? c.name));
    const extra = names.filter((n) => !declaredNames.has(n) && !named.has(n));
    if (extra.length > 0) differences.push(`extra column${extra.length > 1 ? 's' : ''} ${extra.map(shown).join(', ')} (schemaPolicy strict)`);
  }
  if (differences.length > 0) return { diff: `columns differ from dataset ${dataset.name}: ${differences.join('; ')}` };
  return { select };
}

/**
 * Writes a Parquet file's rows as canonical JSON lines to `outPath` (one object per row, the
 * declared columns in order) and returns how many. Throws FeedRejection with the column diff when
 * the columns do not convert, or when the file is not readable Parquet. Row order is the file's
 * when the connection preserves insertion order (openDuckDb's `preserveOrder`).
 */
export async function parquetToCanonical(conn: DuckDBConnection, parquetPath: string, outPath: string, dataset: DatasetConfig): Promise<{ rows: number }> {
  const match = await parquetColumnDiff(conn, parquetPath, dataset);
  if ('diff' in match) throw new SchemaMismatch(match.diff);
  const copied = await readingParquet(parquetPath, () =>
    conn.runAndReadAll(`COPY (SELECT ${match.select.join(', ')} FROM read_parquet($path)) TO $out (FORMAT json)`, { path: parquetPath, out: outPath }),
  );
  return { rows: Number(copied.getRows()[0]![0]) };
}
