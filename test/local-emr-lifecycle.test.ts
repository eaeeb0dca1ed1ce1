import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AddJobFlowStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  EMRClient,
  GetAutoTerminationPolicyCommand,
  ListClustersCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
  type Cluster,
  type ClusterState,
  type InstanceFleetConfig,
  type RunJobFlowCommandInput,
  type StepConfig,
} from '@aws-sdk/client-emr';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalEmr, type LocalEmr, type LocalEmrOptions, type StepRunContext } from '../local/emr';
import { startMinio, type RunningServer } from '../local/servers';

/*
 * The cluster lifecycle of the local EMR: RunJobFlow's transient clusters from STARTING to
 * TERMINATED, idle auto-termination, TerminateJobFlows and the creation faults, over HTTP with
 * the real EMRClient. Steps run through an injected runner (no Spark): its args are the command.
 */

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'emrlife', secretAccessKey: 'emrlife-secret' };
const BUCKET = 'emr-life';
const SUBNETS = { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b' };
const STANDING = 'j-STANDING00000A';
const ENDED: ClusterState[] = ['TERMINATED', 'TERMINATED_WITH_ERRORS'];

let workDir: string;
let minio: RunningServer;
let s3: S3Client;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'landfall-emr-life-'));
  minio = await startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: REGION, webhooks: {} });
  s3 = new S3Client({ endpoint: minio.endpoint, forcePathStyle: true, region: REGION, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  s3?.destroy();
  await minio?.process.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Child processes the runner started, by step id: a cancelled step's must be gone. */
const children = new Map<string, number>();
let running = 0;
let maxRunning = 0;

/**
 * The injected runner. Args: ['sleep', ms] waits (stops when aborted); ['child'] runs a Node
 * process that would sleep a minute, killed when the step is aborted.
 */
async function runStep(ctx: StepRunContext): Promise<void> {
  running++;
  maxRunning = Math.max(maxRunning, running);
  try {
    const [command, arg] = ctx.args;
    if (command === 'sleep') return await sleep(Number(arg ?? 0), undefined, { signal: ctx.signal });
    if (command === 'child') {
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
      children.set(ctx.stepId, child.pid!);
      const kill = () => child.kill('SIGTERM');
      ctx.signal.addEventListener('abort', kill, { once: true });
      await new Promise<void>((resolve) => child.once('exit', () => resolve()));
      ctx.signal.removeEventListener('abort', kill);
      throw new Error('the child was stopped');
    }
    throw new Error(`unknown test command ${command}`);
  } finally {
    running--;
  }
}

let local: LocalEmr | undefined;
let emr: EMRClient | undefined;

/** A local EMR with two known subnets, one standing cluster, and these options. */
async function start(options: Partial<LocalEmrOptions> = {}): Promise<{ local: LocalEmr; emr: EMRClient }> {
  local = await startLocalEmr({ clusters: [{ id: STANDING, name: 'standing' }], s3, region: REGION, subnets: SUBNETS, runStep, ...options });
  emr = new EMRClient({ endpoint: local.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  return { local, emr };
}

afterEach(async () => {
  emr?.destroy();
  await local?.stop();
  local = undefined;
  emr = undefined;
});

const fleets = (masterType = 'm7g.xlarge'): InstanceFleetConfig[] => [
  {
    Name: 'primary',
    InstanceFleetType: 'MASTER',
    TargetOnDemandCapacity: 1,
    InstanceTypeConfigs: [{ InstanceType: masterType, WeightedCapacity: 1 }],
    LaunchSpecifications: { OnDemandSpecification: { AllocationStrategy: 'lowest-price' } },
  },
  { Name: 'core', InstanceFleetType: 'CORE', TargetOnDemandCapacity: 2, InstanceTypeConfigs: [{ InstanceType: 'r7g.2xlarge', WeightedCapacity: 1 }] },
  {
    Name: 'task',
    InstanceFleetType: 'TASK',
    TargetSpotCapacity: 4,
    InstanceTypeConfigs: [{ InstanceType: 'm7g.2xlarge', WeightedCapacity: 1, BidPriceAsPercentageOfOnDemandPrice: 100 }],
    LaunchSpecifications: {
      SpotSpecification: { TimeoutDurationMinutes: 10, TimeoutAction: 'SWITCH_TO_ON_DEMAND', AllocationStrategy: 'price-capacity-optimized' },
    },
  },
];

/** A RunJobFlow request as the orchestration makes one, in subnet-a unless told otherwise. */
function jobFlow(
  overrides: Partial<RunJobFlowCommandInput> = {},
  instances: Partial<NonNullable<RunJobFlowCommandInput['Instances']>> = {},
): RunJobFlowCommandInput {
  return {
    Name: 'landfall-dev-cell-a-g1',
    ReleaseLabel: 'emr-7.3.0',
    LogUri: `s3://${BUCKET}/emr-logs/`,
    ServiceRole: 'landfall-emr-service',
    JobFlowRole: 'landfall-emr-instance',
    Applications: [{ Name: 'Spark' }],
    VisibleToAllUsers: true,
    StepConcurrencyLevel: 1,
    Tags: [
      { Key: 'landfall:stack', Value: 'dev' },
      { Key: 'landfall:cell', Value: 'cell-a' },
    ],
    AutoTerminationPolicy: { IdleTimeout: 600 },
    Instances: { InstanceFleets: fleets(), Ec2SubnetIds: ['subnet-a'], KeepJobFlowAliveWhenNoSteps: true, TerminationProtected: false, ...instances },
    ...overrides,
  };
}

const step = (name: string, ...args: string[]): StepConfig => ({
  Name: name,
  ActionOnFailure: 'CONTINUE',
  HadoopJarStep: { Jar: 'command-runner.jar', Args: args },
});

async function runJobFlow(client: EMRClient, input: RunJobFlowCommandInput): Promise<string> {
  const out = await client.send(new RunJobFlowCommand(input));
  expect(out.ClusterArn).toBe(`arn:aws:elasticmapreduce:${REGION}:000000000000:cluster/${out.JobFlowId}`);
  return out.JobFlowId!;
}

const describe_ = async (client: EMRClient, id: string): Promise<Cluster> => (await client.send(new DescribeClusterCommand({ ClusterId: id }))).Cluster!;

/** Polls read() every 10 ms until ok(value); the last value. */
async function until<T>(read: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await sleep(10);
  }
}

/** The states DescribeCluster goes through (each once, in order) until `last` or an end. */
async function statesUntil(client: EMRClient, id: string, last: ClusterState, timeoutMs = 5000): Promise<{ states: string[]; cluster: Cluster }> {
  const states: string[] = [];
  const cluster = await until(
    () => describe_(client, id),
    (c) => {
      const state = c.Status!.State!;
      if (states.at(-1) !== state) states.push(state);
      return state === last || ENDED.includes(state);
    },
    timeoutMs,
  );
  return { states, cluster };
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

describe('RunJobFlow: a transient cluster through its lifecycle', () => {
  it('goes STARTING, BOOTSTRAPPING, WAITING with Timeline dates, and describes itself as requested (tags, subnet, AZ)', async () => {
    const { local, emr } = await start({ provisioningDelayMs: 150, bootstrapDelayMs: 150 });
    const id = await runJobFlow(emr, jobFlow({}, { Ec2SubnetIds: ['subnet-b'] }));
    const { states, cluster } = await statesUntil(emr, id, 'WAITING');
    expect(states).toEqual(['STARTING', 'BOOTSTRAPPING', 'WAITING']);
    const { CreationDateTime, ReadyDateTime, EndDateTime } = cluster.Status!.Timeline!;
    expect(ReadyDateTime!.getTime() - CreationDateTime!.getTime()).toBeGreaterThanOrEqual(290);
    expect(EndDateTime).toBeUndefined();
    expect(cluster).toMatchObject({
      Id: id,
      Name: 'landfall-dev-cell-a-g1',
      Status: { State: 'WAITING', StateChangeReason: { Message: 'Cluster ready to run steps.' } },
      Tags: [
        { Key: 'landfall:stack', Value: 'dev' },
        { Key: 'landfall:cell', Value: 'cell-a' },
      ],
      Ec2InstanceAttributes: {
        Ec2AvailabilityZone: 'us-east-1b',
        Ec2SubnetId: 'subnet-b',
        RequestedEc2SubnetIds: ['subnet-b'],
        IamInstanceProfile: 'landfall-emr-instance',
      },
      InstanceCollectionType: 'INSTANCE_FLEET',
      ReleaseLabel: 'emr-7.3.0',
      LogUri: `s3://${BUCKET}/emr-logs/`,
      ServiceRole: 'landfall-emr-service',
      AutoTerminate: false,
      TerminationProtected: false,
      StepConcurrencyLevel: 1,
      Applications: [{ Name: 'Spark', Version: '3.5.6' }],
    });
    expect((await emr.send(new GetAutoTerminationPolicyCommand({ ClusterId: id }))).AutoTerminationPolicy).toEqual({ IdleTimeout: 600 });
    expect(await emr.send(new GetAutoTerminationPolicyCommand({ ClusterId: STANDING }))).not.toHaveProperty('AutoTerminationPolicy');

    const record = local.clusters().find((c) => c.id === id)!;
    expect(record).toMatchObject({
      name: 'landfall-dev-cell-a-g1',
      created: true,
      subnetId: 'subnet-b',
      availabilityZone: 'us-east-1b',
      state: 'WAITING',
      idleTimeoutSeconds: 600,
      tags: { 'landfall:stack': 'dev', 'landfall:cell': 'cell-a' },
    });
    expect(record.readyAt!.getTime()).toBe(ReadyDateTime!.getTime());
    expect(record.request).toMatchObject({
      Name: 'landfall-dev-cell-a-g1',
      Instances: {
        Ec2SubnetIds: ['subnet-b'],
        InstanceFleets: [{ InstanceFleetType: 'MASTER' }, { InstanceFleetType: 'CORE' }, { InstanceFleetType: 'TASK' }],
      },
    });
    expect(local.clusters().map((c) => [c.id, c.created])).toEqual([
      [STANDING, false],
      [id, true],
    ]);
  });

  it('a step added while STARTING waits PENDING (idle() counts it) and runs once the cluster is WAITING, after the steps RunJobFlow gave', async () => {
    const { local, emr } = await start({ provisioningDelayMs: 200 });
    const id = await runJobFlow(emr, jobFlow({ Steps: [step('first', 'sleep', '0')] }));
    const added = (await emr.send(new AddJobFlowStepsCommand({ JobFlowId: id, Steps: [step('second', 'sleep', '0')] }))).StepIds![0]!;
    await sleep(50);
    expect((await describe_(emr, id)).Status!.State).toBe('STARTING');
    expect((await emr.send(new DescribeStepCommand({ ClusterId: id, StepId: added }))).Step!.Status!.State).toBe('PENDING');
    expect(await errorOf(local.idle(20))).toMatchObject({ message: expect.stringContaining('steps still pending or running') });

    await local.idle(5000);
    const ready = local.clusters().find((c) => c.id === id)!.readyAt!;
    const steps = local.steps(id);
    expect(steps.map((s) => [s.name, s.state])).toEqual([
      ['first', 'COMPLETED'],
      ['second', 'COMPLETED'],
    ]);
    expect(steps[0]!.startedAt!.getTime()).toBeGreaterThanOrEqual(ready.getTime());
    expect(steps[1]!.startedAt!.getTime()).toBeGreaterThanOrEqual(steps[0]!.endedAt!.getTime());
    expect((await describe_(emr, id)).Status).toMatchObject({ State: 'WAITING', StateChangeReason: { Message: 'Cluster ready after last step completed.' } });
  });

  it('ends itself after IdleTimeout × idleTimeoutScaleMs of idleness (ALL_STEPS_COMPLETED); a step resets the timer; standing clusters stay', async () => {
    // 60 s of idle timeout last 300 ms here
    const { local, emr } = await start({ idleTimeoutScaleMs: 5 });
    await runJobFlow(emr, jobFlow({ Name: 'idle-only', AutoTerminationPolicy: { IdleTimeout: 60 } }));
    const busy = await runJobFlow(emr, jobFlow({ Name: 'busy', AutoTerminationPolicy: { IdleTimeout: 60 } }));
    await until(
      () => describe_(emr, busy),
      (c) => c.Status!.State === 'WAITING',
    );
    await sleep(150); // half the idle time gone
    // ends before the first 300 ms are up: only a reset keeps the cluster past them
    await emr.send(new AddJobFlowStepsCommand({ JobFlowId: busy, Steps: [step('work', 'sleep', '50')] }));
    await local.allEnded(5000);

    const [, idleRecord, busyRecord] = local.clusters();
    const stepEnded = local.steps(busy)[0]!.endedAt!.getTime();
    expect(local.steps(busy)[0]!.state).toBe('COMPLETED');
    for (const record of [idleRecord!, busyRecord!]) {
      expect(record).toMatchObject({ state: 'TERMINATED', reason: { code: 'ALL_STEPS_COMPLETED', message: expect.stringContaining('idle for 60 seconds') } });
    }
    // idle from WAITING on for 300 ms; the busy one's 300 ms began again when its step ended
    expect(idleRecord!.endedAt!.getTime() - idleRecord!.readyAt!.getTime()).toBeGreaterThanOrEqual(295);
    expect(busyRecord!.endedAt!.getTime() - stepEnded).toBeGreaterThanOrEqual(295);
    expect(busyRecord!.endedAt!.getTime()).toBeGreaterThan(idleRecord!.endedAt!.getTime() + 150);
    const described = await describe_(emr, busy);
    expect(described.Status).toMatchObject({ State: 'TERMINATED', StateChangeReason: { Code: 'ALL_STEPS_COMPLETED' } });
    expect(described.Status!.Timeline!.EndDateTime!.getTime()).toBe(busyRecord!.endedAt!.getTime());
    expect((await describe_(emr, STANDING)).Status!.State).toBe('WAITING');
    expect(await errorOf(emr.send(new AddJobFlowStepsCommand({ JobFlowId: busy, Steps: [step('late', 'sleep', '0')] })))).toMatchObject({
      name: 'ValidationException',
      message: 'A job flow that is shutting down, terminated, or finished may not be modified.',
    });
  });

  it('KeepJobFlowAliveWhenNoSteps false: the cluster ends once its steps are done (AutoTerminate true)', async () => {
    const { local, emr } = await start();
    const id = await runJobFlow(
      emr,
      jobFlow({ Steps: [step('only', 'sleep', '50')], AutoTerminationPolicy: undefined }, { KeepJobFlowAliveWhenNoSteps: false }),
    );
    expect((await describe_(emr, id)).AutoTerminate).toBe(true);
    await local.allEnded(5000);
    expect(local.steps(id).map((s) => s.state)).toEqual(['COMPLETED']);
    expect(local.clusters().find((c) => c.id === id)).toMatchObject({
      state: 'TERMINATED',
      reason: { code: 'ALL_STEPS_COMPLETED', message: 'Steps completed' },
    });
  });

  it('StepConcurrencyLevel 2 runs two steps at a time', async () => {
    const { local, emr } = await start();
    maxRunning = 0;
    const id = await runJobFlow(emr, jobFlow({ StepConcurrencyLevel: 2, Steps: ['a', 'b', 'c', 'd'].map((n) => step(n, 'sleep', '100')) }));
    await local.idle(5000);
    expect(maxRunning).toBe(2);
    expect((await describe_(emr, id)).StepConcurrencyLevel).toBe(2);
    const [a, b, c] = local.steps(id);
    expect(c!.startedAt!.getTime()).toBeGreaterThanOrEqual(Math.min(a!.endedAt!.getTime(), b!.endedAt!.getTime()));
  });

  it("a failed step's log goes under the cluster's own LogUri", async () => {
    const { local, emr } = await start({ logUri: `s3://${BUCKET}/standing-logs/` });
    const id = await runJobFlow(emr, jobFlow({ LogUri: `s3://${BUCKET}/cell-a-logs/` }));
    local.failNextStep(id, 'Traceback: bad row 7');
    const stepId = (await emr.send(new AddJobFlowStepsCommand({ JobFlowId: id, Steps: [step('fails', 'sleep', '0')] }))).StepIds![0]!;
    await local.idle(5000);
    const failed = (await emr.send(new DescribeStepCommand({ ClusterId: id, StepId: stepId }))).Step!.Status!;
    expect(failed).toMatchObject({
      State: 'FAILED',
      FailureDetails: { Message: 'Traceback: bad row 7', LogFile: `s3://${BUCKET}/cell-a-logs/${id}/steps/${stepId}/stderr.gz` },
    });
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `cell-a-logs/${id}/steps/${stepId}/stderr.gz` }));
    expect(gunzipSync(await object.Body!.transformToByteArray()).toString('utf8')).toContain('Traceback: bad row 7');
  });
});

describe('TerminateJobFlows', () => {
  it('USER_REQUEST through TERMINATING: the running step is cancelled and its process stopped, pending ones cancelled; idempotent', async () => {
    const { local, emr } = await start({ terminationDelayMs: 150 });
    const id = await runJobFlow(emr, jobFlow());
    await until(
      () => describe_(emr, id),
      (c) => c.Status!.State === 'WAITING',
    );
    const [runningId, pendingId] = (await emr.send(new AddJobFlowStepsCommand({ JobFlowId: id, Steps: [step('long', 'child'), step('next', 'sleep', '0')] })))
      .StepIds!;
    const pid = await until(
      () => children.get(runningId!),
      (p) => p !== undefined,
    );
    expect(() => process.kill(pid!, 0)).not.toThrow(); // the step's process runs
    expect((await describe_(emr, id)).Status!.State).toBe('RUNNING');

    const terminatedAt = Date.now();
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [id] }));
    const terminating = await describe_(emr, id);
    expect(terminating.Status).toMatchObject({ State: 'TERMINATING', StateChangeReason: { Code: 'USER_REQUEST', Message: 'Terminated by user request' } });
    expect(await errorOf(emr.send(new AddJobFlowStepsCommand({ JobFlowId: id, Steps: [step('late', 'sleep', '0')] })))).toMatchObject({
      name: 'ValidationException',
      message: 'A job flow that is shutting down, terminated, or finished may not be modified.',
    });
    for (const stepId of [runningId!, pendingId!])
      expect((await emr.send(new DescribeStepCommand({ ClusterId: id, StepId: stepId }))).Step!.Status!.State).toBe('CANCELLED');
    await until(
      () => {
        try {
          process.kill(pid!, 0);
          return false;
        } catch {
          return true; // ESRCH: gone
        }
      },
      (gone) => gone,
    );

    const { cluster } = await statesUntil(emr, id, 'TERMINATED');
    expect(cluster.Status).toMatchObject({ State: 'TERMINATED', StateChangeReason: { Code: 'USER_REQUEST', Message: 'Terminated by user request' } });
    // TERMINATING lasted terminationDelayMs
    expect(cluster.Status!.Timeline!.EndDateTime!.getTime() - terminatedAt).toBeGreaterThanOrEqual(145);
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [id] })); // again: nothing changes
    expect((await describe_(emr, id)).Status).toMatchObject({ State: 'TERMINATED', StateChangeReason: { Code: 'USER_REQUEST' } });
    await local.allEnded(1000);
    await local.idle(1000);
  });

  it('refuses an unknown id before changing anything; a protected cluster stays while the others of the request end', async () => {
    const { local, emr } = await start();
    const guarded = await runJobFlow(emr, jobFlow({ Name: 'guarded' }, { TerminationProtected: true }));
    const plain = await runJobFlow(emr, jobFlow({ Name: 'plain' }));
    await until(
      () => local.clusters(),
      (cs) => cs.every((c) => c.state === 'WAITING'),
    );

    expect(await errorOf(emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [plain, 'j-NOSUCHCLUSTER'] })))).toMatchObject({
      name: 'ValidationException',
      message: 'Specified job flow ID not valid.',
    });
    expect((await describe_(emr, plain)).Status!.State).toBe('WAITING');

    const refused = await errorOf(emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [guarded, plain] })));
    expect(refused).toMatchObject({ name: 'ValidationException', message: 'Could not shut down one or more job flows since they are termination protected.' });
    expect(await describe_(emr, guarded)).toMatchObject({ TerminationProtected: true, Status: { State: 'WAITING' } });
    await until(
      () => describe_(emr, plain),
      (c) => c.Status!.State === 'TERMINATED',
    );
    expect(await errorOf(local.allEnded(50))).toMatchObject({ message: `local EMR: clusters still up after 50 ms: ${guarded} (guarded, WAITING)` });
  });
});

