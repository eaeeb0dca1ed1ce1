import type { JobConfig } from '../../shared/core/config/types';
import type { RunItem } from '../../shared/core/runs/job-run-store';
import type { Target } from '../targets';
import { logLocationOf, logTail, parseCause } from '../../shared/stages/orchestrate';

/** How the console names a failed warehouse load (after every stage of the run), as the failure alert does. */
export const WAREHOUSE_LOAD_STAGE = 'warehouse load';
/** Lines of a Lambda's trace and of a step's stderr the batch view shows. */
export const TRACE_LINES = 15;
export const LOG_TAIL_LINES = 30;

/** A failed run as the batch view explains it: where it failed, the error, and the trace or the log it names. */
export interface RunFailure {
  execution: string;
  /** the stage that failed: the first without a checkpoint, or the warehouse load after them */
  stage: string;
  error: string;
  message: string;
  /** the Lambda's stack trace (its recorded cause is the Lambda's JSON error) */
  trace?: string[];
  /** the EMR step's stderr the error names, and (once read) its last lines or why they could not be read */
  log?: { location: string; lastLines?: string[]; unreadable?: string };
}

/** What a run's recorded error says, without reading anything: undefined for a run that did not fail. */
export function failureOf(run: Pick<RunItem, 'executionName' | 'error' | 'stages'>, job: Pick<JobConfig, 'stages' | 'load'>): RunFailure | undefined {
  if (!run.error) return undefined;
  const { message, trace } = parseCause(run.error.cause ?? '');
  const stage = job.stages.find((s) => !run.stages?.[s.name])?.name ?? (job.load?.length ? WAREHOUSE_LOAD_STAGE : job.stages.at(-1)?.name) ?? 'none';
  const location = logLocationOf(message);
  return {
    execution: run.executionName,
    stage,
    error: run.error.error,
    message,
    ...(trace ? { trace: trace.slice(0, TRACE_LINES) } : {}),
    ...(location ? { log: { location } } : {}),
  };
}

/**
 * The failure with the tail of the step log it names, read now from S3 (bounded: logTail keeps the
 * last megabyte). A log that cannot be read (gone with its bucket's lifecycle, no access) says why.
 */
export async function failureWithLog(where: Pick<Target, 's3'>, failure: RunFailure): Promise<RunFailure> {
  if (!failure.log) return failure;
  try {
    return { ...failure, log: { location: failure.log.location, lastLines: await logTail(where.s3, failure.log.location, LOG_TAIL_LINES) } };
  } catch (err) {
    return { ...failure, log: { location: failure.log.location, unreadable: `${(err as Error).name}: ${(err as Error).message}` } };
  }
}
