import { type CheckMeasure, type CheckQuery, OUTPUT_VIEW, checkQuery, checkResult, missingRead } from '../../core/checks/check-queries';
import type { JobConfig, OutputCheck } from '../../core/config/types';
import type { OutputCheckResult } from '../../core/runs/job-run-store';
import type { RunInput } from '../../core/runs/run-input';

/**
 * A Spark job's output checks (docs/checks.md): the rules compiled to Spark SQL by the generator
 * the DuckDB transform uses, handed to the step as a plan file; the step stages the last stage's
 * output, runs the queries, publishes only when they allow it, and leaves a report of what they
 * measured beside the stage's checkpoint, which becomes the results here. On a job writing several
 * tables the step stages every table, binds each check's `output` to the table it names, and
 * publishes all of them or none.
 */

/** The plan spark/landfall_jobs/checks.py reads (--checks). */
export interface SparkChecksPlan {
  job: string;
  stage: string;
  checks: CheckQuery[];
  /**
   * the tables of a job writing several (`output.tables`), each under `<output-root>/<table>/`:
   * the step stages and publishes them all (those without checks too); absent for a job writing one
   */
  tables?: string[];
}

/** What the step reports (spark/landfall_jobs/checks.py: <checkpoint>/<stage>/_landfall_checks.json). */
export interface SparkChecksReport {
  stage: string;
  /** the columns of each view the checks could read (the output of a job writing one table, and the inputs) */
  columns: Record<string, string[]>;
  /** a job writing several tables: the columns of each table's staged batch partition (its partition fields included) */
  tables?: Record<string, string[]>;
  /** each query's measure, in the plan's order: {failing, sample}, {facts}, {error} (Spark could not run it) or {unreadable} */
  measures: Array<
    { name: string; unreadable?: boolean; error?: string } & Partial<{ failing: number; sample: Record<string, unknown>[]; facts: Record<string, unknown> }>
  >;
  published: boolean;
  /** the checks had no output to read */
  invalid?: string;
}

export const CHECKS_REPORT = '_landfall_checks.json';

/** The job's checks when this stage runs them (its last), or undefined. */
export function checksOfStage(job: Pick<JobConfig, 'checks' | 'stages'>, stage: string): OutputCheck[] | undefined {
  return job.checks && job.checks.length > 0 && stage === job.stages.at(-1)?.name ? job.checks : undefined;
}

/** The plan of the stage's checks as Spark SQL, or undefined when the stage runs none. */
export function sparkChecksPlan(
  job: Pick<JobConfig, 'name' | 'checks' | 'stages'> & { output?: Pick<JobConfig['output'], 'tables'> },
  stage: string,
): SparkChecksPlan | undefined {
  const checks = checksOfStage(job, stage);
  const tables = job.output?.tables ? Object.keys(job.output.tables) : [];
  return checks && { job: job.name, stage, checks: checks.map((c) => checkQuery(c, 'spark')), ...(tables.length > 0 ? { tables } : {}) };
}

/** The columns a check's relation has in the report: `output` is its table's on a job writing several. */
function reportedColumns(report: SparkChecksReport, table: string | undefined): (relation: string) => string[] | undefined {
  return (relation) => (relation === OUTPUT_VIEW && table !== undefined ? report.tables?.[table] : report.columns[relation]);
}

/** Where the plan goes: beside the run's staged inputs (the cluster reads runs/). */
export const checksPlanKey = (run: RunInput, stage: string) => `runs/${run.executionName}/checks/${stage}.json`;

/** The report's key under the run's checkpoint prefix (`checkpoints/…/`). */
export const checksReportKey = (checkpointPrefix: string, stage: string) => `${checkpointPrefix}${stage}/${CHECKS_REPORT}`;

/**
 * The results of a step's report, or why the checks could not run (a column or relation the data
 * lacks, SQL Spark cannot bind: the configuration's mistake, not the data's).
 */
export function sparkCheckResults(checks: OutputCheck[], report: SparkChecksReport): { results: OutputCheckResult[] } | { invalid: string } {
  if (report.invalid) return { invalid: report.invalid };
  const results: OutputCheckResult[] = [];
  for (const [i, check] of checks.entries()) {
    const measured = report.measures[i];
    if (!measured || measured.name !== check.name)
      return { invalid: `check "${check.name}": the step reported no result for it (was the plan of another configuration?)` };
    if (measured.unreadable) {
      const query = checkQuery(check, 'spark');
      return { invalid: missingRead(query, reportedColumns(report, check.table)) ?? `check "${check.name}" cannot read its relations` };
    }
    if (measured.error !== undefined) return { invalid: `check "${check.name}" cannot run: ${measured.error}` };
    const measure: CheckMeasure = measured.facts ? { facts: measured.facts } : { failing: measured.failing ?? 0, sample: measured.sample ?? [] };
    results.push(checkResult(check, measure));
  }
  return { results };
}
