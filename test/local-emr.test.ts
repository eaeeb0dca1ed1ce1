import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  EMRClient,
  InvalidRequestException,
  ListClustersCommand,
  ListStepsCommand,
} from '@aws-sdk/client-emr';
import { CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readObjectText } from '../shared/core/s3/object-io';
import { failureReport, logTail } from '../shared/stages/orchestrate/failure-report';
import type { JobRunStore } from '../shared/core/runs/job-run-store';
import { checkCluster, ClusterUnhealthyError, pollStep, StepFailedError, submitStep, type StepProgress } from '../shared/core/emr/emr-steps';
import { startLocalEmr, type LocalEmr, type StepRunContext } from '../local/emr';
import { startMinio, type RunningServer } from '../local/servers';

const run = promisify(execFile);
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'emrtest', secretAccessKey: 'emrtest-secret' };
const BUCKET = 'emr-lake';
const [A, B, C] = ['j-1PRIMARY00000A', 'j-2STANDBY00000B', 'j-3SPARE000000C'];

/** The "job": reads every file under <input>, replaces <output> with part-<tag>.txt (upper-cased) and _SUCCESS. */
const JOB = `
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [input, output, tag = 'run', sleepMs = '0'] = process.argv.slice(2);
await new Promise((r) => setTimeout(r, Number(sleepMs)));
const files = readdirSync(input, { recursive: true }).map(String).filter((f) => statSync(join(input, f)).isFile()).sort();
const text = files.map((f) => f + ':' + readFileSync(join(input, f), 'utf8').toUpperCase()).join('\\n');
rmSync(output, { recursive: true, force: true });
mkdirSync(output, { recursive: true });
writeFileSync(join(output, 'part-' + tag + '.txt'), text);
writeFileSync(join(output, '.part-' + tag + '.txt.crc'), 'hadoop checksum');
writeFileSync(join(output, '_SUCCESS'), '');
console.log('read ' + files.length + ' files');
`;
const FAILING_JOB = `console.log('starting'); console.error('Traceback: bad input row 7'); process.exit(3);`;
const SLOW_JOB = `setTimeout(() => {}, 60_000);`;

let workDir: string;
let minio: RunningServer;
let s3: S3Client;

async function putText(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function versionsUnder(prefix: string): Promise<Record<string, number>> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: prefix }));
  const counts: Record<string, number> = {};
  for (const v of out.Versions ?? []) counts[v.Key!] = (counts[v.Key!] ?? 0) + 1;
  return counts;
}

async function liveKeys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Versions ?? [])
    .filter((v) => v.IsLatest)
    .map((v) => v.Key!)
    .sort();
}

/** Polls like the state machine's Wait/Choice loop until COMPLETED (or pollStep throws). */
async function waitForStep(emr: EMRClient, clusterId: string, stepId: string, timeoutMs = 30_000): Promise<StepProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await pollStep(emr, clusterId, stepId);
    if (progress.state === 'COMPLETED') return progress;
    if (Date.now() > deadline) throw new Error(`step ${stepId} still ${progress.state}`);
    await sleep(25);
  }
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'landfall-emr-test-'));
  minio = await startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: REGION, webhooks: {} });
  s3 = new S3Client({ endpoint: minio.endpoint, forcePathStyle: true, region: REGION, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // versions prove what the mirror did and did not upload
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  await putText('scripts/job.mjs', JOB);
  await putText('scripts/fail.mjs', FAILING_JOB);
  await putText('scripts/slow.mjs', SLOW_JOB);
});

