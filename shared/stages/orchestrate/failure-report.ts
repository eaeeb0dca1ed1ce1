import { gunzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Alert } from '../../core/alerts';
import { checkResultsOf, type JobRunStore, type OutputCheckResult } from '../../core/runs/job-run-store';
import type { RunInput } from '../../core/runs/run-input';
import { attemptOf } from '../../core/runs/batches';
import { readObject } from '../../core/s3/object-io';

/** What Step Functions hands a Catch: the error name and its cause. */
export interface TaskError {
  Error: string;
  Cause: string;
}

/** What an on-call reads in a job-failure alert. */
export interface FailureReport {
  job: string;
  batch: Record<string, string>;
  execution: string;
  /** the stage that failed: the first one without a checkpoint (or the warehouse load after them) */
  stage: string;
  /** 1 for the first run of this input generation, 2 for its first retry, … */
  attempt: number;
  error: string;
  message: string;
  /** where the failing step's log is (an EMR step's stderr), and its last lines */
  log?: { location: string; lastLines: string[] };
  /** the Lambda's stack trace, when the failing stage was a Lambda */
  trace?: string[];
  /** the output checks, when they failed the run (CHECK_FAILED): each rule, passed or not, its failing count and up to 10 failing rows */
  checks?: OutputCheckResult[];
  inputs: RunInput['inputs'];
}

/** A Lambda task's Cause is JSON ({errorType, errorMessage, trace}); other causes are plain text. */
export function parseCause(cause: string): { message: string; trace?: string[] } {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; trace?: unknown };
    if (typeof parsed?.errorMessage === 'string') {
      return { message: parsed.errorMessage, ...(Array.isArray(parsed.trace) ? { trace: parsed.trace.map(String) } : {}) };
    }
  } catch {
    // plain text
  }
  return { message: cause };
}

/** The log an EMR step error names: `(log: s3://…)` in its message (see shared/core/emr/errors.ts). */
export function logLocationOf(message: string): string | undefined {
  return /\(log: (s3:\/\/[^\s)]+)\)/.exec(message)?.[1];
}

/** The last lines of a log object (EMR gzips step logs once the step ends). Bounded: 1 MB read. */
export async function logTail(s3: S3Client, location: string, lines = 30): Promise<string[]> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!m) return [];
  const { chunks } = await readObject(s3, m[1]!, m[2]!);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    parts.push(Buffer.from(chunk));
    size += chunk.byteLength;
    if (size > 1 << 20) parts.splice(0, parts.length - 1);
  }
  let body = Buffer.concat(parts);
  if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
  return body.toString('utf8').trimEnd().split('\n').slice(-lines);
}

/** How an alert names a failed warehouse load (after every stage of the run). */
export const WAREHOUSE_LOAD_STAGE = 'warehouse load';

/**
 * The alert of a failed run: which job, batch, stage and attempt, the error, and the last lines of
 * the failing step's log (read from S3 for an EMR step; a Lambda's error carries its own trace).
 */
export async function failureReport(run: RunInput, error: TaskError, deps: { runs: JobRunStore; s3?: S3Client }): Promise<FailureReport> {
  const record = await deps.runs.getRun(run.batchId, run.executionName);
  // every stage checkpointed: what failed came after them, the warehouse load if the job has one
  const stage = run.stages.find((s) => !record?.stages?.[s.name])?.name ?? (run.warehouse ? WAREHOUSE_LOAD_STAGE : run.stages.at(-1)?.name) ?? 'none';
  const { message, trace } = parseCause(error.Cause ?? '');
  // a failed check: the results are on the run (recorded by `fail`), the message's summary says which
  const checked = checkResultsOf(message);
  const report: FailureReport = {
    job: run.job,
    batch: run.values,
    execution: run.executionName,
    stage,
    attempt: attemptOf(run.executionName),
    error: error.Error,
    message: checked?.summary ?? message,
    inputs: run.inputs,
  };
  const checks = record?.checks?.results ?? checked?.results;
  if (checked && checks) report.checks = checks;
  else if (trace) report.trace = trace.slice(0, 15);
  const location = logLocationOf(message);
  if (location && deps.s3) {
    try {
      report.log = { location, lastLines: await logTail(deps.s3, location) };
    } catch (err) {
      report.log = { location, lastLines: [`(could not read the log: ${(err as Error).name}: ${(err as Error).message})`] };
    }
  }
  return report;
}

/** The alert of a run that published with failed `warn` checks: job, batch, each check and its failing rows. */
export function checksWarnedAlert(run: RunInput, warned: OutputCheckResult[]): Alert {
  return {
    kind: 'checks-warned',
    subject: `landfall: ${run.job} ${Object.values(run.values).join(' ')} published with ${warned.length} warning${warned.length === 1 ? '' : 's'}: ${warned.map((w) => w.name).join(', ')}`,
    detail: { job: run.job, batch: run.values, execution: run.executionName, checks: warned },
  };
}
