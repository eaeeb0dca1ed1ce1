import type { StateMachineErrorName } from '../error-names';
import { LandfallError } from '../errors';

/**
 * The ways an EMR step can go wrong, as the state machine sees them. Their `name` is what a Step
 * Functions Retry/Catch matches (Lambda reports it as the error type; see error-names.ts); the
 * message carries the cluster, step, reason and log file, since a Task's Cause is all that reaches the ASL.
 */

export interface EmrErrorDetails {
  clusterId: string;
  stepId?: string;
  /** the step's state when it ended (FAILED, CANCELLED, INTERRUPTED) */
  stepState?: string;
  /** the cluster's state when the error was classified (absent when it could not be read) */
  clusterState?: string;
  /** EMR's own words: FailureDetails.Message, a StateChangeReason message or the SDK error's message */
  detail?: string;
  /** FailureDetails.LogFile */
  logFile?: string;
}

abstract class EmrStepError extends LandfallError {
  readonly clusterId: string;
  readonly stepId?: string;
  readonly stepState?: string;
  readonly clusterState?: string;
  readonly detail?: string;
  readonly logFile?: string;

  constructor(
    /** why, in one token: FailureDetails.Reason, a cluster StateChangeReason code, 'unreachable', … */
    readonly reason: string,
    details: EmrErrorDetails,
    summary: string,
    options?: { cause?: unknown },
  ) {
    const parts = [summary];
    if (details.detail) parts.push(`: ${details.detail}`);
    if (details.logFile) parts.push(` (log: ${details.logFile})`);
    super(parts.join(''), options);
    this.clusterId = details.clusterId;
    if (details.stepId !== undefined) this.stepId = details.stepId;
    if (details.stepState !== undefined) this.stepState = details.stepState;
    if (details.clusterState !== undefined) this.clusterState = details.clusterState;
    if (details.detail !== undefined) this.detail = details.detail;
    if (details.logFile !== undefined) this.logFile = details.logFile;
  }

  /** what a log line or a job-run record keeps */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      reason: this.reason,
      clusterId: this.clusterId,
      stepId: this.stepId,
      stepState: this.stepState,
      clusterState: this.clusterState,
      detail: this.detail,
      logFile: this.logFile,
    };
  }
}

/**
 * The step itself failed (or was cancelled) on a cluster that is still healthy: retry it, under a
 * new attempt name, on the same cluster.
 */
export class StepFailedError extends EmrStepError {
  override readonly name = 'StepFailedError' satisfies StateMachineErrorName;
  readonly code = 'EMR_STEP_FAILED';
  constructor(reason: string, details: EmrErrorDetails & { stepId: string }, options?: { cause?: unknown }) {
    super(reason, details, `EMR step ${details.stepId} on cluster ${details.clusterId} ${(details.stepState ?? 'FAILED').toLowerCase()} (${reason})`, options);
  }
}

/**
 * The cluster cannot run steps: it is terminating or terminated, lost instances (an impaired AZ),
 * does not exist, or its API does not answer ('unreachable'). Fail over to the standby at once.
 */
export class ClusterUnhealthyError extends EmrStepError {
  override readonly name = 'ClusterUnhealthyError' satisfies StateMachineErrorName;
  readonly code = 'EMR_CLUSTER_UNHEALTHY';
  constructor(reason: string, details: EmrErrorDetails, options?: { cause?: unknown }) {
    const state = details.clusterState ? `, state ${details.clusterState}` : '';
    const step = details.stepId ? `; step ${details.stepId}${details.stepState ? ` ${details.stepState}` : ''}` : '';
    super(reason, details, `EMR cluster ${details.clusterId} is unhealthy (${reason}${state})${step}`, options);
  }
}

/**
 * The cluster ended normally — its idle timeout, or someone terminated it — so its cell is not
 * impaired: a transient run creates or finds another cluster in the same cell and goes on there.
 */
export class ClusterEndedError extends EmrStepError {
  override readonly name = 'ClusterEndedError' satisfies StateMachineErrorName;
  readonly code = 'EMR_CLUSTER_ENDED';
  constructor(reason: string, details: EmrErrorDetails, options?: { cause?: unknown }) {
    const step = details.stepId ? `; step ${details.stepId}${details.stepState ? ` ${details.stepState}` : ''}` : '';
    super(
      reason,
      details,
      `EMR cluster ${details.clusterId} has ended (${reason}${details.clusterState ? `, state ${details.clusterState}` : ''})${step}`,
      options,
    );
  }
}
