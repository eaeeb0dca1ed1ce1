import type { OutputCheck, OutputCheckRule } from '../config/types';
import type { OutputCheckResult } from '../runs/job-run-store';

/**
 * The output checks' rules as SQL, for both engines (docs/checks.md): DuckDB runs them in the
 * transform, Spark in the EMR step (the queries travel to it as data, spark/landfall_jobs/checks.py
 * only executes them). Each rule is one query over the view `output` and the input relations; the
 * dialects differ only in quoting, string literals and one type name. What the queries return is
 * turned into a result here too, so both engines give the same results. On a job writing several
 * tables a check names its `table`: its query still reads `output`, which the engine makes that
 * table's staged batch partition while the query runs (and `landfall_previous` its published one).
 */
export type CheckDialect = 'duckdb' | 'spark';

/** How many failing rows a result keeps (and an alert shows). */
export const SAMPLE_ROWS = 10;
/** A sampled string longer than this is cut: results live on the run item (DynamoDB, 400 KB). */
const SAMPLE_VALUE_CHARS = 200;
/** The view a check reads the output as (config's OUTPUT_RELATION). */
export const OUTPUT_VIEW = 'output';
/** The view Spark reads the batch's published partition as (its row count is the previous partition's). */
export const PREVIOUS_VIEW = 'landfall_previous';

/** One check as the engines run it. */
export interface CheckQuery {
  name: string;
  rule: OutputCheckRule;
  severity: OutputCheck['severity'];
  /** the table the engine binds `output` (and `landfall_previous`) to, on a job writing several */
  table?: string;
  /** the columns it names, per relation (`output` or an input relation): a missing one is the configuration's mistake, not the data's */
  reads: Record<string, string[]>;
  /**
   * rows: `count` counts the failing rows and `sample` returns the first SAMPLE_ROWS of them;
   * facts: `facts` returns one row of facts with a boolean `failed` (rowCount, reconcile)
   */
  kind: 'rows' | 'facts';
  count?: string;
  sample?: string;
  facts?: string;
}

/** What an engine measured for one check: the failing rows (their count and first rows), or the facts row. */
export type CheckMeasure = { failing: number; sample: Record<string, unknown>[] } | { facts: Record<string, unknown> };

const RULES = ['unique', 'notNull', 'acceptedValues', 'referential', 'rowCount', 'reconcile', 'sql'] as const;
export const ruleOf = (check: OutputCheck): OutputCheckRule => RULES.find((r) => check[r] !== undefined)!;

/** An identifier, quoted for the dialect. */
export function quoteName(name: string, dialect: CheckDialect): string {
  return dialect === 'spark' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
}

/** A string literal: Spark's parser reads backslash escapes, DuckDB's does not. */
export function stringLiteral(value: string, dialect: CheckDialect): string {
  return dialect === 'spark' ? `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'` : `'${value.replaceAll("'", "''")}'`;
}

/** A number as a DOUBLE both engines parse to the same value (JavaScript writes the shortest exact form). */
const double = (n: number) => `CAST(${String(n)} AS DOUBLE)`;

/** The failing-rows query wrapped: its count, and its first rows in a stable order. */
function rowsQuery(body: string, orderBy?: string): Pick<CheckQuery, 'kind' | 'count' | 'sample'> {
  const sql = body.trim().replace(/(;\s*)+$/, '');
  return {
    kind: 'rows',
    count: `SELECT count(*) AS failing FROM (\n${sql}\n) AS failing_rows`,
    sample: `SELECT * FROM (\n${sql}\n) AS failing_rows ${orderBy ? `ORDER BY ${orderBy} ` : ''}LIMIT ${SAMPLE_ROWS}`,
  };
}

/** A bound a ratio or count breaks, as SQL (true when broken). */
function brokenSql(value: string, min: number | undefined, max: number | undefined): string[] {
  return [...(min !== undefined ? [`${value} < ${double(min)}`] : []), ...(max !== undefined ? [`${value} > ${double(max)}`] : [])];
}

/**
 * A check's query in a dialect. `previousRows` is the SQL giving the row count of the batch's
 * previous partition (0 or NULL when there is none): DuckDB's transform knows it as a number,
 * Spark counts the published partition (PREVIOUS_VIEW).
 */
