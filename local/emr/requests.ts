import { ServiceError, str } from '../aws-json';
import { emrId, type ClusterConfig, type StepRecord } from './model';

/**
 * Reading and validating requests as EMR does: a ValidationException whose message names the
 * field, before anything changes.
 */

const invalid = (message: string) => new ServiceError('ValidationException', message);
type Body = Record<string, unknown>;

export function required(body: Body, field: string): string {
  const value = str(body, field);
  if (value === undefined || value === '')
    throw invalid(`1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  return value;
}

export function strings(body: Body, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalid(`${field} must be a list of strings`);
  return value as string[];
}

function object(body: Body, field: string): Body | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field} must be an object`);
  return value as Body;
}

function objects(body: Body, field: string): Body[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null || Array.isArray(v))) throw invalid(`${field} must be a list of objects`);
  return value as Body[];
}

function bool(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${field} must be a boolean`);
  return value;
}

function integer(body: Body, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(`${field} must be a whole number`);
  return value;
}

/* ---------------------------------------------------------------- steps */

const ACTIONS_ON_FAILURE = ['TERMINATE_JOB_FLOW', 'TERMINATE_CLUSTER', 'CANCEL_AND_WAIT', 'CONTINUE'];

/** StepConfig[] of AddJobFlowSteps (1 to 256) or RunJobFlow (0 to 256), as PENDING steps of the cluster. */
export function parseSteps(raw: unknown, clusterId: string, allowNone = false): StepRecord[] {
  if ((raw === undefined || raw === null) && allowNone) return [];
  if (!Array.isArray(raw) || raw.length > 256 || (raw.length === 0 && !allowNone)) throw invalid('Steps must hold 1 to 256 steps');
  return raw.map((item: unknown): StepRecord => {
    const config = (item ?? {}) as Body;
    const name = required(config, 'Name');
    if (name.length > 256) throw invalid('Step name must be at most 256 characters');
    const jarStep = (config.HadoopJarStep ?? {}) as Body;
    const actionOnFailure = str(config, 'ActionOnFailure') ?? 'CONTINUE';
    if (!ACTIONS_ON_FAILURE.includes(actionOnFailure)) throw invalid(`ActionOnFailure ${actionOnFailure} is not valid`);
    const properties = Object.fromEntries(
      ((jarStep.Properties as Array<{ Key?: string; Value?: string }> | undefined) ?? []).map((p) => [p.Key ?? '', p.Value ?? '']),
    );
    return {
      id: emrId('s'),
      clusterId,
      name,
      jar: required(jarStep, 'Jar'),
      args: strings(jarStep, 'Args') ?? [],
      properties,
      actionOnFailure,
      state: 'PENDING',
      createdAt: new Date(),
      uploaded: [],
      deleted: [],
    };
  });
}

/* ---------------------------------------------------------------- RunJobFlow */

export const DEFAULT_RELEASE_LABEL = 'emr-7.13.0';
/** the Spark of DEFAULT_RELEASE_LABEL, which DescribeCluster reports */
export const SPARK_VERSION = '3.5.6';
/** EMR's range for AutoTerminationPolicy.IdleTimeout */
const IDLE_TIMEOUT = { min: 60, max: 604_800, default: 3600 };
const NODE_TYPES = ['MASTER', 'CORE', 'TASK'];

export interface RunJobFlowRequest {
  name: string;
  tags: Array<{ Key: string; Value: string }>;
  /** requestedSubnetIds is filled in; placement chooses among them */
  config: ClusterConfig;
  /** Instances.Placement.AvailabilityZone, used when no subnet is given */
  placementAz?: string;
  steps: unknown;
}

/** At most one of each node type, exactly one MASTER; the primary's instance type. */
function checkNodeTypes(kind: 'instance fleet' | 'instance group', types: string[]): void {
  for (const type of NODE_TYPES) {
    const count = types.filter((t) => t === type).length;
    if (type === 'MASTER' && count !== 1) throw invalid(`Exactly one MASTER ${kind} is required; the request has ${count}.`);
    if (count > 1) throw invalid(`At most one ${type} ${kind} is allowed; the request has ${count}.`);
  }
}

function parseFleets(fleets: Body[]): string | undefined {
  const types = fleets.map((fleet, i) => {
    const type = str(fleet, 'InstanceFleetType');
    if (!type || !NODE_TYPES.includes(type))
      throw invalid(`Instances.InstanceFleets[${i}].InstanceFleetType must be MASTER, CORE or TASK, not ${type ?? 'null'}`);
    const configs = objects(fleet, 'InstanceTypeConfigs') ?? [];
    if (configs.length === 0 || configs.length > 30)
      throw invalid(`Instances.InstanceFleets[${i}] (${type}) must list 1 to 30 InstanceTypeConfigs, not ${configs.length}`);
    configs.forEach((c, j) => {
      if (!str(c, 'InstanceType')) throw invalid(`Instances.InstanceFleets[${i}].InstanceTypeConfigs[${j}].InstanceType must be set`);
    });
    const onDemand = integer(fleet, 'TargetOnDemandCapacity') ?? 0;
    const spot = integer(fleet, 'TargetSpotCapacity') ?? 0;
    if (onDemand < 0 || spot < 0) throw invalid(`Instances.InstanceFleets[${i}] (${type}): target capacities must not be negative`);
    if (type === 'MASTER' && onDemand + spot !== 1)
      throw invalid(`The MASTER instance fleet's target capacity (TargetOnDemandCapacity + TargetSpotCapacity) must be 1, not ${onDemand + spot}.`);
    return type;
  });
  checkNodeTypes('instance fleet', types);
  const master = fleets[types.indexOf('MASTER')]!;
  return str((objects(master, 'InstanceTypeConfigs') ?? [])[0] ?? {}, 'InstanceType');
}

