/**
 * The error names the state machines match, each with the state machines (statemachines/<name>.asl.json)
 * that match it. Lambda reports a handler's error by its `name` (the error type) and a Retry or Catch
 * matches it in ErrorEquals, so renaming such a class silently changes what a run does. The classes
 * take their names from here (`override readonly name = 'StepFailedError' satisfies StateMachineErrorName`)
 * and test/unit/errors.test.ts checks both ASL files against this list.
 */
export const STATE_MACHINE_ERRORS = {
  /** Poll catches it: the step failed on a healthy cluster, so it is submitted again on the same cluster */
  StepFailedError: ['emr-job-run'],
  /** Acquire, Submit, Poll and ClusterEnded catch it: the cluster cannot run steps, so the run fails over to the other cell */
  ClusterUnhealthyError: ['emr-job-run'],
  /** Submit and Poll catch it: the cluster ended normally (idle timeout, an operator), so the run finds or makes another in its cell */
  ClusterEndedError: ['emr-job-run'],
  /** Transform's Catch (inside RunStages) and the EMR run's Poll end the stage with it, never retried: an `error` output check failed, nothing was published, the run ends CHECK_FAILED */
  OutputCheckFailedError: ['job-run', 'emr-job-run'],
  /** every task retries it with backoff: a passing failure */
  TransientError: ['job-run', 'emr-job-run'],
} as const;

export type StateMachineErrorName = keyof typeof STATE_MACHINE_ERRORS;

/**
 * AWS's own error names the state machines retry (the SDK's and the services': throttling, S3,
 * DynamoDB, Step Functions' StartExecution). Those of Step Functions' states, Lambda and the
 * Lambda runtime are known by their prefix.
 */
export const AWS_ERROR_NAMES = [
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TimeoutError',
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  /** StartExecution with too many open executions: StartNextGeneration retries it, then leaves the claim to the reconciler */
  'ExecutionLimitExceeded',
] as const;
export const AWS_ERROR_PREFIXES = ['States.', 'Lambda.', 'Runtime.'] as const;
