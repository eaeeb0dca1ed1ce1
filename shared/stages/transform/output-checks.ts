import type { DuckDBConnection } from '@duckdb/node-api';
import { type CheckMeasure, type CheckQuery, OUTPUT_VIEW, checkQuery, checkResult, missingRead, quoteName } from '../../core/checks/check-queries';
import type { OutputCheck } from '../../core/config/types';
import type { OutputCheckResult } from '../../core/runs/job-run-store';
import { InvalidTransformRequestError, sqlStringLiteral } from './run-sql';

export type { OutputCheckResult } from '../../core/runs/job-run-store';

export { SAMPLE_ROWS } from '../../core/checks/check-queries';
const OUTPUT = OUTPUT_VIEW;

export interface OutputCheckRequest {
  /** the staged output Parquet (the last stage's result, not yet published) */
  outputPath: string;
  /** the run's input relations → their local Parquet files */
  inputs: Record<string, string[]>;
  /** the row count of the batch's previous partition, when there is one */
  previousRows?: number;
}

const quote = (name: string) => quoteName(name, 'duckdb');

/** What DuckDB measures for one check: the failing rows' count and first rows, or the one facts row. */
async function measure(conn: DuckDBConnection, query: CheckQuery): Promise<CheckMeasure> {
  if (query.kind === 'facts') return { facts: ((await conn.runAndReadAll(query.facts!)).getRowObjectsJson()[0] ?? {}) as Record<string, unknown> };
  const failing = Number((await conn.runAndReadAll(query.count!)).getRows()[0]?.[0] ?? 0);
  if (failing === 0) return { failing, sample: [] };
  return { failing, sample: (await conn.runAndReadAll(query.sample!)).getRowObjectsJson() as Record<string, unknown>[] };
}

/** The columns of a relation (its view). */
async function columnsOf(conn: DuckDBConnection, relation: string): Promise<string[]> {
  return (await conn.runAndReadAll(`DESCRIBE ${quote(relation)}`)).getRowObjects().map((r) => String(r.column_name));
}

/** One check, run: passed when no row fails. A check that cannot run as written throws. */
async function runCheck(conn: DuckDBConnection, check: OutputCheck, req: OutputCheckRequest, columns: Map<string, string[]>): Promise<OutputCheckResult> {
  const query = checkQuery(check, 'duckdb', req.previousRows !== undefined ? String(req.previousRows) : 'NULL');
  const missing = missingRead(query, (relation) => columns.get(relation));
  if (missing) throw new InvalidTransformRequestError(missing);
  return checkResult(check, await measure(conn, query));
}

/**
 * Runs a job's checks on its staged output with DuckDB (no AWS): the output is the view `output`
 * and each input relation a view over the files the run read, so a check sees exactly what the
 * SQL saw. Each rule is one query whose rows are the failures. Returns every check's result, in
 * the configuration's order; a check that cannot run as written (a column the output lacks, an
 * expression DuckDB cannot bind) throws InvalidTransformRequestError naming it: that is the
 * configuration's problem, not the data's. The views are dropped afterwards.
 */
export async function runOutputChecks(conn: DuckDBConnection, checks: OutputCheck[], req: OutputCheckRequest): Promise<OutputCheckResult[]> {
  const views = [[OUTPUT, [req.outputPath]] as const, ...Object.entries(req.inputs)];
  const created: string[] = [];
  try {
    for (const [name, paths] of views) {
      await conn.run(
        `CREATE OR REPLACE TEMP VIEW ${quote(name)} AS SELECT * FROM read_parquet([${paths.map(sqlStringLiteral).join(', ')}], hive_partitioning = false)`,
      );
      created.push(name);
    }
    const columns = new Map<string, string[]>();
    for (const name of created) columns.set(name, await columnsOf(conn, name));
    const results: OutputCheckResult[] = [];
    for (const check of checks) {
      try {
        results.push(await runCheck(conn, check, req, columns));
      } catch (err) {
        if (err instanceof InvalidTransformRequestError) throw err;
        // DuckDB's binder or parser: the check's SQL or expression is wrong, whatever the data
        throw new InvalidTransformRequestError(`check "${check.name}" cannot run: ${(err as Error).message.split('\n')[0]}`, { cause: err });
      }
    }
    return results;
  } finally {
    for (const name of created) await conn.run(`DROP VIEW IF EXISTS temp.main.${quote(name)}`);
  }
}

/** The results an `error` check failed (the run publishes nothing), and the `warn` ones. */
export function failedChecks(results: OutputCheckResult[]): { errors: OutputCheckResult[]; warnings: OutputCheckResult[] } {
  const failed = results.filter((r) => !r.passed);
  return { errors: failed.filter((r) => r.severity === 'error'), warnings: failed.filter((r) => r.severity === 'warn') };
}
