import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { JobConfig } from '../../core/config/types';
import { CLAIM_GRACE_MS, type BatchItem } from '../../core/runs/job-run-store';
import type { StateMachineErrorName } from '../../core/error-names';
import type { ResolverDeps } from './deps';

/** What the check of a batch's active claim found, and what it did about it. */
export type ActiveRunCheck =
  /** claimed moments ago: its resolver may still be starting it */
  | { kind: 'young'; executionName: string }
  /** its execution is running */
  | { kind: 'live'; executionName: string; executionArn: string }
  /** the claim was never started and is now released: the batch may claim its current inputs */
  | { kind: 'released'; executionName: string }
  /** the execution ended without recording it (stopped, timed out, or its last task lost): recorded now */
  | {
      kind: 'recorded';
      executionName: string;
      executionArn: string;
      status: 'SUCCEEDED' | 'FAILED' | 'CHECK_FAILED';
      executionStatus: string;
      error?: { error: string; cause: string };
    };

/** The ARN Step Functions gives an execution of this name (names are deterministic per generation). */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

async function describe(deps: Pick<ResolverDeps, 'sfn'>, executionArn: string) {
  try {
    return await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if (err instanceof ExecutionDoesNotExist || (err as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}

/**
 * Compares a batch's active claim with the execution it should have, and repairs what is stuck:
 * a claim whose execution was never started is released (past the grace period: its resolver has
 * surely stopped); an execution that ended without reaching its last recording state (stopped,
 * timed out, a lost task) is recorded as it ended. A live execution is left alone.
 */
export async function checkActiveRun(
  deps: Pick<ResolverDeps, 'sfn' | 'runs' | 'stateMachineArns'>,
  job: JobConfig,
  batch: BatchItem,
  now = new Date(),
  graceMs = CLAIM_GRACE_MS,
): Promise<ActiveRunCheck> {
  const claim = batch.activeRun!;
  const name = claim.executionName;
  let executionArn = claim.executionArn;
  let execution = executionArn ? await describe(deps, executionArn) : undefined;
  if (!execution) {
    if (now.getTime() - Date.parse(claim.claimedAt) < graceMs) return { kind: 'young', executionName: name };
    // The resolver may have died after StartExecution and before recording it: look it up by name.
    executionArn = executionArnFor(deps.stateMachineArns[claim.engine ?? (job.engine === 'auto' ? 'duckdb' : job.engine)], name);
    execution = await describe(deps, executionArn);
    if (!execution) {
      // the batch goes back to what its last run left (or WAITING): the release undoes the claim only
      if (await deps.runs.releaseClaim(batch.batchId, name, batch.lastRun?.status ?? 'WAITING', now)) return { kind: 'released', executionName: name };
      return { kind: 'young', executionName: name }; // the claim moved on meanwhile: nothing to do
    }
    await deps.runs.markStarted(batch.batchId, name, executionArn);
  }
  const arn = executionArn!;
  const status = execution.status ?? 'RUNNING';
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return { kind: 'live', executionName: name, executionArn: arn };
  if (status === 'SUCCEEDED') {
    await deps.runs.finishRun(batch.batchId, name, 'SUCCEEDED', undefined, now);
    return { kind: 'recorded', executionName: name, executionArn: arn, status: 'SUCCEEDED', executionStatus: status };
  }
  // named for how it ended (ExecutionAborted, ExecutionTimedOut, ExecutionFailed); its own words in the cause
  const error = {
    error: `Execution${status.charAt(0)}${status
      .slice(1)
      .toLowerCase()
      .replace(/_(\w)/g, (_, c: string) => c.toUpperCase())}`,
    cause: [execution.error, execution.cause].filter(Boolean).join(': ') || `the execution ended ${status} without recording the run`,
  };
  // an output check stopped it (nothing was published): it stays a CHECK_FAILED, not a failure to repair
  const ended = execution.error === ('OutputCheckFailedError' satisfies StateMachineErrorName) ? 'CHECK_FAILED' : 'FAILED';
  await deps.runs.finishRun(batch.batchId, name, ended, error, now);
  return { kind: 'recorded', executionName: name, executionArn: arn, status: ended, executionStatus: status, error };
}
