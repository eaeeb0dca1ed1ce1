import type { InstanceFleetConfig, RunJobFlowCommandInput } from '@aws-sdk/client-emr';
import { InvalidSettingError, LandfallError } from '../errors';
import { requiredSetting, setting, type Env } from '../settings';

/**
 * The heavy path's deployment settings: the two cells (an Availability Zone with its subnet and
 * its ARC routing control) and how a cluster is made in one. They come from serverless.yml (the
 * emrstep function's environment), not from the pipeline definition: they are infrastructure.
 */

/** One cell: an Availability Zone, its subnet and the ARC routing control that says it is active. */
export interface EmrCell {
  name: string;
  routingControlArn: string;
  availabilityZone?: string;
  /** where a transient cluster of this cell is created */
  subnetId?: string;
  /** standing mode: the cell's always-on cluster */
  clusterId?: string;
}

/** One instance fleet: the instance types it may use (Graviton by default) and its capacity in units. */
export interface FleetSpec {
  instanceTypes: string[];
  capacity: number;
}

export interface ClusterSpec {
  /** the value of the `landfall:stack` tag: this deployment's clusters are the ones carrying it */
  stack: string;
  releaseLabel: string;
  /** s3://<lake>/emr-logs/ */
  logUri: string;
  /** the EMR service role the stack creates (iam:PassRole is limited to it and the instance profile) */
  serviceRole: string;
  /** the EC2 instance profile the stack creates */
  jobFlowRole: string;
  /** AutoTerminationPolicy.IdleTimeout: the cluster ends itself after this many idle seconds (60–604800) */
  idleTimeoutSeconds: number;
  /** On-Demand */
  primary: FleetSpec;
  /** On-Demand: HDFS and the shuffle live here, so they must not be reclaimed */
  core: FleetSpec;
  /** Spot, optional: executors only; a reclaimed task node costs a retried task, not the run */
  task?: FleetSpec;
  /** a cluster still STARTING or BOOTSTRAPPING after this long is given up and the run fails over */
  provisionTimeoutMinutes: number;
  /** further tags for every cluster (cost allocation) */
  tags?: Record<string, string>;
}

export type EmrMode = 'transient' | 'standing';

export interface EmrSettings {
  mode: EmrMode;
  cells: EmrCell[];
  /** transient mode only */
  cluster?: ClusterSpec;
}

/** Tag keys on every cluster the stack creates; the IAM policy's conditions name the first. */
export const TAG = { stack: 'landfall:stack', cell: 'landfall:cell', claim: 'landfall:claim' } as const;

/** The EMR settings (the emrstep function's environment) do not describe cells or clusters EMR can use. */
export class EmrSettingsError extends LandfallError {
  override readonly name = 'EmrSettingsError';
  readonly code = 'EMR_SETTINGS_INVALID';
}

/** A JSON setting; one that does not parse is an EmrSettingsError, as every other fault of these settings. */
function jsonSetting<T>(name: 'EMR_CELLS' | 'EMR_CLUSTER_SPEC', env: Env): T {
  try {
    return requiredSetting(name, env) as T;
  } catch (err) {
    throw err instanceof InvalidSettingError ? new EmrSettingsError(`${name} ${err.problem}`) : err;
  }
}

function checkFleet(where: string, fleet: FleetSpec | undefined, optional = false): void {
  if (fleet === undefined && optional) return;
  if (!fleet || !Array.isArray(fleet.instanceTypes) || fleet.instanceTypes.length === 0)
    throw new EmrSettingsError(`EMR_CLUSTER_SPEC.${where}.instanceTypes must list at least one instance type`);
  if (fleet.instanceTypes.length > 30) throw new EmrSettingsError(`EMR_CLUSTER_SPEC.${where}.instanceTypes: an instance fleet takes at most 30 types`);
  if (!Number.isInteger(fleet.capacity) || fleet.capacity < (optional ? 0 : 1))
    throw new EmrSettingsError(`EMR_CLUSTER_SPEC.${where}.capacity must be a whole number ≥ ${optional ? 0 : 1}, not ${String(fleet.capacity)}`);
}

