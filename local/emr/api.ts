import { epochSeconds, ServiceError, str } from '../aws-json';
import type { Lifecycle } from './clusters';
import type { CreationFaults } from './faults';
import { accepting, CLUSTER_STATES, emrId, settle, STEP_STATES, type ClusterRecord, type ClusterState, type StepRecord, type StepState } from './model';
import { parseRunJobFlow, parseSteps, placeCluster, required, strings } from './requests';

/** The EMR JSON operations: requests in, the service's response shapes out. */

export interface ApiContext {
  region: string;
  accountId: string;
  pageSize: number;
  subnets?: Record<string, string>;
  lifecycle: Lifecycle;
  creationFaults: CreationFaults;
  pump(cluster: ClusterRecord): void;
  changed(): void;
}

export const clusterArn = (region: string, accountId: string, id: string) => `arn:aws:elasticmapreduce:${region}:${accountId}:cluster/${id}`;

export function emrOperations(ctx: ApiContext): Record<string, (body: Record<string, unknown>) => object> {
  const { clusters } = ctx.lifecycle;

  const clusterFor = (id: string): ClusterRecord => {
    const cluster = clusters.get(id);
    if (!cluster) throw new ServiceError('InvalidRequestException', `Cluster id '${id}' is not valid.`);
    return cluster;
  };
  const stepFor = (cluster: ClusterRecord, id: string): StepRecord => {
    const step = cluster.steps.find((s) => s.id === id);
    if (!step) throw new ServiceError('InvalidRequestException', `Step id '${id}' is not valid.`);
    return step;
  };
  const refuseIfGoing = (cluster: ClusterRecord) => {
    if (!accepting(cluster)) throw new ServiceError('ValidationException', 'A job flow that is shutting down, terminated, or finished may not be modified.');
  };

  const status = (s: StepRecord) => ({
    State: s.state,
    StateChangeReason: s.reason ? { Message: s.reason } : {},
    ...(s.failure ? { FailureDetails: s.failure } : {}),
    Timeline: { CreationDateTime: epochSeconds(s.createdAt), StartDateTime: epochSeconds(s.startedAt), EndDateTime: epochSeconds(s.endedAt) },
  });
  const stepSummary = (s: StepRecord) => ({
    Id: s.id,
    Name: s.name,
    Config: { Jar: s.jar, Properties: s.properties, Args: s.args },
    ActionOnFailure: s.actionOnFailure,
    Status: status(s),
  });
  const clusterStatus = (c: ClusterRecord) => ({
    State: c.state,
    StateChangeReason: c.reason ?? {},
    Timeline: { CreationDateTime: epochSeconds(c.createdAt), ReadyDateTime: epochSeconds(c.readyAt), EndDateTime: epochSeconds(c.endedAt) },
  });
  const ec2Attributes = (c: ClusterRecord) => {
    if (!c.viaRunJobFlow) return c.availabilityZone ? { Ec2InstanceAttributes: { Ec2AvailabilityZone: c.availabilityZone } } : {};
    return {
      Ec2InstanceAttributes: {
        Ec2AvailabilityZone: c.availabilityZone,
        ...(c.subnetId ? { Ec2SubnetId: c.subnetId } : {}),
        RequestedEc2SubnetIds: c.config.requestedSubnetIds,
        ...(c.config.jobFlowRole ? { IamInstanceProfile: c.config.jobFlowRole } : {}),
      },
    };
  };
  const page = <T>(items: T[], body: Record<string, unknown>): { items: T[]; marker?: string } => {
    const marker = str(body, 'Marker');
    const start = marker === undefined ? 0 : Number.parseInt(Buffer.from(marker, 'base64url').toString('utf8'), 10);
    if (!Number.isInteger(start) || start < 0) throw new ServiceError('InvalidRequestException', 'Marker is not valid.');
    const end = start + ctx.pageSize;
    return { items: items.slice(start, end), ...(end < items.length ? { marker: Buffer.from(String(end)).toString('base64url') } : {}) };
  };

  return {
    RunJobFlow: (body) => {
      const request = parseRunJobFlow(body);
      const id = emrId('j');
      const steps = parseSteps(request.steps, id, true);
      const placement = placeCluster(request, {
        region: ctx.region,
        ...(ctx.subnets ? { subnets: ctx.subnets } : {}),
        isArmed: (s, az) => ctx.creationFaults.isArmed(s, az),
      });
      const fault = ctx.creationFaults.take(placement.subnetId, placement.availabilityZone);
      const cluster: ClusterRecord = {
        id,
        name: request.name,
        arn: clusterArn(ctx.region, ctx.accountId, id),
        availabilityZone: placement.availabilityZone,
        ...(placement.subnetId ? { subnetId: placement.subnetId } : {}),
        tags: request.tags,
        state: 'STARTING',
        createdAt: new Date(),
        viaRunJobFlow: true,
        request: structuredClone(body),
        config: request.config,
        steps,
        failNext: [],
        active: new Set(),
        ...(fault ? { creationFault: fault } : {}),
      };
      ctx.lifecycle.launch(cluster);
      return { JobFlowId: id, ClusterArn: cluster.arn };
    },
    TerminateJobFlows: (body) => {
      const ids = strings(body, 'JobFlowIds');
      if (!ids)
        throw new ServiceError(
          'ValidationException',
          "1 validation error detected: Value null at 'JobFlowIds' failed to satisfy constraint: Member must not be null",
        );
      if (ids.length > 10) throw new ServiceError('ValidationException', `TerminateJobFlows takes at most 10 job flows, not ${ids.length}`);
      // an unknown id fails the whole request before any cluster changes, as on EMR
      for (const id of ids) if (!clusters.has(id)) throw new ServiceError('ValidationException', 'Specified job flow ID not valid.');
      // EMR ends the unprotected clusters of the request, then refuses it if any was protected
      let protectedOne = false;
      for (const id of ids) {
        const cluster = clusters.get(id)!;
        if (cluster.config.terminationProtected && accepting(cluster)) protectedOne = true;
        else ctx.lifecycle.terminate(cluster, 'USER_REQUEST', 'Terminated by user request');
      }
      if (protectedOne) throw new ServiceError('ValidationException', 'Could not shut down one or more job flows since they are termination protected.');
      return {};
    },
    DescribeCluster: (body) => {
      const c = clusterFor(required(body, 'ClusterId'));
      return {
        Cluster: {
          Id: c.id,
          Name: c.name,
          Status: clusterStatus(c),
          ClusterArn: c.arn,
          ...ec2Attributes(c),
          InstanceCollectionType: c.config.instanceCollectionType,
          ...(c.config.logUri ? { LogUri: c.config.logUri } : {}),
          ReleaseLabel: c.config.releaseLabel,
          Applications: c.config.applications,
          ...(c.config.configurations ? { Configurations: c.config.configurations } : {}),
          ...(c.config.serviceRole ? { ServiceRole: c.config.serviceRole } : {}),
          StepConcurrencyLevel: c.config.stepConcurrencyLevel,
          AutoTerminate: !c.config.keepAlive,
          TerminationProtected: c.config.terminationProtected,
          VisibleToAllUsers: c.config.visibleToAllUsers,
          Tags: c.tags,
          NormalizedInstanceHours: 0,
        },
      };
    },
    GetAutoTerminationPolicy: (body) => {
      const c = clusterFor(required(body, 'ClusterId'));
      return c.config.idleTimeoutSeconds === undefined ? {} : { AutoTerminationPolicy: { IdleTimeout: c.config.idleTimeoutSeconds } };
    },
    ListClusters: (body) => {
      const states = strings(body, 'ClusterStates');
      if (states?.some((s) => !CLUSTER_STATES.includes(s as ClusterState)))
        throw new ServiceError('ValidationException', `ClusterStates must be among ${CLUSTER_STATES.join(', ')}`);
      const after = body.CreatedAfter as number | undefined;
      const before = body.CreatedBefore as number | undefined;
      const list = [...clusters.values()]
        .filter((c) => !states || states.includes(c.state))
        .filter((c) => (after === undefined || c.createdAt.getTime() / 1000 >= after) && (before === undefined || c.createdAt.getTime() / 1000 <= before))
        .reverse(); // newest first
      const { items, marker } = page(list, body);
      return {
        Clusters: items.map((c) => ({ Id: c.id, Name: c.name, Status: clusterStatus(c), NormalizedInstanceHours: 0, ClusterArn: c.arn })),
        ...(marker ? { Marker: marker } : {}),
      };
    },
    AddJobFlowSteps: (body) => {
      const cluster = clusterFor(required(body, 'JobFlowId'));
      const configs = body.Steps;
      if (!Array.isArray(configs) || configs.length === 0 || configs.length > 256)
        throw new ServiceError('ValidationException', 'Steps must hold 1 to 256 steps');
      refuseIfGoing(cluster);
      const steps = parseSteps(configs, cluster.id);
      cluster.steps.push(...steps);
      ctx.lifecycle.stepsAdded(cluster);
      // a STARTING or BOOTSTRAPPING cluster keeps them PENDING until it is WAITING
      setImmediate(() => ctx.pump(cluster));
      return { StepIds: steps.map((s) => s.id) };
    },
    ListSteps: (body) => {
      const cluster = clusterFor(required(body, 'ClusterId'));
      const states = strings(body, 'StepStates');
      if (states?.some((s) => !STEP_STATES.includes(s as StepState)))
        throw new ServiceError('ValidationException', `StepStates must be among ${STEP_STATES.join(', ')}`);
      const ids = strings(body, 'StepIds');
      // AWS lists the most recent step first.
      const list = [...cluster.steps].reverse().filter((s) => (!states || states.includes(s.state)) && (!ids || ids.includes(s.id)));
      const { items, marker } = page(list, body);
      return { Steps: items.map(stepSummary), ...(marker ? { Marker: marker } : {}) };
    },
    DescribeStep: (body) => {
      const cluster = clusterFor(required(body, 'ClusterId'));
      return { Step: stepSummary(stepFor(cluster, required(body, 'StepId'))) };
    },
    CancelSteps: (body) => {
      const cluster = clusterFor(required(body, 'ClusterId'));
      const ids = strings(body, 'StepIds') ?? [];
      const info = ids.map((id) => {
        const step = cluster.steps.find((s) => s.id === id);
        if (!step) return { StepId: id, Status: 'FAILED', Reason: `Step id '${id}' is not valid.` };
        if (step.state === 'PENDING') {
          settle(step, 'CANCELLED', { reason: 'Cancelled by CancelSteps' });
        } else if (step.state === 'RUNNING') {
          step.state = 'CANCEL_PENDING';
          step.reason = 'Cancelled by CancelSteps';
          step.abort?.abort();
        } else if (step.state !== 'CANCEL_PENDING') {
          return { StepId: id, Status: 'FAILED', Reason: `Step is in state ${step.state} and cannot be cancelled.` };
        }
        return { StepId: id, Status: 'SUBMITTED' };
      });
      ctx.changed();
      return { CancelStepsInfoList: info };
    },
  };
}
