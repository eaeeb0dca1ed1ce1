import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { JobRunStore } from '../resolve/job-run-store';
import { resolveBatch, type ResolveOutcome, type ResolverDeps, type RunInput } from '../resolve/resolver';

/** What Step Functions hands a Catch: the error name and its cause. */
export interface TaskError {
  Error: string;
  Cause: string;
}

/** The bookkeeping states of a job run (statemachines/job-run.asl.json), one Lambda for all. */
export type JobStepRequest =
  | { action: 'start'; run: RunInput; executionArn: string }
  | { action: 'checkpoint'; run: RunInput; stage: string; output: Record<string, unknown> }
  | { action: 'succeed'; run: RunInput }
  | { action: 'fail'; run: RunInput; error: TaskError }
  | { action: 'notify'; run: RunInput; error: TaskError };

export interface JobStepDeps {
  runs: JobRunStore;
  resolver: ResolverDeps;
  sns: SNSClient;
  failureTopicArn: string;
}

/** A request the state machine should never send: a bug in the ASL, not a transient error. */
export class BadStepRequestError extends Error {
  override readonly name = 'BadStepRequestError';
}

export async function runJobStep(request: JobStepRequest, deps: JobStepDeps): Promise<unknown> {
  const { run } = request;
  if (!run?.batchId || !run.executionName) throw new BadStepRequestError('the request has no run');
  switch (request.action) {
    case 'start':
      await deps.runs.markRunning(run.batchId, run.executionName, request.executionArn);
      return run;
    case 'checkpoint':
      await deps.runs.recordStage(run.batchId, run.executionName, request.stage, request.output);
      return request.output;
    case 'succeed': {
      await deps.runs.finishRun(run.batchId, run.executionName, 'SUCCEEDED');
      // Inputs that landed while this run was busy open the next run now.
      const next: ResolveOutcome = await resolveBatch(deps.resolver, { job: run.job, values: run.values });
      return { status: 'SUCCEEDED', next };
    }
    case 'fail':
      await deps.runs.finishRun(run.batchId, run.executionName, 'FAILED', { error: request.error.Error, cause: request.error.Cause });
      return { run, error: request.error };
    case 'notify': {
      const out = await deps.sns.send(
        new PublishCommand({
          TopicArn: deps.failureTopicArn,
          Subject: `landfall: ${run.job} ${Object.values(run.values).join(' ')} FAILED`.slice(0, 100),
          Message: JSON.stringify({ job: run.job, batch: run.values, execution: run.executionName, error: request.error.Error, cause: request.error.Cause, inputs: run.inputs }, null, 2),
          MessageAttributes: { job: { DataType: 'String', StringValue: run.job }, error: { DataType: 'String', StringValue: request.error.Error } },
        }),
      );
      return { messageId: out.MessageId };
    }
    default:
      throw new BadStepRequestError(`unknown action ${JSON.stringify((request as { action?: unknown }).action)}`);
  }
}