function parseGroups(groups: Body[]): string | undefined {
  const roles = groups.map((group, i) => {
    const role = str(group, 'InstanceRole');
    if (!role || !NODE_TYPES.includes(role)) throw invalid(`Instances.InstanceGroups[${i}].InstanceRole must be MASTER, CORE or TASK, not ${role ?? 'null'}`);
    if (!str(group, 'InstanceType')) throw invalid(`Instances.InstanceGroups[${i}] (${role}).InstanceType must be set`);
    const count = integer(group, 'InstanceCount');
    if (count === undefined || count < 0) throw invalid(`Instances.InstanceGroups[${i}] (${role}).InstanceCount must be a whole number ≥ 0`);
    if (role === 'MASTER' && count !== 1 && count !== 3) throw invalid(`The MASTER instance group's InstanceCount must be 1 or 3, not ${count}.`);
    return role;
  });
  checkNodeTypes('instance group', roles);
  return str(groups[roles.indexOf('MASTER')]!, 'InstanceType');
}

export function parseRunJobFlow(body: Body): RunJobFlowRequest {
  const name = required(body, 'Name');
  if (name.length > 256) throw invalid('Name must be at most 256 characters');
  const instances = object(body, 'Instances');
  if (!instances) throw invalid("1 validation error detected: Value null at 'Instances' failed to satisfy constraint: Member must not be null");

  const fleets = objects(instances, 'InstanceFleets');
  const groups = objects(instances, 'InstanceGroups');
  if (fleets?.length && groups?.length)
    throw invalid('Instances: InstanceFleets and InstanceGroups cannot both be given; a cluster uses instance fleets or instance groups.');
  let masterInstanceType: string | undefined;
  let instanceCollectionType: ClusterConfig['instanceCollectionType'];
  if (fleets?.length) {
    masterInstanceType = parseFleets(fleets);
    instanceCollectionType = 'INSTANCE_FLEET';
  } else if (groups?.length) {
    masterInstanceType = parseGroups(groups);
    instanceCollectionType = 'INSTANCE_GROUP';
  } else if (str(instances, 'MasterInstanceType')) {
    masterInstanceType = str(instances, 'MasterInstanceType');
    instanceCollectionType = 'INSTANCE_GROUP';
  } else {
    throw invalid('Instances must give InstanceFleets, InstanceGroups or MasterInstanceType.');
  }

  const subnetIds = [...new Set([...(str(instances, 'Ec2SubnetId') ? [str(instances, 'Ec2SubnetId')!] : []), ...(strings(instances, 'Ec2SubnetIds') ?? [])])];
  if (instanceCollectionType === 'INSTANCE_GROUP' && subnetIds.length > 1)
    throw invalid('Several Ec2SubnetIds are supported only with instance fleets; instance groups take one subnet.');

  const releaseLabel = str(body, 'ReleaseLabel') ?? DEFAULT_RELEASE_LABEL;
  if (!/^emr-\d+\.\d+\.\d+$/.test(releaseLabel)) throw invalid(`The requested release label ${releaseLabel} is not valid.`);
  const logUri = str(body, 'LogUri');
  if (logUri !== undefined && !/^s3n?:\/\/[^/]+/.test(logUri)) throw invalid(`LogUri must be an s3:// URI, not '${logUri}'`);

  const policy = object(body, 'AutoTerminationPolicy');
  let idleTimeoutSeconds: number | undefined;
  if (policy) {
    const value = policy.IdleTimeout ?? IDLE_TIMEOUT.default;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < IDLE_TIMEOUT.min || value > IDLE_TIMEOUT.max) {
      throw invalid(
        `AutoTerminationPolicy.IdleTimeout must be a whole number of seconds from ${IDLE_TIMEOUT.min} to ${IDLE_TIMEOUT.max}, not ${String(value)}.`,
      );
    }
    idleTimeoutSeconds = value;
  }
  const stepConcurrencyLevel = integer(body, 'StepConcurrencyLevel') ?? 1;
  if (stepConcurrencyLevel < 1 || stepConcurrencyLevel > 256) throw invalid(`StepConcurrencyLevel must be from 1 to 256, not ${stepConcurrencyLevel}.`);

  const tags = (objects(body, 'Tags') ?? []).map((tag, i) => {
    const key = str(tag, 'Key');
    const value = str(tag, 'Value') ?? '';
    if (!key || key.length > 128) throw invalid(`Tags[${i}].Key must have 1 to 128 characters`);
    if (value.length > 256) throw invalid(`Tags[${i}].Value must have at most 256 characters`);
    return { Key: key, Value: value };
  });
  if (tags.length > 50) throw invalid(`A cluster takes at most 50 tags, not ${tags.length}`);
  if (new Set(tags.map((t) => t.Key)).size !== tags.length) throw invalid('Tags: each key may be given once');

  const applications = (objects(body, 'Applications') ?? []).map((app, i) => {
    const appName = str(app, 'Name');
    if (!appName) throw invalid(`Applications[${i}].Name must be set`);
    return { Name: appName, ...(appName.toLowerCase() === 'spark' ? { Version: SPARK_VERSION } : {}) };
  });
  const configurations = body.Configurations;
  if (configurations !== undefined && !Array.isArray(configurations)) throw invalid('Configurations must be a list');
  const serviceRole = str(body, 'ServiceRole');
  const jobFlowRole = str(body, 'JobFlowRole');
  const placementAz = str(object(instances, 'Placement') ?? {}, 'AvailabilityZone');

  return {
    name,
    tags,
    config: {
      releaseLabel,
      ...(logUri !== undefined ? { logUri } : {}),
      ...(serviceRole !== undefined ? { serviceRole } : {}),
      ...(jobFlowRole !== undefined ? { jobFlowRole } : {}),
      applications,
      ...(configurations !== undefined ? { configurations } : {}),
      visibleToAllUsers: bool(body, 'VisibleToAllUsers') ?? true,
      stepConcurrencyLevel,
      // EMR's default: without it the cluster ends once it has no steps left
      keepAlive: bool(instances, 'KeepJobFlowAliveWhenNoSteps') ?? false,
      terminationProtected: bool(instances, 'TerminationProtected') ?? false,
      ...(idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds } : {}),
      instanceCollectionType,
      ...(masterInstanceType ? { masterInstanceType } : {}),
      requestedSubnetIds: subnetIds,
    },
    ...(placementAz ? { placementAz } : {}),
    steps: body.Steps,
  };
}

/**
 * The cluster's subnet and AZ: every requested subnet must be known (when options.subnets says
 * which are); among several, the first where no creation fault is armed (EMR picks a subnet that
 * has capacity), else the first.
 */
export function placeCluster(
  request: RunJobFlowRequest,
  where: { subnets?: Record<string, string>; region: string; isArmed(subnetId: string | undefined, availabilityZone: string): boolean },
): { subnetId?: string; availabilityZone: string } {
  const azOf = (subnetId: string) => where.subnets?.[subnetId] ?? `${where.region}a`;
  const requested = request.config.requestedSubnetIds;
  for (const subnetId of requested) {
    if (where.subnets && !Object.hasOwn(where.subnets, subnetId)) throw invalid(`The subnet ID '${subnetId}' does not exist (InvalidSubnetID.NotFound).`);
  }
  if (requested.length === 0) return { availabilityZone: request.placementAz ?? `${where.region}a` };
  const subnetId = requested.find((s) => !where.isArmed(s, azOf(s))) ?? requested[0]!;
  return { subnetId, availabilityZone: azOf(subnetId) };
}