describe('standing clusters (options.clusters)', () => {
  it('carry their configured tags, report no auto-termination, and end only when told (TerminateJobFlows; makeHealthy brings one back)', async () => {
    const { local, emr } = await start({
      clusters: [{ id: STANDING, name: 'standing', availabilityZone: 'us-east-1b', tags: { 'landfall:cell': 'cell-b' } }],
      idleTimeoutScaleMs: 1,
    });
    expect(await describe_(emr, STANDING)).toMatchObject({
      Tags: [{ Key: 'landfall:cell', Value: 'cell-b' }],
      AutoTerminate: false,
      ReleaseLabel: 'emr-7.13.0',
      Ec2InstanceAttributes: { Ec2AvailabilityZone: 'us-east-1b' },
    });
    expect(local.clusters()).toEqual([expect.objectContaining({ id: STANDING, created: false, tags: { 'landfall:cell': 'cell-b' }, state: 'WAITING' })]);
    await local.allEnded(10); // no created cluster: nothing to wait for
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [STANDING] }));
    await until(
      () => describe_(emr, STANDING),
      (c) => c.Status!.State === 'TERMINATED',
    );
    local.makeHealthy(STANDING);
    expect((await describe_(emr, STANDING)).Status!.State).toBe('WAITING');
  });
});

