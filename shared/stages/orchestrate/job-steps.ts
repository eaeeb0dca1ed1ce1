import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { publishAlert } from '../../core/alerts';
import { checkResultsOf, type JobRunStore } from '../../core/runs/job-run-store';
import type { STATE_MACHINE_ERRORS } from '../../core/error-names';
import { resolveBatch, type ResolverDeps } from '../resolve';
import type { RunInput } from '../../core/runs/run-input';
import { jobNamed } from '../../core/config/load-config';
import type { JobConfig } from '../../core/config/types';
import { checksWarnedAlert, failureReport, parseCause, type TaskError } from './failure-report';
import { recordPartition, type PartitionDeps } from './partitions';
import { settleRun } from './settle';
import { LandfallError } from '../../core/errors';

export type { TaskError } from './failure-report';

/** The bookkeeping states of a job run (statemachines/job-run.asl.json and emr-job-run.asl.json), one Lambda for all. */
export type JobStepRequest =
  | { action: 'start'; run: RunInput; executionArn: string }
  | { action: 'settle'; run: RunInput }
  | { action: 'checkpoint'; run: RunInput; stage: string; output: Record<string, unknown> }
  | { action: 'succeed'; run: RunInput }
  | { action: 'next-generation'; run: RunInput }
  | { action: 'fail'; run: RunInput; error: TaskError }
  | { action: 'notify'; run: RunInput; error: TaskError };

export interface JobStepDeps {
  runs: JobRunStore;
  resolver: ResolverDeps;
  sns: SNSClient;
  failureTopicArn: string;
  /** reads a failing EMR step's log for the alert, and the partitions downstream jobs read */
  s3?: S3Client;
  /** the lake bucket (the partitions a run wrote) */
  lakeBucket?: string;
}

/**
 * Errors that say nothing about the job or its data: a function's process died, Lambda or a task
 * timed out, the Lambda service failed. A run that failed on one of them after its retries is
 * started again by the reconciler (a bounded number of times); any other error waits for a retry.
 */