export function checkQuery(
  check: OutputCheck,
  dialect: CheckDialect,
  previousRows = dialect === 'spark' ? `(SELECT count(*) FROM ${PREVIOUS_VIEW})` : 'NULL',
): CheckQuery {
  const q = (name: string) => quoteName(name, dialect);
  const rule = ruleOf(check);
  const base = { name: check.name, rule, severity: check.severity, ...(check.table === undefined ? {} : { table: check.table }) };
  switch (rule) {
    case 'unique': {
      const cols = check.unique!.map(q).join(', ');
      return {
        ...base,
        reads: { [OUTPUT_VIEW]: check.unique! },
        ...rowsQuery(`SELECT ${cols}, CAST(count(*) AS INTEGER) AS copies FROM ${OUTPUT_VIEW} GROUP BY ${cols} HAVING count(*) > 1`, cols),
      };
    }
    case 'notNull':
      return {
        ...base,
        reads: { [OUTPUT_VIEW]: check.notNull! },
        ...rowsQuery(`SELECT * FROM ${OUTPUT_VIEW} WHERE ${check.notNull!.map((c) => `${q(c)} IS NULL`).join(' OR ')}`),
      };
    case 'acceptedValues': {
      const { column, values } = check.acceptedValues!;
      const text = dialect === 'spark' ? 'STRING' : 'VARCHAR';
      const list = values.map((v) => stringLiteral(v, dialect)).join(', ');
      return {
        ...base,
        reads: { [OUTPUT_VIEW]: [column] },
        ...rowsQuery(`SELECT * FROM ${OUTPUT_VIEW} WHERE ${q(column)} IS NOT NULL AND CAST(${q(column)} AS ${text}) NOT IN (${list})`),
      };
    }
    case 'referential': {
      const { column, relation, relationColumn } = check.referential!;
      return {
        ...base,
        reads: { [OUTPUT_VIEW]: [column], [relation]: [relationColumn] },
        ...rowsQuery(
          `SELECT o.* FROM ${OUTPUT_VIEW} AS o WHERE o.${q(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${q(relation)} AS r WHERE r.${q(relationColumn)} = o.${q(column)})`,
        ),
      };
    }
    case 'rowCount': {
      const b = check.rowCount!;
      const [rows, previous, input] = [q('rows'), q('previousRows'), q('inputRows')];
      const facts = [
        `(SELECT count(*) FROM ${OUTPUT_VIEW}) AS ${rows}`,
        `COALESCE(CAST(${previousRows} AS BIGINT), 0) AS ${previous}`,
        ...(b.input !== undefined ? [`(SELECT count(*) FROM ${q(b.input)}) AS ${input}`] : []),
      ];
      const ratioOf = (other: string) =>
        `CASE WHEN ${other} = 0 THEN CASE WHEN ${rows} = 0 THEN ${double(1)} ELSE CAST('Infinity' AS DOUBLE) END ELSE CAST(${rows} AS DOUBLE) / CAST(${other} AS DOUBLE) END`;
      const previousBroken = brokenSql(`CAST(${rows} AS DOUBLE) / CAST(${previous} AS DOUBLE)`, b.minRatioOfPrevious, b.maxRatioOfPrevious);
      const broken = [
        ...brokenSql(`CAST(${rows} AS DOUBLE)`, b.min, b.max),
        // a batch's first run has nothing to compare with: the bound passes
        ...(previousBroken.length > 0 ? [`CASE WHEN ${previous} > 0 THEN ${previousBroken.join(' OR ')} ELSE false END`] : []),
        ...(b.input !== undefined ? brokenSql(ratioOf(input), b.minRatioOfInput, b.maxRatioOfInput) : []),
      ];
      return {
        ...base,
        reads: { [OUTPUT_VIEW]: [], ...(b.input !== undefined ? { [b.input]: [] } : {}) },
        kind: 'facts',
        facts: `SELECT *, ${broken.length > 0 ? broken.map((e) => `(${e})`).join(' OR ') : 'false'} AS failed FROM (SELECT ${facts.join(', ')}) AS facts`,
      };
    }
    case 'reconcile': {
      const { output, input, tolerance } = check.reconcile!;
      const totals = `SELECT CAST((SELECT ${output} FROM ${OUTPUT_VIEW}) AS DOUBLE) AS output_total, CAST((SELECT ${input.expression} FROM ${q(input.relation)}) AS DOUBLE) AS input_total`;
      const differences = `SELECT output_total, input_total, abs(output_total - input_total) AS difference FROM (${totals}) AS totals`;
      // a total of no rows (NULL) reconciles only with another total of no rows
      const failed = `CASE WHEN difference IS NULL THEN NOT (output_total IS NULL AND input_total IS NULL) ELSE difference > ${double(tolerance)} END`;
      return {
        ...base,
        reads: { [OUTPUT_VIEW]: [], [input.relation]: [] },
        kind: 'facts',
        facts: `SELECT output_total, input_total, difference, ${failed} AS failed FROM (${differences}) AS differences`,
      };
    }
    case 'sql':
      return { ...base, reads: { [OUTPUT_VIEW]: [] }, ...rowsQuery(check.sql!) };
  }
}

