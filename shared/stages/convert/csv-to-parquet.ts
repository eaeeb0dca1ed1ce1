import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSpec } from '../../core/config/types';
import { duckdbType, fromJsonSql, isNested, quoteIdentifier } from '../../core/duckdb/columns';
import { maxValidatedLineBytes } from '../../core/datasets/line-limits';

/**
 * The lineage columns convert appends to every row (constant per file): each key field as
 * `key_<field>`, the landed object's key and version.
 */
export function lineageColumns(fields: Record<string, string>, source: { key: string; versionTag: string }): Array<[string, string]> {
  return [...Object.entries(fields).map(([k, v]): [string, string] => [`key_${k}`, v]), ['source_key', source.key], ['source_version_id', source.versionTag]];
}

export interface ConvertRequest {
  csvPath: string;
  parquetPath: string;
  columns: ColumnSpec[];
  /** constant VARCHAR columns appended to every row (the key's fields, the source version) */
  constants: Array<[string, string]>;
}

export interface SelectToParquet {
  /** a query whose rows are the file's good rows; it may read the bound parameter `$path` */
  from: string;
  /** the dataset's columns, as SQL over `from`'s columns */
  select: string[];
  /** the file (or pipe) `from` reads */
  path: string;
  parquetPath: string;
  constants: Array<[string, string]>;
}

/**
 * Rows of a query → zstd Parquet, with the constant lineage columns appended. File paths and
 * constant values are bound parameters. Returns the rows written (COPY's count).
 */
export async function selectToParquet(conn: DuckDBConnection, req: SelectToParquet): Promise<number> {
  // Each constant is a one-value ENUM: DuckDB writes it as a dictionary it already knows instead of
  // hashing the same string on every row (+75 % of the conversion time for six lineage columns at
  // 100 MB). Parquet readers see VARCHAR. The value is bound, never spliced.
  const enumTypes = req.constants.map((_, i) => `landfall_constant_${i}`);
  const selectColumns = [...req.select, ...req.constants.map(([name], i) => `CAST($c${i}::VARCHAR AS ${enumTypes[i]}) AS ${quoteIdentifier(name)}`)].join(', ');
  for (const [i, [, value]] of req.constants.entries()) {
    await conn.run(`DROP TYPE IF EXISTS ${enumTypes[i]}`);
    await conn.run(`CREATE TYPE ${enumTypes[i]} AS ENUM (SELECT $1::VARCHAR)`, [value]);
  }
  const constants = Object.fromEntries(req.constants.map(([, v], i) => [`c${i}`, v]));
  try {
    // COPY answers the rows it wrote: the Parquet need not be read back to count them
    const copied = await conn.runAndReadAll(
      `COPY (SELECT ${selectColumns} FROM (${req.from})) TO $parquet (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
      { path: req.path, parquet: req.parquetPath, ...constants },
    );
    return Number(copied.getRows()[0]![0]);
  } finally {
    for (const type of enumTypes) await conn.run(`DROP TYPE IF EXISTS ${type}`);
  }
}

/**
 * Validated CSV (the JavaScript validation's good rows) → zstd Parquet with an explicit schema (no
 * type sniffing). A struct or list column's values are JSON text, read as its nested type (real
 * Parquet structs and lists). Returns the Parquet row count.
 */
export async function csvToParquet(conn: DuckDBConnection, req: ConvertRequest): Promise<number> {
  const columnTypes = req.columns.map((c) => `'${c.name}': '${isNested(c) ? 'VARCHAR' : duckdbType(c)}'`).join(', ');
  const select = req.columns.map((c) => (isNested(c) ? `${fromJsonSql(quoteIdentifier(c.name), c)} AS ${quoteIdentifier(c.name)}` : quoteIdentifier(c.name)));
  // Every line validate accepts must fit DuckDB's line buffer (its default, 2,000,000 bytes, is less
  // than a validated 1 MiB line of quotes): sized from validate's own limit, a trusted integer.
  const maxLineSize = maxValidatedLineBytes(req.columns.length);
  const from = `SELECT * FROM read_csv($path, header = true, delim = ',', quote = '"', escape = '"', auto_detect = false, max_line_size = ${maxLineSize}, columns = {${columnTypes}})`;
  return selectToParquet(conn, { from, select, path: req.csvPath, parquetPath: req.parquetPath, constants: req.constants });
}