describe('creation faults (failCreation) and makeUnhealthy on created clusters', () => {
  const delays = { provisioningDelayMs: 50, bootstrapDelayMs: 50 };

  it("'capacity' in one subnet: INSTANCE_FLEET_TIMEOUT naming the instance type and AZ, steps cancelled; the other subnet and the next cluster are fine", async () => {
    const { local, emr } = await start(delays);
    local.failCreation({ subnetId: 'subnet-a' }, 'capacity');
    const failing = await runJobFlow(emr, jobFlow({ Steps: [step('never', 'sleep', '0')] }));
    const other = await runJobFlow(emr, jobFlow({}, { Ec2SubnetIds: ['subnet-b'] }));
    const { states, cluster } = await statesUntil(emr, failing, 'TERMINATED_WITH_ERRORS');
    expect(states).not.toContain('BOOTSTRAPPING');
    expect(cluster.Status).toMatchObject({
      State: 'TERMINATED_WITH_ERRORS',
      StateChangeReason: {
        Code: 'INSTANCE_FLEET_TIMEOUT',
        Message: 'EC2 has insufficient capacity for m7g.xlarge in us-east-1a (InsufficientInstanceCapacity) (local fault injection)',
      },
    });
    expect(cluster.Status!.Timeline!.ReadyDateTime).toBeUndefined();
    expect(cluster.Status!.Timeline!.EndDateTime).toBeInstanceOf(Date);
    expect(local.steps(failing).map((s) => s.state)).toEqual(['CANCELLED']);
    expect((await statesUntil(emr, other, 'WAITING')).cluster.Status!.State).toBe('WAITING');
    // times defaults to 1: the next cluster in subnet-a comes up
    const next = await runJobFlow(emr, jobFlow());
    expect((await statesUntil(emr, next, 'WAITING')).cluster.Status!.State).toBe('WAITING');
  });

  it("'az-impaired' for an AZ, twice: INTERNAL_ERROR naming the AZ; a cluster in the other AZ comes up meanwhile", async () => {
    const { local, emr } = await start(delays);
    local.failCreation({ availabilityZone: 'us-east-1a' }, 'az-impaired', 2);
    const ids = [await runJobFlow(emr, jobFlow()), await runJobFlow(emr, jobFlow()), await runJobFlow(emr, jobFlow({}, { Ec2SubnetIds: ['subnet-b'] }))];
    const ends = await Promise.all(ids.map((id) => statesUntil(emr, id, 'WAITING')));
    for (const { cluster } of ends.slice(0, 2)) {
      expect(cluster.Status).toMatchObject({
        State: 'TERMINATED_WITH_ERRORS',
        StateChangeReason: { Code: 'INTERNAL_ERROR', Message: expect.stringContaining('Availability Zone us-east-1a is impaired') },
      });
    }
    expect(ends[2]!.cluster.Status!.State).toBe('WAITING');
    const third = await runJobFlow(emr, jobFlow());
    expect((await statesUntil(emr, third, 'WAITING')).cluster.Status!.State).toBe('WAITING');
  });

  it("'bootstrap': BOOTSTRAP_FAILURE while BOOTSTRAPPING, naming the primary instance", async () => {
    const { local, emr } = await start({ provisioningDelayMs: 100, bootstrapDelayMs: 100, terminationDelayMs: 100 });
    local.failCreation({ subnetId: 'subnet-a' }, 'bootstrap');
    const id = await runJobFlow(emr, jobFlow());
    const { states, cluster } = await statesUntil(emr, id, 'TERMINATED_WITH_ERRORS');
    expect(states).toEqual(['STARTING', 'BOOTSTRAPPING', 'TERMINATING', 'TERMINATED_WITH_ERRORS']);
    expect(cluster.Status!.StateChangeReason).toMatchObject({ Code: 'BOOTSTRAP_FAILURE' });
    expect(cluster.Status!.StateChangeReason!.Message).toMatch(
      /^On the master instance \(i-[0-9a-f]{17}\), bootstrap action 1 returned a non-zero return code \(local fault injection\)$/,
    );
  });

  it('with several Ec2SubnetIds the cluster goes where no fault is armed; Infinity keeps failing until clearCreationFaults; makeUnhealthy names the AZ', async () => {
    const { local, emr } = await start();
    local.failCreation({ subnetId: 'subnet-a' }, 'capacity', Infinity);
    const placed = await runJobFlow(emr, jobFlow({}, { Ec2SubnetIds: ['subnet-a', 'subnet-b'] }));
    expect((await describe_(emr, placed)).Ec2InstanceAttributes).toMatchObject({
      Ec2SubnetId: 'subnet-b',
      Ec2AvailabilityZone: 'us-east-1b',
      RequestedEc2SubnetIds: ['subnet-a', 'subnet-b'],
    });
    for (let i = 0; i < 3; i++) {
      const id = await runJobFlow(emr, jobFlow());
      expect((await statesUntil(emr, id, 'WAITING')).cluster.Status!.StateChangeReason!.Code).toBe('INSTANCE_FLEET_TIMEOUT');
    }
    local.clearCreationFaults();
    const fine = await runJobFlow(emr, jobFlow());
    expect((await statesUntil(emr, fine, 'WAITING')).cluster.Status!.State).toBe('WAITING');

    await until(
      () => describe_(emr, placed),
      (c) => c.Status!.State === 'WAITING',
    );
    local.makeUnhealthy(placed, 'az-impaired');
    expect((await describe_(emr, placed)).Status).toMatchObject({
      State: 'TERMINATED_WITH_ERRORS',
      StateChangeReason: { Code: 'INSTANCE_FAILURE', Message: expect.stringContaining('Availability Zone us-east-1b is impaired') },
    });
  });
});