export const INFRASTRUCTURE_ERRORS = [
  'Runtime.ExitError',
  'Lambda.Unknown',
  'States.Timeout',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** A request the state machine should never send: a bug in the ASL, not a transient error. */
export class BadStepRequestError extends LandfallError {
  override readonly name = 'BadStepRequestError';
  readonly code = 'STEP_REQUEST_INVALID';
}

/** What recording a job's partition needs, for a job other jobs read (undefined for the others). */
function partitionDepsOf(job: JobConfig, deps: JobStepDeps): PartitionDeps | undefined {
  if (!deps.resolver.pipeline.readersOf.has(job.name)) return undefined;
  if (!deps.s3 || !deps.lakeBucket) throw new BadStepRequestError(`job ${job.name} is read by other jobs: recording its partition needs the lake bucket`);
  return { s3: deps.s3, files: deps.resolver.files, lakeBucket: deps.lakeBucket };
}

/** The error a failed `error` check ends a stage with (the state machines match it by this name). */
const CHECK_FAILED_ERROR: keyof typeof STATE_MACHINE_ERRORS = 'OutputCheckFailedError';

/** Alerts the run's failed `warn` checks, once per run (a retried step finds them alerted). */
async function alertWarnings(run: RunInput, deps: JobStepDeps): Promise<void> {
  const record = (await deps.runs.getRun(run.batchId, run.executionName))?.checks;
  const warned = record?.results.filter((r) => !r.passed && r.severity === 'warn') ?? [];
  if (warned.length === 0 || record?.warnAlertedAt) return;
  // published first, then marked: a crash between the two alerts twice rather than never
  await publishAlert(deps.sns, deps.failureTopicArn, checksWarnedAlert(run, warned));
  await deps.runs.markChecksWarned(run.batchId, run.executionName);
}

/** Records a run's end: its partition (for a job others read), then the run SUCCEEDED. Idempotent. */
async function recordSucceeded(run: RunInput, deps: JobStepDeps): Promise<{ status: 'SUCCEEDED'; recorded: 'now' | 'before' }> {
  const job = jobNamed(deps.resolver.pipeline, run.job);
  const partition = partitionDepsOf(job, deps);
  // A retry after the recording finished writes nothing, so it cannot fail on a write.
  if ((await deps.runs.getRun(run.batchId, run.executionName))?.status === 'SUCCEEDED') return { status: 'SUCCEEDED', recorded: 'before' };
  // The partition first: a downstream batch may start as soon as it is recorded, and a
  // retried step records it once.
  if (partition) await recordPartition(run, job, partition);
  await alertWarnings(run, deps);
  await deps.runs.finishRun(run.batchId, run.executionName, 'SUCCEEDED');
  return { status: 'SUCCEEDED', recorded: 'now' };
}

export async function runJobStep(request: JobStepRequest, deps: JobStepDeps): Promise<unknown> {
  const { run } = request;
  if (!run?.batchId || !run.executionName) throw new BadStepRequestError('the request has no run');
  switch (request.action) {
    case 'start':
      // A run whose claim was released (its resolver was presumed dead) must not write anything:
      // the state machine ends at once when `released` is set.
      return (await deps.runs.markRunning(run.batchId, run.executionName, request.executionArn)) ? run : { ...run, released: true };
    case 'settle':
      return settleRun(run, deps);
    case 'checkpoint': {
      // the output checks' results go on the run (status and explain show them), not in the stage record
      const { checks, ...output } = request.output;
      if (Array.isArray(checks)) await deps.runs.recordChecks(run.batchId, run.executionName, request.stage, checks);
      await deps.runs.recordStage(run.batchId, run.executionName, request.stage, output);
      return request.output;
    }
    case 'succeed':
      return recordSucceeded(run, deps);
    case 'next-generation':
      // Inputs that landed while this run was busy open the next run now: a state of its own
      // after the recording, whose failure never fails the run (its claim is left for the reconciler).
      return resolveBatch(deps.resolver, { job: run.job, values: run.values });
    case 'fail': {
      if (request.error.Error === CHECK_FAILED_ERROR) {
        // the results ride in the error's message: recorded before the run ends, so a CHECK_FAILED run shows why
        const { message } = parseCause(request.error.Cause ?? '');
        const checked = checkResultsOf(message);
        if (checked) await deps.runs.recordChecks(run.batchId, run.executionName, run.stages.at(-1)?.name ?? 'none', checked.results);
        await deps.runs.finishRun(run.batchId, run.executionName, 'CHECK_FAILED', { error: request.error.Error, cause: checked?.summary ?? message });
        return { run, error: request.error };
      }
      await deps.runs.finishRun(run.batchId, run.executionName, 'FAILED', { error: request.error.Error, cause: request.error.Cause }, new Date(), {
        restartable: INFRASTRUCTURE_ERRORS.includes(request.error.Error),
      });
      return { run, error: request.error };
    }
    case 'notify': {
      const report = await failureReport(run, request.error, deps);
      const failedChecks = report.checks?.filter((c) => !c.passed && c.severity === 'error') ?? [];
      await publishAlert(deps.sns, deps.failureTopicArn, {
        kind: 'job-failed',
        subject:
          failedChecks.length > 0
            ? `landfall: ${run.job} ${Object.values(run.values).join(' ')} CHECK_FAILED: ${failedChecks.map((c) => c.name).join(', ')}`
            : `landfall: ${run.job} ${Object.values(run.values).join(' ')} FAILED in ${report.stage} (attempt ${report.attempt})`,
        detail: { ...report },
      });
      return { notified: true, stage: report.stage, attempt: report.attempt };
    }
    default:
      throw new BadStepRequestError(`unknown action ${JSON.stringify((request as { action?: unknown }).action)}`);
  }
}
