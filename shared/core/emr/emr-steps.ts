import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  ListStepsCommand,
  type Cluster,
  type EMRClient,
  type Step,
  type StepState,
  type StepSummary,
} from '@aws-sdk/client-emr';
import { ClusterEndedError, ClusterUnhealthyError, StepFailedError } from './errors';

export { ClusterEndedError, ClusterUnhealthyError, StepFailedError } from './errors';

export interface StageStep {
  /** deterministic, e.g. <execution>-<stage>-a<attempt>: a retried submission finds its step by it */
  name: string;
  /** full command-runner args, e.g. ['spark-submit','--deploy-mode','cluster','s3://…/main.py','--stage','clean',…] */
  args: string[];
  actionOnFailure?: 'CONTINUE';
}

export type StepProgress = { state: 'PENDING' | 'RUNNING' } | { state: 'COMPLETED' };

/** Steps that make a resubmission of the same name unnecessary. */
const LIVE_STATES: StepState[] = ['PENDING', 'RUNNING', 'COMPLETED'];
const HEALTHY_CLUSTER = new Set(['WAITING', 'RUNNING']);
/** Not healthy yet, but not gone either: added steps wait as PENDING until it is ready. */
const STARTING_CLUSTER = new Set(['STARTING', 'BOOTSTRAPPING']);
/** ClusterStateChangeReason codes that mean the cluster lost its machines or broke inside. */
const UNHEALTHY_CODES = new Set(['INSTANCE_FAILURE', 'INTERNAL_ERROR', 'INSTANCE_FLEET_TIMEOUT', 'BOOTSTRAP_FAILURE', 'VALIDATION_ERROR']);
/**
 * A cluster TERMINATING or TERMINATED for these reasons ended normally (its idle timeout, an
 * operator): its cell is fine. Without a code, or for any other, it counts as unhealthy.
 */