afterAll(async () => {
  s3?.destroy();
  await minio?.process.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("a failed step's log under the clusters' LogUri, as EMR writes it", () => {
  it('names the gzipped stderr in S3, and the failure alert carries its last lines', async () => {
    const logged = await startLocalEmr({
      clusters: [{ id: A, name: 'logged' }],
      s3,
      region: REGION,
      logUri: `s3://${BUCKET}/emr-logs/`,
      runStep: async () => undefined,
    });
    try {
      const client = new EMRClient({ endpoint: logged.endpoint, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      logged.failNextStep(A, 'Traceback (most recent call last):\nValueError: bad row 7');
      const { stepId } = await submitStep(client, A, {
        name: 'exec9-clean-a1',
        args: ['node', `s3://${BUCKET}/scripts/job.mjs`, `s3://${BUCKET}/logs/in/`, `s3://${BUCKET}/logs/out/`, 'l', '0'],
      });
      const failed = (await errorOf(waitForStep(client, A, stepId))) as StepFailedError;
      expect(failed.logFile).toBe(`s3://${BUCKET}/emr-logs/${A}/steps/${stepId}/stderr.gz`);
      expect(await logTail(s3, failed.logFile!)).toEqual(['Traceback (most recent call last):', 'ValueError: bad row 7']);
      // what the job-failure alert gets from the state machine's Catch: Lambda's JSON cause of emrstep
      const runs = { getRun: async () => ({ stages: { clean: { status: 'SUCCEEDED' } } }) } as unknown as JobRunStore;
      const run = {
        job: 'clickstream_daily',
        batchId: 'b',
        values: { date: '2026-11-23' },
        executionName: 'clickstream_daily-2026-11-23-abc-r1',
        fingerprint: 'f',
        inputs: {},
        engine: 'emr' as const,
        stages: [{ name: 'clean' }, { name: 'enrich' }],
      };
      const report = await failureReport(
        run,
        { Error: failed.name, Cause: JSON.stringify({ errorType: failed.name, errorMessage: failed.message, trace: [] }) },
        { runs, s3 },
      );
      expect(report).toMatchObject({
        stage: 'enrich',
        attempt: 2,
        error: 'StepFailedError',
        log: { location: failed.logFile, lastLines: ['Traceback (most recent call last):', 'ValueError: bad row 7'] },
      });
    } finally {
      await logged.stop();
    }
  });
});

describe('local EMR with an injected runner (real EMRClient and S3Client over HTTP)', () => {
  let local: LocalEmr;
  let emr: EMRClient;
  let active = 0;
  let maxActive = 0;
  let onStart: ((ctx: StepRunContext) => void) | undefined;
  const seen: StepRunContext[] = [];

  beforeAll(async () => {
    local = await startLocalEmr({
      clusters: [
        { id: A, name: 'landfall-primary', availabilityZone: 'us-east-1a' },
        { id: B, name: 'landfall-standby' },
        { id: C, name: 'landfall-spare' },
      ],
      s3,
      region: REGION,
      pageSize: 2, // so that every listing here spans pages
      // args: ['node', <script>, ...]: runs the script on this Node, as the step's command would
      runStep: async (ctx) => {
        seen.push(ctx);
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          const [command, ...rest] = ctx.localArgs;
          expect(command).toBe('node');
          const { stdout } = await run(process.execPath, rest, { cwd: ctx.workDir, signal: ctx.signal });
          await writeFile(join(ctx.workDir, 'stdout'), stdout);
        } finally {
          active--;
        }
      },
    });
    local.onStepStart((ctx) => onStart?.(ctx));
    emr = new EMRClient({ endpoint: local.endpoint, region: REGION, credentials: CREDENTIALS });
  });
  afterAll(async () => {
    emr?.destroy();
    await local?.stop();
  });

  const jobStep = (name: string, input: string, output: string, tag: string, sleepMs = 0) => ({
    name,
    args: ['node', `s3://${BUCKET}/scripts/job.mjs`, `s3://${BUCKET}/${input}`, `s3://${BUCKET}/${output}`, tag, String(sleepMs)],
  });

  it('describes and lists the configured clusters (newest first, paged)', async () => {
    const { Cluster } = await emr.send(new DescribeClusterCommand({ ClusterId: A }));
    expect(Cluster).toMatchObject({
      Id: A,
      Name: 'landfall-primary',
      Status: { State: 'WAITING' },
      StepConcurrencyLevel: 1,
      Ec2InstanceAttributes: { Ec2AvailabilityZone: 'us-east-1a' },
    });
    expect(Cluster!.Status!.Timeline!.CreationDateTime).toBeInstanceOf(Date);
    const first = await emr.send(new ListClustersCommand({ ClusterStates: ['WAITING', 'RUNNING'] }));
    expect(first.Clusters!.map((c) => c.Id)).toEqual([C, B]);
    const second = await emr.send(new ListClustersCommand({ ClusterStates: ['WAITING', 'RUNNING'], Marker: first.Marker }));
    expect(second.Clusters!.map((c) => c.Id)).toEqual([A]);
    expect(second.Marker).toBeUndefined();
    const err = await errorOf(emr.send(new DescribeClusterCommand({ ClusterId: 'j-NOPE' })));
    expect(err).toBeInstanceOf(InvalidRequestException);
    expect((err as Error).message).toBe("Cluster id 'j-NOPE' is not valid.");
  });

  it("runs a cluster's steps one at a time, in submission order, with Timeline dates", async () => {
    await putText('order/in/x.txt', 'x');
    maxActive = 0;
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await submitStep(emr, A, jobStep(`order-s${n}-a1`, 'order/in/', `order/out${n}/`, `s${n}`, 300))).stepId);
    const queued = await emr.send(new DescribeStepCommand({ ClusterId: A, StepId: ids[2] }));
    expect(queued.Step!.Status!.State).toBe('PENDING');
    expect((await emr.send(new DescribeClusterCommand({ ClusterId: A }))).Cluster!.Status!.State).toBe('RUNNING');
    await local.idle();

    expect(maxActive).toBe(1);
    const steps = local.steps(A).filter((s) => ids.includes(s.id));
    expect(steps.map((s) => s.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.startedAt!.getTime()).toBeGreaterThanOrEqual(steps[i - 1]!.endedAt!.getTime());
    const described = await emr.send(new DescribeStepCommand({ ClusterId: A, StepId: ids[0] }));
    expect(described.Step).toMatchObject({
      Id: ids[0],
      Name: 'order-s1-a1',
      ActionOnFailure: 'CONTINUE',
      Config: { Jar: 'command-runner.jar', Args: jobStep('', 'order/in/', 'order/out1/', 's1', 300).args },
    });
    const timeline = described.Step!.Status!.Timeline!;
    expect(timeline.StartDateTime!.getTime()).toBeGreaterThanOrEqual(timeline.CreationDateTime!.getTime());
    expect(timeline.EndDateTime!.getTime() - timeline.StartDateTime!.getTime()).toBeGreaterThanOrEqual(300);
    // ListSteps: newest first, across pages of 2
    const page1 = await emr.send(new ListStepsCommand({ ClusterId: A, StepStates: ['COMPLETED'] }));
    const page2 = await emr.send(new ListStepsCommand({ ClusterId: A, StepStates: ['COMPLETED'], Marker: page1.Marker }));
    expect([...page1.Steps!, ...page2.Steps!].map((s) => s.Id)).toEqual([...ids].reverse());
    expect((await emr.send(new DescribeClusterCommand({ ClusterId: A }))).Cluster!.Status!.State).toBe('WAITING');
  });

  it('stages s3:// args in and uploads new outputs back, leaving inputs alone; deletes what the step removed', async () => {
    await putText('stage/in/a.txt', 'alpha');
    await putText('stage/in/sub/b.txt', 'beta');
    const { stepId } = await submitStep(emr, B, jobStep('stage-run1-a1', 'stage/in/', 'stage/out/', 'r1'));
    await waitForStep(emr, B, stepId);

    const ctx = seen.find((s) => s.stepId === stepId)!;
    expect(ctx.localArgs[1]).toBe(join(ctx.workDir, 's3', BUCKET, 'scripts', 'job.mjs')); // a single object: its file
    expect(ctx.localArgs[2]).toBe(`${join(ctx.workDir, 's3', BUCKET, 'stage', 'in')}/`);
    expect(await readObjectText(s3, BUCKET, 'stage/out/part-r1.txt')).toBe('a.txt:ALPHA\nsub/b.txt:BETA');
    expect(await liveKeys('stage/')).toEqual(['stage/in/a.txt', 'stage/in/sub/b.txt', 'stage/out/_SUCCESS', 'stage/out/part-r1.txt']); // no .crc
    expect(local.steps(B).find((s) => s.id === stepId)!.uploaded).toEqual([`s3://${BUCKET}/stage/out/_SUCCESS`, `s3://${BUCKET}/stage/out/part-r1.txt`]);
    expect(await versionsUnder('stage/in/')).toEqual({ 'stage/in/a.txt': 1, 'stage/in/sub/b.txt': 1 });
    expect(await versionsUnder('scripts/job.mjs')).toEqual({ 'scripts/job.mjs': 1 });

    // A rerun that overwrites its output (as Spark does): the old part file goes, inputs stay unwritten.
    const rerun = await submitStep(emr, B, jobStep('stage-run2-a1', 'stage/in/', 'stage/out/', 'r2'));
    await waitForStep(emr, B, rerun.stepId);
    expect(await liveKeys('stage/out/')).toEqual(['stage/out/_SUCCESS', 'stage/out/part-r2.txt']);
    expect(local.steps(B).find((s) => s.id === rerun.stepId)!.deleted).toEqual([`s3://${BUCKET}/stage/out/part-r1.txt`]);
    expect(await versionsUnder('stage/in/')).toEqual({ 'stage/in/a.txt': 1, 'stage/in/sub/b.txt': 1 });
  });

  it('submitStep with a name already PENDING/RUNNING/COMPLETED returns that step (reused), also when two race', async () => {
    await putText('dup/in/a.txt', 'a');
    const step = jobStep('exec1-clean-a1', 'dup/in/', 'dup/out/', 'd');
    const first = await submitStep(emr, A, step);
    const again = await submitStep(emr, A, step);
    expect(first.reused).toBe(false);
    expect(again).toEqual({ stepId: first.stepId, reused: true });
    await waitForStep(emr, A, first.stepId);
    expect(await submitStep(emr, A, step)).toEqual({ stepId: first.stepId, reused: true }); // COMPLETED counts too

    // Two Lambdas submitting at once: both add, then both settle on the older step.
    const racing = jobStep('exec1-enrich-a1', 'dup/in/', 'dup/out2/', 'e');
    const [x, y] = await Promise.all([submitStep(emr, A, racing), submitStep(emr, A, racing)]);
    expect(x.stepId).toBe(y.stepId);
    expect([x.reused, y.reused].sort()).toEqual([false, true]);
    await local.idle();
    const named = local.steps(A).filter((s) => s.name === racing.name);
    expect(named.map((s) => s.state).sort()).toEqual(['CANCELLED', 'COMPLETED']);
    const listed = await emr.send(new ListStepsCommand({ ClusterId: A, StepStates: ['PENDING', 'RUNNING', 'COMPLETED'] }));
    let all = listed.Steps!;
    for (let marker = listed.Marker; marker; ) {
      const next = await emr.send(new ListStepsCommand({ ClusterId: A, StepStates: ['PENDING', 'RUNNING', 'COMPLETED'], Marker: marker }));
      all = [...all, ...next.Steps!];
      marker = next.Marker;
    }
    expect(all.filter((s) => s.Name === step.name)).toHaveLength(1);
    expect(all.filter((s) => s.Name === racing.name).map((s) => s.Id)).toEqual([x.stepId]);
  });

  it('failNextStep: pollStep throws StepFailedError with the message and log file; the name can be submitted again', async () => {
    await putText('fail/in/a.txt', 'a');
    local.failNextStep(A, 'Container killed: exit code 137 (out of memory)');
    const step = jobStep('exec2-clean-a1', 'fail/in/', 'fail/out/', 'f');
    const { stepId } = await submitStep(emr, A, step);
    const err = await errorOf(waitForStep(emr, A, stepId));
    expect(err).toBeInstanceOf(StepFailedError);
    const failed = err as StepFailedError;
    expect(failed.name).toBe('StepFailedError');
    expect(failed).toMatchObject({
      clusterId: A,
      stepId,
      stepState: 'FAILED',
      reason: 'Unknown Error.',
      detail: 'Container killed: exit code 137 (out of memory)',
    });
    expect(failed.clusterState).toMatch(/^(WAITING|RUNNING)$/);
    expect(failed.logFile).toMatch(/stderr$/);
    expect(await readFile(failed.logFile!, 'utf8')).toContain('exit code 137');
    expect(failed.message).toContain(stepId);
    expect(failed.message).toContain(failed.logFile);
    expect(await liveKeys('fail/out/')).toEqual([]);
    await checkCluster(emr, A); // the cluster itself is fine

    // The same name again (FAILED does not count) and a new attempt name both get new steps.
    const same = await submitStep(emr, A, step);
    expect(same.reused).toBe(false);
    expect(same.stepId).not.toBe(stepId);
    await waitForStep(emr, A, same.stepId);
    const next = await submitStep(emr, A, { ...step, name: 'exec2-clean-a2' });
    expect(next.reused).toBe(false);
    await waitForStep(emr, A, next.stepId);
    expect(await liveKeys('fail/out/')).toEqual(['fail/out/_SUCCESS', 'fail/out/part-f.txt']);
  });

  it('makeUnhealthy while a step runs: pollStep and checkCluster throw ClusterUnhealthyError, AddJobFlowSteps is refused', async () => {
    await putText('sick/in/a.txt', 'a');
    onStart = (ctx) => {
      // the cluster's AZ goes away while stage 3 runs (its job sleeps 2 s)
      if (ctx.name.endsWith('-s3-a1')) setTimeout(() => local.makeUnhealthy(C, 'az-impaired'), 300);
    };
    try {
      const ids: string[] = [];
      for (const n of [1, 2, 3, 4])
        ids.push((await submitStep(emr, C, jobStep(`exec3-s${n}-a1`, 'sick/in/', `sick/out${n}/`, `s${n}`, n === 3 ? 2000 : 0))).stepId);
      await waitForStep(emr, C, ids[0]!);
      await waitForStep(emr, C, ids[1]!);
      const err = await errorOf(waitForStep(emr, C, ids[2]!));
      expect(err).toBeInstanceOf(ClusterUnhealthyError);
      expect(err).toMatchObject({
        name: 'ClusterUnhealthyError',
        clusterId: C,
        stepId: ids[2],
        stepState: 'INTERRUPTED',
        clusterState: 'TERMINATED_WITH_ERRORS',
        reason: 'INSTANCE_FAILURE',
      });
      expect((err as Error).message).toContain('Availability Zone us-east-1a is impaired');
      // the pending stage 4 was cancelled with the cluster
      expect(await errorOf(pollStep(emr, C, ids[3]!))).toMatchObject({ name: 'ClusterUnhealthyError', stepState: 'CANCELLED' });
      const unhealthy = await errorOf(checkCluster(emr, C));
      expect(unhealthy).toBeInstanceOf(ClusterUnhealthyError);
      expect(unhealthy).toMatchObject({ reason: 'INSTANCE_FAILURE', clusterState: 'TERMINATED_WITH_ERRORS' });

      // AddJobFlowSteps is refused as AWS refuses it; submitStep turns that into ClusterUnhealthyError.
      const refused = await errorOf(
        emr.send(new AddJobFlowStepsCommand({ JobFlowId: C, Steps: [{ Name: 'x', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] })),
      );
      expect(refused).toMatchObject({ name: 'ValidationException', message: 'A job flow that is shutting down, terminated, or finished may not be modified.' });
      expect(await errorOf(submitStep(emr, C, jobStep('exec3-s5-a1', 'sick/in/', 'sick/out5/', 's5')))).toBeInstanceOf(ClusterUnhealthyError);
      await local.idle();
      // the interrupted stage's outputs never reached S3; stages 1 and 2 did
      expect(await liveKeys('sick/out3/')).toEqual([]);
      expect(await liveKeys('sick/out2/')).toEqual(['sick/out2/_SUCCESS', 'sick/out2/part-s2.txt']);
      expect(local.steps(C).map((s) => s.state)).toEqual(['COMPLETED', 'COMPLETED', 'INTERRUPTED', 'CANCELLED']);
    } finally {
      onStart = undefined;
      local.makeHealthy(C);
    }
    await checkCluster(emr, C);
    const after = await submitStep(emr, C, jobStep('exec3-s3-a2', 'sick/in/', 'sick/out3/', 's3'));
    await waitForStep(emr, C, after.stepId);
  });

  it('makeUnhealthy("terminated") on an idle cluster; an unknown cluster is unhealthy too', async () => {
    local.makeUnhealthy(B, 'terminated');
    try {
      expect(await errorOf(checkCluster(emr, B))).toMatchObject({
        name: 'ClusterUnhealthyError',
        reason: 'INSTANCE_FAILURE',
        clusterState: 'TERMINATED_WITH_ERRORS',
      });
      expect(await errorOf(checkCluster(emr, 'j-GONE'))).toMatchObject({ name: 'ClusterUnhealthyError', reason: 'not-found' });
    } finally {
      local.makeHealthy(B);
    }
    await checkCluster(emr, B);
  });

  it('an API answering InternalServerError is unreachable; a stopped endpoint is unreachable', async () => {
    const once = new EMRClient({ endpoint: local.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
    local.failApiCalls(1);
    const err = await errorOf(checkCluster(once, A));
    expect(err).toBeInstanceOf(ClusterUnhealthyError);
    expect(err).toMatchObject({ reason: 'unreachable', clusterId: A });
    expect((err as Error).message).toContain('InternalServerError');
    once.destroy();

    const gone = await startLocalEmr({ clusters: [{ id: A, name: 'gone' }], s3, runStep: async () => undefined });
    const client = new EMRClient({ endpoint: gone.endpoint, region: REGION, credentials: CREDENTIALS });
    const { stepId } = await submitStep(client, A, { name: 'before-stop', args: ['true'] });
    await gone.stop();
    const down = await errorOf(checkCluster(client, A));
    expect(down).toBeInstanceOf(ClusterUnhealthyError);
    expect(down).toMatchObject({ reason: 'unreachable', clusterId: A });
    expect((down as Error).message).toContain('ECONNREFUSED');
    expect(await errorOf(pollStep(client, A, stepId))).toMatchObject({ name: 'ClusterUnhealthyError', reason: 'unreachable', stepId });
    expect(await errorOf(submitStep(client, A, { name: 'after-stop', args: ['true'] }))).toMatchObject({
      name: 'ClusterUnhealthyError',
      reason: 'unreachable',
    });
    client.destroy();
  });
});

describe('local EMR with the default runner (spawns the step command)', () => {
  let local: LocalEmr;
  let emr: EMRClient;
  let fakeSparkSubmit: string;

  beforeAll(async () => {
    // stands in for spark-submit: prints the args it got, and the script it was given
    fakeSparkSubmit = join(workDir, 'fake-spark-submit');
    await writeFile(fakeSparkSubmit, '#!/bin/sh\necho "ARGS: $*"\n');
    await chmod(fakeSparkSubmit, 0o755);
    local = await startLocalEmr({ clusters: [{ id: A, name: 'default-runner' }], s3, region: REGION, sparkSubmit: fakeSparkSubmit, sparkMaster: 'local[2]' });
    emr = new EMRClient({ endpoint: local.endpoint, region: REGION, credentials: CREDENTIALS });
  });
  afterAll(async () => {
    emr?.destroy();
    await local?.stop();
  });

  it('runs a real process over the staged paths and uploads its output', async () => {
    await putText('spawn/in/a.txt', 'hello');
    const { stepId } = await submitStep(emr, A, {
      name: 'spawn-ok-a1',
      args: [process.execPath, `s3://${BUCKET}/scripts/job.mjs`, `s3://${BUCKET}/spawn/in/`, `s3://${BUCKET}/spawn/out/`, 'p'],
    });
    await waitForStep(emr, A, stepId);
    expect(await readObjectText(s3, BUCKET, 'spawn/out/part-p.txt')).toBe('a.txt:HELLO');
    const record = local.steps(A).find((s) => s.id === stepId)!;
    expect(await readFile(join(record.workDir!, 'stdout'), 'utf8')).toBe('read 1 files\n');
  });

  it('a non-zero exit ends the step FAILED with the exit code and the log tail', async () => {
    const { stepId } = await submitStep(emr, A, { name: 'spawn-fail-a1', args: [process.execPath, `s3://${BUCKET}/scripts/fail.mjs`] });
    const err = await errorOf(waitForStep(emr, A, stepId));
    expect(err).toBeInstanceOf(StepFailedError);
    const failed = err as StepFailedError;
    expect(failed.detail).toContain('exited with code 3');
    expect(failed.detail).toContain('Traceback: bad input row 7');
    expect(await readFile(failed.logFile!, 'utf8')).toContain('Traceback: bad input row 7');
    const described = await emr.send(new DescribeStepCommand({ ClusterId: A, StepId: stepId }));
    expect(described.Step!.Status).toMatchObject({ State: 'FAILED', FailureDetails: { Reason: 'Unknown Error.', LogFile: failed.logFile } });
  });

  it('a command that cannot start fails the step', async () => {
    const { stepId } = await submitStep(emr, A, { name: 'spawn-missing-a1', args: ['/nonexistent/command'] });
    const err = await errorOf(waitForStep(emr, A, stepId));
    expect(err).toMatchObject({ name: 'StepFailedError', detail: expect.stringContaining('cannot run /nonexistent/command') });
  });

  it('spark-submit runs through options.sparkSubmit with a local master instead of YARN cluster mode', async () => {
    const { stepId } = await submitStep(emr, A, {
      name: 'spark-clean-a1',
      args: [
        'spark-submit',
        '--deploy-mode',
        'cluster',
        '--master',
        'yarn',
        '--conf',
        'spark.sql.adaptive.enabled=true',
        `s3://${BUCKET}/scripts/job.mjs`,
        '--stage',
        'clean',
        '--deploy-mode',
        'kept',
      ],
    });
    await waitForStep(emr, A, stepId);
    const record = local.steps(A).find((s) => s.id === stepId)!;
    const script = join(record.workDir!, 's3', BUCKET, 'scripts', 'job.mjs');
    expect(await readFile(join(record.workDir!, 'stdout'), 'utf8')).toBe(
      `ARGS: --master local[2] --conf spark.sql.adaptive.enabled=true ${script} --stage clean --deploy-mode kept\n`,
    );
  });

  it('CancelSteps on a running step kills it; pollStep reports a StepFailedError (CANCELLED)', async () => {
    const { stepId } = await submitStep(emr, A, { name: 'spawn-slow-a1', args: [process.execPath, `s3://${BUCKET}/scripts/slow.mjs`] });
    while ((await pollStep(emr, A, stepId)).state !== 'RUNNING') await sleep(20);
    await sleep(200); // let the process start
    const out = await emr.send(new CancelStepsCommand({ ClusterId: A, StepIds: [stepId] }));
    expect(out.CancelStepsInfoList).toEqual([{ StepId: stepId, Status: 'SUBMITTED' }]);
    const err = await errorOf(waitForStep(emr, A, stepId, 10_000));
    expect(err).toMatchObject({ name: 'StepFailedError', reason: 'CANCELLED', stepState: 'CANCELLED' });
    await local.idle(10_000);
  });
});
