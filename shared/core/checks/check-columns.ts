import type { JobConfig } from '../config/types';
import { OUTPUT_VIEW, checkQuery, missingRead } from './check-queries';

/** A check naming a column its relation does not declare: the check's index in `jobs[].checks`, and why. */
export interface CheckColumnProblem {
  index: number;
  problem: string;
}

/**
 * The output columns a job declares (a Spark job: `output.columns`, or a table's own in
 * `output.tables`), with its partition fields (in the files or added from the path), or undefined
 * when it declares none (its columns are known only once it runs).
 */
export function declaredOutputColumns(job: Pick<JobConfig, 'output'>, table: string | undefined): string[] | undefined {
  const declared = table === undefined ? job.output.columns : job.output.tables?.[table]?.columns;
  return declared && [...new Set([...declared.map((c) => c.name), ...job.output.partitionBy])];
}

/**
 * The checks of a job that name a column their relation does not have, as far as the configuration
 * knows the relations' columns: the output's declared columns (`declaredOutputColumns`) and the
 * inputs' (`inputColumns`; undefined: not known, not checked). Found at configuration time, so a
 * Spark run does not fail on it minutes in.
 */
export function undeclaredCheckColumns(
  job: Pick<JobConfig, 'checks' | 'output'>,
  inputColumns: (relation: string) => string[] | undefined,
): CheckColumnProblem[] {
  const problems: CheckColumnProblem[] = [];
  for (const [index, check] of (job.checks ?? []).entries()) {
    const query = checkQuery(check, 'duckdb');
    const columnsOf = (relation: string) => (relation === OUTPUT_VIEW ? declaredOutputColumns(job, check.table) : inputColumns(relation));
    const known = Object.fromEntries(Object.entries(query.reads).filter(([relation]) => columnsOf(relation) !== undefined));
    const problem = missingRead({ ...query, reads: known }, columnsOf);
    if (problem) problems.push({ index, problem });
  }
  return problems;
}
