import { VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { LandfallError } from '../../core/errors';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** read_parquet expands these even in a bound path: `[ab].parquet` would read a.parquet and b.parquet. */
const GLOB_CHARACTERS = /[*?[]/;
/** the parameter that carries the output path; a job's SQL may not use this name */
const OUTPUT_PARAM = 'landfall_output_path';

export interface SqlTransformRequest {
  /** the SQL text: one SELECT (a header comment and a trailing semicolon are fine) */
  sql: string;
  /** relation name → local Parquet file paths (at least one per relation) */
  inputs: Record<string, string[]>;
  /** named parameters of the SQL ($name), bound, never spliced */
  params: Record<string, string | number>;
  /** the one Parquet file (zstd) the result is written to */
  outputPath: string;
}

/** A relation of the request has no input file: its columns, and so an empty result, are unknowable. */
export class MissingInputError extends LandfallError {
  override readonly name = 'MissingInputError';
  readonly code = 'INPUT_MISSING';
  constructor(readonly relation: string) {
    super(`input relation "${relation}" has no Parquet files: at least one file is required`);
  }
}

/** A request that can never succeed as written (unsafe name, glob path, parameter mismatch). */
export class InvalidTransformRequestError extends LandfallError {
  override readonly name = 'InvalidTransformRequestError';
  readonly code = 'TRANSFORM_REQUEST_INVALID';
  /** on a parameter mismatch: the names the SQL uses that the request lacks, and those it gives that the SQL never uses */
  readonly parameters?: { missing: string[]; unused: string[] };
  constructor(message: string, options?: ErrorOptions & { parameters?: { missing: string[]; unused: string[] } }) {
    super(message, options);
    if (options?.parameters) this.parameters = options.parameters;
  }
}

/**
 * The line of the SQL text that a line of the statement run (DuckDB's "LINE n:") is on: the
 * statement is `COPY (` on a line of its own, then the text trimmed (see asSubquery). Below 1 or past
 * the text's end when DuckDB points at the wrapper (an unfinished statement).
 */
export function sqlTextLine(sql: string, statementLine: number): number {
  const leading = /^\s*/.exec(sql)![0].split('\n').length - 1;
  return statementLine - 1 + leading;
}

function quoteIdentifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) throw new InvalidTransformRequestError(`${what}: not a safe identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/**
 * A path as a SQL string literal: quotes doubled (DuckDB's standard strings have no backslash
 * escapes, so nothing else is special); control characters are refused outright.
 */
export function sqlStringLiteral(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f]/.test(path)) throw new InvalidTransformRequestError(`input path contains a control character: ${JSON.stringify(path)}`);
  return `'${path.replaceAll("'", "''")}'`;
}

/** The SQL as a COPY sub-query: trailing semicolons go, and newlines keep a trailing `--` comment inside. */
function asSubquery(sql: string): string {
  const body = sql.trim().replace(/(;\s*)+$/, '');
  if (body === '') throw new InvalidTransformRequestError('the SQL text is empty');
  return `(\n${body}\n)`;
}

/**
 * Rethrows DuckDB's error with `sqlLine`, the line of the SQL text its "LINE n:" points at (n counts
 * the statement's lines, not the text's): the configuration check names the file's line with it.
 * The error itself (its class, its message) is DuckDB's, unchanged.
 */
function withSqlLine(sql: string): (err: unknown) => never {
  return (err) => {
    const at = err instanceof Error ? /\bLINE (\d+):/.exec(err.message) : null;
    if (at) Object.assign(err as Error, { sqlLine: sqlTextLine(sql, Number(at[1])) });
    throw err;
  };
}

/**
 * Runs one SQL transform on local Parquet files with DuckDB: each input relation becomes a TEMP
 * view over its files (hive partitioning is
 * off so `dt=…/province=…/` directories add no columns), then the SQL's result is COPied to one zstd
 * Parquet file with the request's named parameters. The temp views are replaced on every call and
 * dropped afterwards, so the same connection can run any number of transforms.
 * Returns the number of rows written. No AWS here: the caller moves the files.
 */
export async function runSqlTransform(conn: DuckDBConnection, req: SqlTransformRequest): Promise<{ rows: number }> {
  const relations = Object.entries(req.inputs).map(([name, paths]) => {
    const quoted = quoteIdentifier(name, 'input relation name');
    if (paths.length === 0) throw new MissingInputError(name);
    const globbed = paths.find((p) => GLOB_CHARACTERS.test(p));
    if (globbed !== undefined)
      throw new InvalidTransformRequestError(`input path of "${name}" contains a glob character (*, ? or [): ${JSON.stringify(globbed)}`);
    return { quoted, paths };
  });
  for (const name of Object.keys(req.params)) {
    quoteIdentifier(name, 'parameter name');
    if (name === OUTPUT_PARAM) throw new InvalidTransformRequestError(`parameter name "${OUTPUT_PARAM}" is reserved for the output path`);
  }

  const created: string[] = [];
  try {
    for (const { quoted, paths } of relations) {
      // A view, not a table: the SQL's filters and columns reach the Parquet scan, and nothing is
      // copied into DuckDB's memory first (a 5 GB batch would spill). A view cannot take bound
      // parameters, so the paths are spliced as quoted literals (see sqlStringLiteral).
      // union_by_name: a column a dataset gained (schemaPolicy additive) reads as null in the older files.
      await conn.run(
        `CREATE OR REPLACE TEMP VIEW ${quoted} AS SELECT * FROM read_parquet([${paths.map(sqlStringLiteral).join(', ')}], hive_partitioning = false, union_by_name = true)`,
      );
      created.push(quoted);
    }

    const statement = await conn.prepare(`COPY ${asSubquery(req.sql)} TO $${OUTPUT_PARAM} (FORMAT parquet, COMPRESSION zstd)`).catch(withSqlLine(req.sql));
    try {
      const expected = new Set<string>();
      for (let i = 1; i <= statement.parameterCount; i += 1) expected.add(statement.parameterName(i));
      expected.delete(OUTPUT_PARAM);
      const given = new Set(Object.keys(req.params));
      const missing = [...expected].filter((p) => !given.has(p));
      const unused = [...given].filter((p) => !expected.has(p));
      if (missing.length > 0 || unused.length > 0) {
        throw new InvalidTransformRequestError(
          `parameters do not match the SQL: ${[missing.length > 0 ? `missing ${missing.map((p) => `$${p}`).join(', ')}` : '', unused.length > 0 ? `not used ${unused.map((p) => `$${p}`).join(', ')}` : ''].filter(Boolean).join('; ')}`,
          { parameters: { missing, unused } },
        );
      }
      const values: Record<string, DuckDBValue> = { ...req.params, [OUTPUT_PARAM]: req.outputPath };
      const types: Record<string, DuckDBType> = { [OUTPUT_PARAM]: VARCHAR };
      statement.bind(values, types);
      const result = await statement.runAndReadAll().catch(withSqlLine(req.sql));
      // COPY answers with one row, one column: the number of rows written.
      return { rows: Number(result.getRows()[0]?.[0] ?? 0) };
    } finally {
      statement.destroySync();
    }
  } finally {
    for (const quoted of created) await conn.run(`DROP VIEW IF EXISTS temp.main.${quoted}`);
  }
}