describe('RunJobFlow validation and ListClusters', () => {
  it('refuses bad requests with ValidationException and a message naming the problem; nothing is created', async () => {
    const { local, emr } = await start();
    const refused = async (input: unknown) => errorOf(emr.send(new RunJobFlowCommand(input as RunJobFlowCommandInput)));
    const { Name: _name, ...noName } = jobFlow();
    expect(await refused(noName)).toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value null at 'Name' failed to satisfy constraint: Member must not be null",
    });
    const { Instances: _instances, ...noInstances } = jobFlow();
    expect(await refused(noInstances)).toMatchObject({ name: 'ValidationException', message: expect.stringContaining("Value null at 'Instances'") });
    for (const idle of [30, 604_801]) {
      expect(await refused(jobFlow({ AutoTerminationPolicy: { IdleTimeout: idle } }))).toMatchObject({
        name: 'ValidationException',
        message: `AutoTerminationPolicy.IdleTimeout must be a whole number of seconds from 60 to 604800, not ${idle}.`,
      });
    }
    const twoMasters = [...fleets(), { ...fleets()[0]!, Name: 'primary-2' }];
    expect(await refused(jobFlow({}, { InstanceFleets: twoMasters }))).toMatchObject({
      name: 'ValidationException',
      message: 'Exactly one MASTER instance fleet is required; the request has 2.',
    });
    expect(await refused(jobFlow({}, { InstanceGroups: [{ InstanceRole: 'MASTER', InstanceType: 'm7g.xlarge', InstanceCount: 1 }] }))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('InstanceFleets and InstanceGroups cannot both be given'),
    });
    expect(await refused(jobFlow({}, { Ec2SubnetIds: ['subnet-b', 'subnet-zz'] }))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("subnet ID 'subnet-zz' does not exist"),
    });
    expect(local.clusters().filter((c) => c.created)).toEqual([]);

    // instance groups are accepted too
    const grouped = await runJobFlow(
      emr,
      jobFlow(
        {},
        {
          InstanceFleets: undefined,
          Ec2SubnetIds: undefined,
          Ec2SubnetId: 'subnet-b',
          InstanceGroups: [
            { InstanceRole: 'MASTER', InstanceType: 'm7g.xlarge', InstanceCount: 1 },
            { InstanceRole: 'CORE', InstanceType: 'r7g.xlarge', InstanceCount: 2 },
          ],
        },
      ),
    );
    expect(await describe_(emr, grouped)).toMatchObject({
      InstanceCollectionType: 'INSTANCE_GROUP',
      Ec2InstanceAttributes: { Ec2SubnetId: 'subnet-b', Ec2AvailabilityZone: 'us-east-1b' },
    });
  });

  it('without options.subnets any subnet is accepted, in <region>a', async () => {
    const { emr } = await start({ subnets: undefined });
    const id = await runJobFlow(emr, jobFlow({}, { Ec2SubnetIds: ['subnet-anything'] }));
    expect((await describe_(emr, id)).Ec2InstanceAttributes).toMatchObject({ Ec2SubnetId: 'subnet-anything', Ec2AvailabilityZone: 'us-east-1a' });
  });

  it('ListClusters filters by lifecycle state, newest first, paged; stop() ends the timers and allEnded waiters', async () => {
    const { local, emr } = await start({ provisioningDelayMs: 60_000, terminationDelayMs: 60_000, pageSize: 2 });
    const starting = [
      await runJobFlow(emr, jobFlow({ Name: 's1' })),
      await runJobFlow(emr, jobFlow({ Name: 's2' })),
      await runJobFlow(emr, jobFlow({ Name: 's3' })),
    ];
    const terminating = await runJobFlow(emr, jobFlow({ Name: 'going' }));
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [terminating] }));
    const broken = await runJobFlow(emr, jobFlow({ Name: 'broken' }));
    local.makeUnhealthy(broken, 'terminated');

    const list = async (states: ClusterState[]) => {
      const ids: string[] = [];
      let marker: string | undefined;
      do {
        const page = await emr.send(new ListClustersCommand({ ClusterStates: states, ...(marker ? { Marker: marker } : {}) }));
        expect(page.Clusters!.length).toBeLessThanOrEqual(2);
        ids.push(...page.Clusters!.map((c) => c.Id!));
        marker = page.Marker;
      } while (marker);
      return ids;
    };
    expect(await list(['STARTING'])).toEqual([...starting].reverse());
    expect(await list(['TERMINATING'])).toEqual([terminating]);
    expect(await list(['TERMINATED_WITH_ERRORS', 'TERMINATED'])).toEqual([broken]);
    expect(await list(['WAITING', 'RUNNING'])).toEqual([STANDING]);
    expect(await list(['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING'])).toEqual([...[...starting].reverse(), STANDING]);
    expect(await errorOf(emr.send(new ListClustersCommand({ ClusterStates: ['DEAD' as ClusterState] })))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('ClusterStates must be among'),
    });

    const ended = errorOf(local.allEnded(60_000));
    const stopping = Date.now();
    await local.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    expect(await ended).toMatchObject({ message: 'local EMR stopped' });
  });
});