/** Reads EMR_MODE, EMR_CELLS and (transient) EMR_CLUSTER_SPEC, with errors naming the setting. */
export function emrSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): EmrSettings {
  const mode = setting('EMR_MODE', env) as EmrMode;
  if (mode !== 'transient' && mode !== 'standing') throw new EmrSettingsError(`EMR_MODE must be transient or standing, not '${mode}'`);
  const cells = jsonSetting<EmrCell[]>('EMR_CELLS', env);
  if (!Array.isArray(cells) || cells.length !== 2)
    throw new EmrSettingsError(`EMR_CELLS must name exactly two cells (ARC keeps one of them On), not ${Array.isArray(cells) ? cells.length : typeof cells}`);
  for (const [i, cell] of cells.entries()) {
    if (!cell.name || !cell.routingControlArn) throw new EmrSettingsError(`EMR_CELLS[${i}] needs a name and a routingControlArn`);
    if (mode === 'standing' && !cell.clusterId) throw new EmrSettingsError(`EMR_CELLS[${i}] (${cell.name}): standing mode needs the cell's clusterId`);
    if (mode === 'transient' && !cell.subnetId) throw new EmrSettingsError(`EMR_CELLS[${i}] (${cell.name}): transient mode needs the cell's subnetId`);
  }
  if (cells[0]!.name === cells[1]!.name) throw new EmrSettingsError(`EMR_CELLS: the two cells need different names (both are '${cells[0]!.name}')`);
  if (mode === 'standing') return { mode, cells };
  const cluster = jsonSetting<ClusterSpec>('EMR_CLUSTER_SPEC', env);
  // the roles are the stack's own resources, so they come as references of their own
  const serviceRole = setting('EMR_SERVICE_ROLE', env);
  const instanceProfile = setting('EMR_INSTANCE_PROFILE', env);
  if (serviceRole) cluster.serviceRole = serviceRole;
  if (instanceProfile) cluster.jobFlowRole = instanceProfile;
  for (const field of ['stack', 'releaseLabel', 'logUri', 'serviceRole', 'jobFlowRole'] as const) {
    if (typeof cluster[field] !== 'string' || cluster[field] === '')
      throw new EmrSettingsError(
        `EMR_CLUSTER_SPEC.${field} must be set${field === 'serviceRole' ? ' (or EMR_SERVICE_ROLE)' : field === 'jobFlowRole' ? ' (or EMR_INSTANCE_PROFILE)' : ''}`,
      );
  }
  if (!Number.isInteger(cluster.idleTimeoutSeconds) || cluster.idleTimeoutSeconds < 60 || cluster.idleTimeoutSeconds > 604_800) {
    throw new EmrSettingsError(
      `EMR_CLUSTER_SPEC.idleTimeoutSeconds must be a whole number of seconds from 60 to 604800 (EMR's range), not ${String(cluster.idleTimeoutSeconds)}`,
    );
  }
  checkFleet('primary', cluster.primary);
  if (cluster.primary.capacity !== 1) throw new EmrSettingsError('EMR_CLUSTER_SPEC.primary.capacity must be 1 (one primary node)');
  checkFleet('core', cluster.core);
  checkFleet('task', cluster.task, true);
  cluster.provisionTimeoutMinutes ??= 45;
  return { mode, cells, cluster };
}

function fleet(name: string, type: 'MASTER' | 'CORE' | 'TASK', spec: FleetSpec, spot: boolean): InstanceFleetConfig {
  return {
    Name: name,
    InstanceFleetType: type,
    ...(spot ? { TargetSpotCapacity: spec.capacity, TargetOnDemandCapacity: 0 } : { TargetOnDemandCapacity: spec.capacity }),
    InstanceTypeConfigs: spec.instanceTypes.map((InstanceType) => ({ InstanceType, WeightedCapacity: 1 })),
    LaunchSpecifications: spot
      ? // Spot that cannot be had in time falls back to On-Demand rather than stalling the run
        { SpotSpecification: { TimeoutDurationMinutes: 10, TimeoutAction: 'SWITCH_TO_ON_DEMAND', AllocationStrategy: 'price-capacity-optimized' } }
      : { OnDemandSpecification: { AllocationStrategy: 'lowest-price' } },
  };
}

/** The cluster's name: deployment, cell and claim generation, so an operator sees which claim made it. */
export const clusterName = (spec: ClusterSpec, cell: EmrCell, generation: number) => `landfall-${spec.stack}-${cell.name}-g${generation}`;

/**
 * RunJobFlow for the cell's cluster: On-Demand primary and core fleets, a Spot task fleet, in
 * the cell's subnet, logging under the lake bucket, kept alive between steps and ended by the
 * idle timeout, tagged with the stack, the cell and the claim that created it.
 */
export function runJobFlowInput(spec: ClusterSpec, cell: EmrCell, generation: number): RunJobFlowCommandInput {
  if (!cell.subnetId) throw new EmrSettingsError(`cell ${cell.name} has no subnetId`);
  const fleets = [fleet('primary', 'MASTER', spec.primary, false), fleet('core', 'CORE', spec.core, false)];
  if (spec.task && spec.task.capacity > 0) fleets.push(fleet('task', 'TASK', spec.task, true));
  const tags: Record<string, string> = {
    ...spec.tags,
    // EMR's v2 managed service role acts only on resources carrying this tag
    'for-use-with-amazon-emr-managed-policies': 'true',
    [TAG.stack]: spec.stack,
    [TAG.cell]: cell.name,
    [TAG.claim]: String(generation),
  };
  return {
    Name: clusterName(spec, cell, generation),
    ReleaseLabel: spec.releaseLabel,
    LogUri: spec.logUri,
    ServiceRole: spec.serviceRole,
    JobFlowRole: spec.jobFlowRole,
    Applications: [{ Name: 'Spark' }],
    VisibleToAllUsers: true,
    StepConcurrencyLevel: 1,
    Instances: { InstanceFleets: fleets, Ec2SubnetIds: [cell.subnetId], KeepJobFlowAliveWhenNoSteps: true, TerminationProtected: false },
    AutoTerminationPolicy: { IdleTimeout: spec.idleTimeoutSeconds },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}
