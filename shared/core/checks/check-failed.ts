import type { StateMachineErrorName } from '../error-names';
import { LandfallError } from '../errors';

/**
 * An `error` check failed on a job's output (docs/checks.md), on DuckDB (the transform) or on Spark
 * (the EMR step): nothing was published, the previous partition and the warehouse rows stay as they
 * were. The state machines catch it by this name and end the run CHECK_FAILED (not retried: the same
 * inputs give the same output); `landfall retry` after a fix. The message ends with the results
 * (checkFailureMessage), which the `fail` step records.
 */
export class OutputCheckFailedError extends LandfallError {
  override readonly name = 'OutputCheckFailedError' satisfies StateMachineErrorName;
  readonly code = 'OUTPUT_CHECK_FAILED';
}