const ENDED_CODES = new Set(['ALL_STEPS_COMPLETED', 'USER_REQUEST']);
const ENDED_STATES = new Set(['TERMINATING', 'TERMINATED']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const SERVER_ERRORS = new Set([
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The API did not answer, or answered with a server fault the SDK's own retries did not outlast. */
export function isUnreachable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as SdkErrorLike;
  if (THROTTLING.has(e.name ?? '')) return false;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (SERVER_ERRORS.has(e.name ?? '')) return true;
  if (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isUnreachable(inner, depth + 1))) return true; // AggregateError (happy eyeballs)
  return isUnreachable(e.cause, depth + 1);
}

/** An SDK error in one line: its name, code and message. */
export function messageOf(err: unknown): string {
  const e = err as SdkErrorLike;
  const text = [e?.name && e.name !== 'Error' ? e.name : undefined, e?.code, e?.message].filter(Boolean).join(': ');
  return text || String(err);
}

const isInvalidRequest = (err: unknown) => (err as SdkErrorLike)?.name === 'InvalidRequestException';

function unreachable(clusterId: string, err: unknown, stepId?: string): ClusterUnhealthyError {
  return new ClusterUnhealthyError('unreachable', { clusterId, ...(stepId ? { stepId } : {}), detail: messageOf(err) }, { cause: err });
}

/** DescribeCluster's answer (ClusterUnhealthyError 'not-found' or 'unreachable' when there is none). */
export async function describeCluster(emr: EMRClient, clusterId: string): Promise<Cluster> {
  try {
    const out = await emr.send(new DescribeClusterCommand({ ClusterId: clusterId }));
    if (!out.Cluster) throw new ClusterUnhealthyError('not-found', { clusterId, detail: 'DescribeCluster returned no cluster' });
    return out.Cluster;
  } catch (err) {
    if (err instanceof ClusterUnhealthyError) throw err;
    if (isUnreachable(err)) throw unreachable(clusterId, err);
    // EMR answers InvalidRequestException for an id it does not know (or no longer lists).
    if (isInvalidRequest(err)) throw new ClusterUnhealthyError('not-found', { clusterId, detail: messageOf(err) }, { cause: err });
    throw err;
  }
}

/** Why the cluster cannot run steps (`ended` when it ended normally), or undefined when it can (or soon can). */
function clusterProblem(cluster: Cluster): { reason: string; detail?: string; ended: boolean } | undefined {
  const state = cluster.Status?.State ?? 'UNKNOWN';
  const code = cluster.Status?.StateChangeReason?.Code;
  const message = cluster.Status?.StateChangeReason?.Message;
  const healthy = HEALTHY_CLUSTER.has(state) || STARTING_CLUSTER.has(state);
  if (healthy && !(code && UNHEALTHY_CODES.has(code))) return undefined;
  const ended = ENDED_STATES.has(state) && code !== undefined && ENDED_CODES.has(code);
  return { reason: code ?? state, ...(message ? { detail: message } : {}), ended };
}

type ClusterError = typeof ClusterUnhealthyError | typeof ClusterEndedError;
const errorFor = (problem: { ended: boolean }): ClusterError => (problem.ended ? ClusterEndedError : ClusterUnhealthyError);

/**
 * DescribeCluster: returns when the cluster can run steps (WAITING or RUNNING; STARTING and
 * BOOTSTRAPPING too, since steps added then simply wait). Throws ClusterUnhealthyError when it is
 * TERMINATING/TERMINATED/TERMINATED_WITH_ERRORS, reports an instance failure or internal error,
 * is unknown ('not-found'), or the API does not answer ('unreachable').
 */
export async function checkCluster(emr: EMRClient, clusterId: string): Promise<void> {
  const cluster = await describeCluster(emr, clusterId);
  const problem = clusterProblem(cluster);
  if (problem)
    throw new (errorFor(problem))(problem.reason, {
      clusterId,
      clusterState: cluster.Status?.State ?? 'UNKNOWN',
      ...(problem.detail ? { detail: problem.detail } : {}),
    });
}

/** Every live step with this name, newest first (ListSteps order), across all pages. */
async function liveStepsNamed(emr: EMRClient, clusterId: string, name: string): Promise<StepSummary[]> {
  const found: StepSummary[] = [];
  let marker: string | undefined;
  do {
    const page = await emr.send(new ListStepsCommand({ ClusterId: clusterId, StepStates: LIVE_STATES, ...(marker ? { Marker: marker } : {}) }));
    for (const step of page.Steps ?? []) if (step.Name === name && step.Id) found.push(step);
    marker = page.Marker;
  } while (marker);
  return found;
}

/** Turns an SDK failure into ClusterUnhealthyError when the cluster is the problem; else rethrows it. */
async function translate(emr: EMRClient, clusterId: string, err: unknown, stepId?: string): Promise<never> {
  if (err instanceof ClusterUnhealthyError || err instanceof ClusterEndedError || err instanceof StepFailedError) throw err;
  if (isUnreachable(err)) throw unreachable(clusterId, err, stepId);
  const name = (err as SdkErrorLike)?.name;
  // A refusal (AddJobFlowSteps on a terminated cluster is a ValidationException; an id of a cluster
  // that is gone is an InvalidRequestException): the cluster's state tells which it was.
  if (name === 'ValidationException' || name === 'InvalidRequestException') await checkCluster(emr, clusterId);
  throw err;
}

/**
 * Adds the step unless the cluster already has a step with the same name that is PENDING, RUNNING
 * or COMPLETED: a retried submission (a Lambda that ran twice) finds it and gets `reused: true`.
 * Two submissions racing past the lookup both add a step; each then lists again, and all agree on
 * the oldest live one. The loser cancels its own, so one step runs.
 */
export async function submitStep(emr: EMRClient, clusterId: string, step: StageStep): Promise<{ stepId: string; reused: boolean }> {
  try {
    const existing = await liveStepsNamed(emr, clusterId, step.name);
    if (existing.length > 0) return { stepId: existing.at(-1)!.Id!, reused: true };

    const added = await emr.send(
      new AddJobFlowStepsCommand({
        JobFlowId: clusterId,
        Steps: [{ Name: step.name, ActionOnFailure: step.actionOnFailure ?? 'CONTINUE', HadoopJarStep: { Jar: 'command-runner.jar', Args: step.args } }],
      }),
    );
    const stepId = added.StepIds?.[0];
    if (!stepId) throw new Error(`AddJobFlowSteps on ${clusterId} returned no step id`);

    const live = await liveStepsNamed(emr, clusterId, step.name);
    const oldest = live.at(-1)?.Id;
    if (oldest === undefined || oldest === stepId) return { stepId, reused: false };
    // Another submission of this name got in first: keep its step, withdraw ours.
    await emr.send(new CancelStepsCommand({ ClusterId: clusterId, StepIds: [stepId], StepCancellationOption: 'SEND_INTERRUPT' })).catch(() => undefined);
    return { stepId: oldest, reused: true };
  } catch (err) {
    return translate(emr, clusterId, err);
  }
}

async function stepError(emr: EMRClient, clusterId: string, step: Step): Promise<StepFailedError | ClusterUnhealthyError | ClusterEndedError> {
  const stepId = step.Id!;
  const stepState = step.Status?.State ?? 'FAILED';
  const failure = step.Status?.FailureDetails;
  const stepDetail = failure?.Message ?? step.Status?.StateChangeReason?.Message;
  const logFile = failure?.LogFile;
  let cluster: Cluster;
  try {
    cluster = await describeCluster(emr, clusterId);
  } catch (err) {
    if (err instanceof ClusterUnhealthyError) {
      return new ClusterUnhealthyError(
        err.reason,
        { clusterId, stepId, stepState, detail: [err.detail, stepDetail].filter(Boolean).join('; '), ...(logFile ? { logFile } : {}) },
        { cause: err },
      );
    }
    throw err;
  }
  const clusterState = cluster.Status?.State ?? 'UNKNOWN';
  const problem = clusterProblem(cluster);
  if (problem) {
    const detail = [problem.detail, stepDetail].filter(Boolean).join('; ');
    return new (errorFor(problem))(problem.reason, {
      clusterId,
      stepId,
      stepState,
      clusterState,
      ...(detail ? { detail } : {}),
      ...(logFile ? { logFile } : {}),
    });
  }
  // The cluster is fine: the step failed by itself, or someone cancelled it (CancelSteps, or a
  // CANCEL_AND_WAIT step before it). Either way a new attempt on this cluster is the remedy.
  const reason = failure?.Reason ?? (stepState === 'FAILED' ? 'Unknown Error.' : stepState);
  return new StepFailedError(reason, {
    clusterId,
    stepId,
    stepState,
    clusterState,
    ...(stepDetail ? { detail: stepDetail } : {}),
    ...(logFile ? { logFile } : {}),
  });
}

/**
 * DescribeStep. PENDING and RUNNING (and CANCEL_PENDING, reported as RUNNING until it settles) are
 * progress; COMPLETED is done. FAILED, CANCELLED and INTERRUPTED throw: ClusterUnhealthyError when
 * the cluster is terminating/terminated or reports an instance failure or internal error, else
 * StepFailedError, both carrying FailureDetails (Reason, Message, LogFile).
 */
export async function pollStep(emr: EMRClient, clusterId: string, stepId: string): Promise<StepProgress> {
  let step: Step | undefined;
  try {
    step = (await emr.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: stepId }))).Step;
  } catch (err) {
    return translate(emr, clusterId, err, stepId);
  }
  const state = step?.Status?.State;
  switch (state) {
    case 'PENDING':
      return { state: 'PENDING' };
    case 'RUNNING':
    case 'CANCEL_PENDING':
      return { state: 'RUNNING' };
    case 'COMPLETED':
      return { state: 'COMPLETED' };
    case 'FAILED':
    case 'CANCELLED':
    case 'INTERRUPTED':
      throw await stepError(emr, clusterId, { ...step, Id: step?.Id ?? stepId });
    default:
      throw new Error(`EMR step ${stepId} on cluster ${clusterId} is in an unknown state ${String(state)}`);
  }
}
