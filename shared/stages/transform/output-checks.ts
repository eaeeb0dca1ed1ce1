import type { DuckDBConnection } from '@duckdb/node-api';
import type { OutputCheck, OutputCheckRule } from '../../core/config/types';
import type { OutputCheckResult } from '../../core/runs/job-run-store';
import { InvalidTransformRequestError, sqlStringLiteral } from './run-sql';

export type { OutputCheckResult } from '../../core/runs/job-run-store';

/** How many failing rows a result keeps (and an alert shows). */
export const SAMPLE_ROWS = 10;
/** A sampled string longer than this is cut: results live on the run item (DynamoDB, 400 KB). */
const SAMPLE_VALUE_CHARS = 200;
/** The relation a check reads the output as (config's OUTPUT_RELATION). */
const OUTPUT = 'output';

export interface OutputCheckRequest {
  /** the staged output Parquet (the last stage's result, not yet published) */
  outputPath: string;
  /** the run's input relations → their local Parquet files */
  inputs: Record<string, string[]>;
  /** the row count of the batch's previous partition, when there is one */
  previousRows?: number;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const ruleOf = (check: OutputCheck): OutputCheckRule =>
  (['unique', 'notNull', 'acceptedValues', 'referential', 'rowCount', 'reconcile', 'sql'] as const).find((r) => check[r] !== undefined)!;

/** A sampled row as JSON values, long strings cut. */
function sampleRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && v.length > SAMPLE_VALUE_CHARS ? `${v.slice(0, SAMPLE_VALUE_CHARS)}…` : (v ?? null)]),
  );
}

/** The failing rows a query returns: their count and the first SAMPLE_ROWS. */
async function failingRows(conn: DuckDBConnection, sql: string, orderBy?: string): Promise<{ failing: number; sample: Record<string, unknown>[] }> {
  const body = sql.trim().replace(/(;\s*)+$/, '');
  const failing = Number((await conn.runAndReadAll(`SELECT count(*) FROM (\n${body}\n)`)).getRows()[0]?.[0] ?? 0);
  if (failing === 0) return { failing, sample: [] };
  const rows = (await conn.runAndReadAll(`SELECT * FROM (\n${body}\n) ${orderBy ? `ORDER BY ${orderBy} ` : ''}LIMIT ${SAMPLE_ROWS}`)).getRowObjectsJson();
  return { failing, sample: rows.map((r) => sampleRow(r as Record<string, unknown>)) };
}

/** The columns of a relation (its view). */
async function columnsOf(conn: DuckDBConnection, relation: string): Promise<string[]> {
  return (await conn.runAndReadAll(`DESCRIBE ${quote(relation)}`)).getRowObjects().map((r) => String(r.column_name));
}

/** A bound a count must keep, in words, or undefined when it keeps it. */
function broken(value: number, min: number | undefined, max: number | undefined, what: string): string | undefined {
  if (min !== undefined && value < min) return `${what} ${format(value)} < ${format(min)}`;
  if (max !== undefined && value > max) return `${what} ${format(value)} > ${format(max)}`;
  return undefined;
}
const format = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, ''));

