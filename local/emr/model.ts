import { randomBytes } from 'node:crypto';
import type { CreationFaultKind } from './types';

/** The records behind the API: what a cluster and a step are while the stand-in runs. */

export type StepState = 'PENDING' | 'CANCEL_PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED' | 'INTERRUPTED';
export const STEP_STATES: StepState[] = ['PENDING', 'CANCEL_PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED'];

export type ClusterState = 'STARTING' | 'BOOTSTRAPPING' | 'RUNNING' | 'WAITING' | 'TERMINATING' | 'TERMINATED' | 'TERMINATED_WITH_ERRORS';
export const CLUSTER_STATES: ClusterState[] = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'];

/** EMR's ClusterStateChangeReasonCode */
export type ReasonCode = 'INTERNAL_ERROR' | 'VALIDATION_ERROR' | 'INSTANCE_FAILURE' | 'INSTANCE_FLEET_TIMEOUT' | 'BOOTSTRAP_FAILURE' | 'USER_REQUEST' | 'STEP_FAILURE' | 'ALL_STEPS_COMPLETED';

export interface StepRecord {
  id: string;
  clusterId: string;
  name: string;
  jar: string;
  args: string[];
  properties: Record<string, string>;
  actionOnFailure: string;
  state: StepState;
  reason?: string;
  failure?: { Reason: string; Message: string; LogFile: string };
  created: Date;
  started?: Date;
  ended?: Date;
  abort?: AbortController;
  workDir?: string;
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
  reason?: { Code?: ReasonCode; Message: string };
  created: Date;
  ready?: Date;
  ended?: Date;
  /** made by RunJobFlow (false: standing, from options.clusters) */
  viaRunJobFlow: boolean;
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
  step.ended = new Date();
  if (fields.reason !== undefined) step.reason = fields.reason;
  if (fields.failure !== undefined) step.failure = fields.failure;
}
