import { randomBytes } from 'node:crypto';

/**
 * The records behind the API: what a cluster and a step are while the stand-in runs, and the
 * copies of them LocalEmr.clusters() and steps() give out (the one definition of each record).
 */

export type StepState = 'PENDING' | 'CANCEL_PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED' | 'INTERRUPTED';
export const STEP_STATES: StepState[] = ['PENDING', 'CANCEL_PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED'];

export type ClusterState = 'STARTING' | 'BOOTSTRAPPING' | 'RUNNING' | 'WAITING' | 'TERMINATING' | 'TERMINATED' | 'TERMINATED_WITH_ERRORS';
export const CLUSTER_STATES: ClusterState[] = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'];

/** EMR's ClusterStateChangeReasonCode */
export type ReasonCode =
  | 'INTERNAL_ERROR'
  | 'VALIDATION_ERROR'
  | 'INSTANCE_FAILURE'
  | 'INSTANCE_FLEET_TIMEOUT'
  | 'BOOTSTRAP_FAILURE'
  | 'USER_REQUEST'
  | 'STEP_FAILURE'
  | 'ALL_STEPS_COMPLETED';

/** How a cluster being created fails (see LocalEmr.failCreation). */
export type CreationFaultKind = 'capacity' | 'az-impaired' | 'bootstrap';

export interface StepRecord {
  id: string;
  clusterId: string;
  name: string;
  jar: string;
  /** the step's HadoopJarStep.Args as submitted */
  args: string[];
  properties: Record<string, string>;
  actionOnFailure: string;
  state: StepState;
  reason?: string;
  /** EMR's FailureDetails, as DescribeStep returns them */
  failure?: { Reason: string; Message: string; LogFile: string };
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  abort?: AbortController;
  workDir?: string;
  /** s3:// URIs the step's mirror uploaded or deleted after it succeeded */
  uploaded: string[];
  deleted: string[];
}

/** What DescribeCluster reports beyond the state: from RunJobFlow, or fixed for a standing cluster. */
export interface ClusterConfig {
  releaseLabel: string;
  logUri?: string;
  serviceRole?: string;
  jobFlowRole?: string;
  applications: Array<{ Name: string; Version?: string }>;
  configurations?: unknown[];
  visibleToAllUsers: boolean;
  stepConcurrencyLevel: number;
  /** KeepJobFlowAliveWhenNoSteps: false ends the cluster once its steps are done */
  keepAlive: boolean;
  terminationProtected: boolean;
  idleTimeoutSeconds?: number;
  instanceCollectionType: 'INSTANCE_FLEET' | 'INSTANCE_GROUP';
  /** the primary node's (first) instance type: what a capacity fault names */
  masterInstanceType?: string;
  requestedSubnetIds: string[];
}

export interface ClusterRecord {
  id: string;
  name: string;
  arn: string;
  availabilityZone?: string;
  subnetId?: string;
  tags: Array<{ Key: string; Value: string }>;
  state: ClusterState;
  /** EMR's StateChangeReason, as DescribeCluster returns it */
  reason?: { Code?: ReasonCode; Message: string };
  createdAt: Date;
  readyAt?: Date;
  endedAt?: Date;
  /** made by RunJobFlow (false: standing, from options.clusters) */
  viaRunJobFlow: boolean;
  /** the RunJobFlow body as received */
  request?: Record<string, unknown>;
  config: ClusterConfig;
  steps: StepRecord[];
  failNext: string[];
  /** executors of the steps that run now (and of interrupted ones still winding down) */
  active: Set<Promise<void>>;
  /** the pending lifecycle transition (provisioning, bootstrap, termination) */
  transition?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  /** armed at creation by failCreation: how this cluster's provisioning ends */
  creationFault?: CreationFaultKind;
}