/** One check, run: passed when no row fails. A check that cannot run as written throws. */
async function runCheck(conn: DuckDBConnection, check: OutputCheck, req: OutputCheckRequest, output: string[]): Promise<OutputCheckResult> {
  const rule = ruleOf(check);
  const result = (failing: number, sample: Record<string, unknown>[], detail?: string): OutputCheckResult => ({
    rule,
    name: check.name,
    severity: check.severity,
    passed: failing === 0,
    failing,
    sample,
    ...(detail ? { detail } : {}),
  });
  const column = (name: string, relation = OUTPUT, known = output) => {
    if (!known.includes(name))
      throw new InvalidTransformRequestError(`check "${check.name}": the ${relation} has no column "${name}" (it has ${known.join(', ')})`);
    return quote(name);
  };
  switch (rule) {
    case 'unique': {
      const cols = check.unique!.map((c) => column(c)).join(', ');
      const found = await failingRows(conn, `SELECT ${cols}, CAST(count(*) AS INTEGER) AS copies FROM ${OUTPUT} GROUP BY ${cols} HAVING count(*) > 1`, cols);
      return result(found.failing, found.sample);
    }
    case 'notNull': {
      const cols = check.notNull!.map((c) => column(c));
      const found = await failingRows(conn, `SELECT * FROM ${OUTPUT} WHERE ${cols.map((c) => `${c} IS NULL`).join(' OR ')}`);
      return result(found.failing, found.sample);
    }
    case 'acceptedValues': {
      const { column: name, values } = check.acceptedValues!;
      const col = column(name);
      const found = await failingRows(
        conn,
        `SELECT * FROM ${OUTPUT} WHERE ${col} IS NOT NULL AND CAST(${col} AS VARCHAR) NOT IN (${values.map(sqlStringLiteral).join(', ')})`,
      );
      return result(found.failing, found.sample);
    }
    case 'referential': {
      const { column: name, relation, relationColumn } = check.referential!;
      if (!req.inputs[relation]) throw new InvalidTransformRequestError(`check "${check.name}": the run has no input relation "${relation}"`);
      const col = column(name);
      const other = column(relationColumn, `input ${relation}`, await columnsOf(conn, relation));
      const found = await failingRows(
        conn,
        `SELECT o.* FROM ${OUTPUT} AS o WHERE o.${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${quote(relation)} AS r WHERE r.${other} = o.${col})`,
      );
      return result(found.failing, found.sample);
    }
    case 'rowCount': {
      const bounds = check.rowCount!;
      const rows = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${OUTPUT}`)).getRows()[0]![0]);
      const facts: Record<string, unknown> = { rows };
      const problems: string[] = [];
      const absolute = broken(rows, bounds.min, bounds.max, 'rows');
      if (absolute) problems.push(absolute);
      if (bounds.minRatioOfPrevious !== undefined || bounds.maxRatioOfPrevious !== undefined) {
        // a batch's first run has nothing to compare with: the bound passes
        if (req.previousRows !== undefined && req.previousRows > 0) {
          facts.previousRows = req.previousRows;
          const r = rows / req.previousRows;
          const off = broken(r, bounds.minRatioOfPrevious, bounds.maxRatioOfPrevious, `ratio to the previous partition's ${req.previousRows} rows`);
          if (off) problems.push(off);
        }
      }
      if (bounds.input !== undefined) {
        if (!req.inputs[bounds.input]) throw new InvalidTransformRequestError(`check "${check.name}": the run has no input relation "${bounds.input}"`);
        const inputRows = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${quote(bounds.input)}`)).getRows()[0]![0]);
        facts.inputRows = inputRows;
        const r = inputRows === 0 ? (rows === 0 ? 1 : Number.POSITIVE_INFINITY) : rows / inputRows;
        const off = broken(r, bounds.minRatioOfInput, bounds.maxRatioOfInput, `ratio to ${bounds.input}'s ${inputRows} rows`);
        if (off) problems.push(off);
      }
      return result(problems.length > 0 ? 1 : 0, problems.length > 0 ? [facts] : [], problems.join('; ') || `${rows} rows`);
    }
    case 'reconcile': {
      const { output: outputTotal, input, tolerance } = check.reconcile!;
      if (!req.inputs[input.relation]) throw new InvalidTransformRequestError(`check "${check.name}": the run has no input relation "${input.relation}"`);
      const [row] = (
        await conn.runAndReadAll(
          `SELECT CAST((SELECT ${outputTotal} FROM ${OUTPUT}) AS DOUBLE) AS output_total, CAST((SELECT ${input.expression} FROM ${quote(input.relation)}) AS DOUBLE) AS input_total`,
        )
      ).getRowObjectsJson() as Array<{ output_total: number | null; input_total: number | null }>;
      const out = row?.output_total ?? null;
      const inp = row?.input_total ?? null;
      const difference = out === null || inp === null ? null : Math.abs(out - inp);
      // a total of no rows (null) reconciles only with another total of no rows
      const passed = difference === null ? out === inp : difference <= tolerance;
      const detail = `output ${outputTotal} = ${out}, ${input.relation} ${input.expression} = ${inp}${difference === null ? '' : `, difference ${format(difference)} (tolerance ${format(tolerance)})`}`;
      return result(passed ? 0 : 1, passed ? [] : [{ output_total: out, input_total: inp, difference }], detail);
    }
    case 'sql': {
      const found = await failingRows(conn, check.sql!);
      return result(found.failing, found.sample);
    }
  }
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
    const output = await columnsOf(conn, OUTPUT);
    const results: OutputCheckResult[] = [];
    for (const check of checks) {
      try {
        results.push(await runCheck(conn, check, req, output));
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