/** Why a check cannot run: a relation or column it names is not there (undefined when all are). */
export function missingRead(query: Pick<CheckQuery, 'name' | 'reads' | 'table'>, columnsOf: (relation: string) => string[] | undefined): string | undefined {
  const output = query.table === undefined ? OUTPUT_VIEW : `output table ${query.table}`;
  for (const [relation, columns] of Object.entries(query.reads)) {
    const known = columnsOf(relation);
    if (!known)
      return relation === OUTPUT_VIEW
        ? `check "${query.name}": the stage wrote no ${output}`
        : `check "${query.name}": the run has no input relation "${relation}"`;
    const missing = columns.find((c) => !known.includes(c));
    if (missing !== undefined)
      return `check "${query.name}": the ${relation === OUTPUT_VIEW ? output : `input ${relation}`} has no column "${missing}" (it has ${known.join(', ')})`;
  }
  return undefined;
}

/** A sampled row as JSON values, long strings cut. */
export function sampleRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && v.length > SAMPLE_VALUE_CHARS ? `${v.slice(0, SAMPLE_VALUE_CHARS)}…` : (v ?? null)]),
  );
}

const format = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, ''));
const numberOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** A bound a count keeps, in words, or undefined when it keeps it (the same comparisons as the SQL's). */
function broken(value: number, min: number | undefined, max: number | undefined, what: string): string | undefined {
  if (min !== undefined && value < min) return `${what} ${format(value)} < ${format(min)}`;
  if (max !== undefined && value > max) return `${what} ${format(value)} > ${format(max)}`;
  return undefined;
}

/** The facts row of a rowCount check as a result: the counts it compared and, failed, the bounds broken. */
function rowCountResult(check: OutputCheck, facts: Record<string, unknown>): Pick<OutputCheckResult, 'failing' | 'sample' | 'detail'> {
  const b = check.rowCount!;
  const rows = Number(facts.rows);
  const previousRows = Number(facts.previousRows ?? 0);
  const shown: Record<string, unknown> = { rows };
  const problems: string[] = [];
  const absolute = broken(rows, b.min, b.max, 'rows');
  if (absolute) problems.push(absolute);
  if ((b.minRatioOfPrevious !== undefined || b.maxRatioOfPrevious !== undefined) && previousRows > 0) {
    shown.previousRows = previousRows;
    const off = broken(rows / previousRows, b.minRatioOfPrevious, b.maxRatioOfPrevious, `ratio to the previous partition's ${previousRows} rows`);
    if (off) problems.push(off);
  }
  if (b.input !== undefined) {
    const inputRows = Number(facts.inputRows);
    shown.inputRows = inputRows;
    const r = inputRows === 0 ? (rows === 0 ? 1 : Number.POSITIVE_INFINITY) : rows / inputRows;
    const off = broken(r, b.minRatioOfInput, b.maxRatioOfInput, `ratio to ${b.input}'s ${inputRows} rows`);
    if (off) problems.push(off);
  }
  const failed = facts.failed === true;
  return { failing: failed ? 1 : 0, sample: failed ? [shown] : [], detail: problems.join('; ') || `${rows} rows` };
}

/** The facts row of a reconcile check as a result: both totals and their difference. */
function reconcileResult(check: OutputCheck, facts: Record<string, unknown>): Pick<OutputCheckResult, 'failing' | 'sample' | 'detail'> {
  const { output, input, tolerance } = check.reconcile!;
  const [out, inp, difference] = [numberOrNull(facts.output_total), numberOrNull(facts.input_total), numberOrNull(facts.difference)];
  const failed = facts.failed === true;
  const detail = `output ${output} = ${out}, ${input.relation} ${input.expression} = ${inp}${difference === null ? '' : `, difference ${format(difference)} (tolerance ${format(tolerance)})`}`;
  return { failing: failed ? 1 : 0, sample: failed ? [{ output_total: out, input_total: inp, difference }] : [], detail };
}

/** A check's result from what an engine measured: passed when nothing failed. */
export function checkResult(check: OutputCheck, measure: CheckMeasure): OutputCheckResult {
  const rule = ruleOf(check);
  const found =
    'facts' in measure
      ? rule === 'rowCount'
        ? rowCountResult(check, measure.facts)
        : reconcileResult(check, measure.facts)
      : { failing: measure.failing, sample: measure.sample.slice(0, SAMPLE_ROWS).map(sampleRow) };
  return { rule, name: check.name, severity: check.severity, passed: found.failing === 0, ...found };
}

/** The first line of a run whose `error` checks failed: the job, the batch, the stage and each failed rule. */
export function checkFailureSummary(job: string, values: Record<string, string>, stage: string, errors: OutputCheckResult[]): string {
  const batch = Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const failed = errors.map((r) => `"${r.name}" (${r.rule}: ${r.detail ?? `${r.failing} failing`})`).join(', ');
  return `job ${job}, batch ${batch}, stage ${stage}: ${errors.length === 1 ? 'the error check' : `${errors.length} error checks`} ${failed} failed; nothing was published`;
}