/** A step as LocalEmr.steps() gives it out: a copy of the record's fields, FailureDetails in lower case. */
export interface LocalStepRecord
  extends Pick<StepRecord, 'id' | 'clusterId' | 'name' | 'args' | 'state' | 'createdAt' | 'startedAt' | 'endedAt' | 'workDir' | 'uploaded' | 'deleted'> {
  failure?: { reason: string; message: string; logFile: string };
}

/** A cluster as LocalEmr.clusters() gives it out: a copy of the record's fields, tags as a map, the reason in lower case. */
export interface LocalClusterRecord
  extends Pick<ClusterRecord, 'id' | 'name' | 'availabilityZone' | 'subnetId' | 'state' | 'createdAt' | 'readyAt' | 'endedAt' | 'request'>,
    Pick<ClusterConfig, 'idleTimeoutSeconds'> {
  tags: Record<string, string>;
  reason?: { code?: ReasonCode; message: string };
  /** made by RunJobFlow: the record's viaRunJobFlow (false: one of options.clusters) */
  created: boolean;
}

export function stepView(s: StepRecord): LocalStepRecord {
  return {
    id: s.id,
    clusterId: s.clusterId,
    name: s.name,
    args: [...s.args],
    state: s.state,
    createdAt: s.createdAt,
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.endedAt ? { endedAt: s.endedAt } : {}),
    ...(s.failure ? { failure: { reason: s.failure.Reason, message: s.failure.Message, logFile: s.failure.LogFile } } : {}),
    ...(s.workDir ? { workDir: s.workDir } : {}),
    uploaded: [...s.uploaded],
    deleted: [...s.deleted],
  };
}

export function clusterView(c: ClusterRecord): LocalClusterRecord {
  return {
    id: c.id,
    name: c.name,
    ...(c.availabilityZone ? { availabilityZone: c.availabilityZone } : {}),
    ...(c.subnetId ? { subnetId: c.subnetId } : {}),
    tags: Object.fromEntries(c.tags.map((t) => [t.Key, t.Value])),
    state: c.state,
    ...(c.reason ? { reason: { ...(c.reason.Code ? { code: c.reason.Code } : {}), message: c.reason.Message } } : {}),
    createdAt: c.createdAt,
    ...(c.readyAt ? { readyAt: c.readyAt } : {}),
    ...(c.endedAt ? { endedAt: c.endedAt } : {}),
    created: c.viaRunJobFlow,
    ...(c.request ? { request: structuredClone(c.request) } : {}),
    ...(c.config.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: c.config.idleTimeoutSeconds } : {}),
  };
}

const ALPHANUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** j-…, s-…: 13 characters of [0-9A-Z], as EMR's ids */
export const emrId = (prefix: string) => `${prefix}-${[...randomBytes(13)].map((b) => ALPHANUM[b % 36]).join('')}`;
export const ec2InstanceId = () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

/** Steps can be added and the cluster is not going away. */
export const accepting = (c: ClusterRecord) => c.state !== 'TERMINATING' && c.state !== 'TERMINATED' && c.state !== 'TERMINATED_WITH_ERRORS';
export const hasEnded = (c: ClusterRecord) => c.state === 'TERMINATED' || c.state === 'TERMINATED_WITH_ERRORS';
/** The cluster runs steps now (steps added while STARTING/BOOTSTRAPPING wait for this). */
export const canRunSteps = (c: ClusterRecord) => c.state === 'WAITING' || c.state === 'RUNNING';
export const unfinished = (s: StepRecord) => s.state === 'PENDING' || s.state === 'RUNNING' || s.state === 'CANCEL_PENDING';
export const hasWork = (c: ClusterRecord) => c.active.size > 0 || c.steps.some(unfinished);

export function settle(step: StepRecord, state: StepState, fields: { reason?: string; failure?: StepRecord['failure'] } = {}): void {
  step.state = state;
  step.endedAt = new Date();
  if (fields.reason !== undefined) step.reason = fields.reason;
  if (fields.failure !== undefined) step.failure = fields.failure;
}
